/**
 * The warning the CLI and the studio give before a run whose evaluation is estimated long: how
 * long, and the number of evaluation windows per text that would keep it short. One rule, one
 * wording; each front end names its own setting (`--eval-windows N`, the studio's "Windows per
 * text") and its own unit of time. Pure.
 */
import { counted } from './plural';
import { estimateRunTime, evaluationWindowCounts, type AdapterSpeed, type ModelShape, type RunSize, type TimeEstimate } from './time-model';

/** An evaluation this long (seconds, estimated) gets a warning when it is also longer than the quantization. */
export const LONG_EVALUATION_SECONDS = 300;
/** The suggested windows per text keep the evaluation within this many seconds, or the quantization's time if longer. */
export const SHORT_EVALUATION_SECONDS = 60;

/** A long evaluation, and the limit that shortens it. */
export interface LongEvaluation {
  /** Windows the run evaluates, over every text (each scored by the three models). */
  windows: number;
  /** The run's estimate as set. */
  estimate: TimeEstimate;
  /** The largest number of windows per text (the first ones of each) whose evaluation fits the target. */
  limit: number;
  /** The run's estimate with that limit. */
  shorter: TimeEstimate;
}

/**
 * When the run's evaluation is estimated at more than LONG_EVALUATION_SECONDS and longer than its
 * quantization: the largest limit of windows per text whose evaluation is estimated within
 * SHORT_EVALUATION_SECONDS or the quantization's time, whichever is longer (estimateRunTime, the
 * estimate both front ends show). Null when the evaluation is not long, or when no limit below
 * today's windows fits the target.
 *
 * @param size        calibration windows, their length (tokens) and true-sequential
 * @param evalTokens  tokens of each evaluation text
 * @param limit       windows per text the run evaluates now (null: all)
 * Throws as estimateRunTime does (a non-positive GEMM rate).
 */
export function longEvaluation(
  shape: ModelShape,
  speed: AdapterSpeed,
  size: Omit<RunSize, 'evalWindows'>,
  evalTokens: readonly number[],
  limit: number | null,
): LongEvaluation | null {
  const time = (l: number | null) => estimateRunTime(shape, speed, size, evalTokens, l);
  const estimate = time(limit);
  if (!(estimate.evaluation > LONG_EVALUATION_SECONDS && estimate.evaluation > estimate.quantization)) return null;
  const target = Math.max(SHORT_EVALUATION_SECONDS, estimate.quantization);
  const used = evaluationWindowCounts(evalTokens, size.seqlen, limit);
  // The largest limit whose evaluation fits the target (the evaluation grows with the limit).
  let lo = 1;
  let hi = Math.max(...used) - 1;
  if (hi < lo || time(lo).evaluation > target) return null;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (time(mid).evaluation <= target) lo = mid;
    else hi = mid - 1;
  }
  return { windows: used.reduce((s, n) => s + n, 0), estimate, limit: lo, shorter: time(lo) };
}

/**
 * "the evaluation of 14259 windows is estimated at 2h05m of the run's 2h07m; --eval-windows 40
 * would evaluate the first 40 of each text in about 21.0s (2m31s in all)": `setting(limit)` names
 * the setting as the front end spells it, `duration` writes seconds in its unit.
 */
export function longEvaluationText(w: LongEvaluation, setting: (limit: number) => string, duration: (seconds: number) => string): string {
  return `the evaluation of ${counted(w.windows, 'window')} is estimated at ${duration(w.estimate.evaluation)} of the run's ${duration(w.estimate.total)}; ` +
    `${setting(w.limit)} would evaluate the first ${w.limit} of each text in about ${duration(w.shorter.evaluation)} (${duration(w.shorter.total)} in all)`;
}
