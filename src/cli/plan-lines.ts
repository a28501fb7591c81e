/**
 * What the CLI prints before a run starts, from the run's plan: the sizes (the model, its blocks,
 * the calibration windows, the evaluation windows of each text), the estimated GPU and host memory
 * and the estimated time on this adapter; a note when --eval-windows asks for more windows than a
 * text has; and a warning when the evaluation is estimated long, with the --eval-windows that
 * would make it short. The time is the studio's estimate (src/core/time-model.ts estimateRunTime) on the adapter's measured speed
 * (src/engine/adapter-speed.ts measureAdapter), so the CLI and the studio say the same. Pure: no GPU, no file system.
 */
import { longEvaluation, longEvaluationText } from '../core/long-evaluation';
import { counted } from '../core/plural';
import { estimateRunTime, evaluationWindowCounts, type AdapterSpeed, type ModelShape, type TimeEstimate } from '../core/time-model';
import { sizeText } from './free-space';
import { seconds } from './progress';

/** The sizes of a run as the CLI read them (the texts tokenized, the settings resolved). */
export interface PlanSizes {
  model: { name: string; arch: string; blocks: number };
  settings: { nsamples: number; seqlen: number; trueSequential: boolean };
  /** Tokens of the calibration text. */
  calibrationTokens: number;
  /** Each evaluation text: its name and its tokens. */
  evaluations: { name: string; tokens: number }[];
  /** --eval-windows: at most this many windows of each text; null for all. */
  evalWindowLimit: number | null;
}

/** Windows of each evaluation text: all the text has, and those the run evaluates (at most --eval-windows). */
function windowCounts(p: Pick<PlanSizes, 'settings' | 'evaluations' | 'evalWindowLimit'>): { name: string; available: number; used: number }[] {
  const tokens = p.evaluations.map((e) => e.tokens);
  const available = evaluationWindowCounts(tokens, p.settings.seqlen, null);
  const used = evaluationWindowCounts(tokens, p.settings.seqlen, p.evalWindowLimit);
  return p.evaluations.map((e, i) => ({ name: e.name, available: available[i], used: used[i] }));
}

/**
 * "plan: stories260K (llama, 5 blocks), calibration 4 windows of 64 tokens from a text of 29000,
 * evaluation eval.txt 9 windows of 64 tokens, each scored by the original, RTN and GPTQ models".
 */
export function sizesLine(p: PlanSizes): string {
  const { nsamples, seqlen } = p.settings;
  const of = `of ${counted(seqlen, 'token')}`;
  const texts = windowCounts(p).map((e) =>
    e.used < e.available ? `${e.name} the first ${e.used} of its ${counted(e.available, 'window')} ${of}` : `${e.name} ${counted(e.used, 'window')} ${of}`);
  return `plan: ${p.model.name} (${p.model.arch}, ${counted(p.model.blocks, 'block')}), ` +
    `calibration ${counted(nsamples, 'window')} ${of} from a text of ${counted(p.calibrationTokens, 'token')}, ` +
    `evaluation ${texts.join(' and ')}, each scored by the original, RTN and GPTQ models`;
}

/**
 * For each text with fewer windows than --eval-windows asks for:
 * "--eval-windows 99999999: eval.txt has 14259 windows of 128 tokens; evaluating all 14259".
 */
export function evalWindowsNotes(p: PlanSizes): string[] {
  if (p.evalWindowLimit === null) return [];
  const limit = p.evalWindowLimit;
  return windowCounts(p)
    .filter((e) => e.available < limit)
    .map((e) => `--eval-windows ${limit}: ${e.name} has ${counted(e.available, 'window')} of ${counted(p.settings.seqlen, 'token')}; evaluating all ${e.available}`);
}

/** The run's estimated time on an adapter of `speed` with at most `limit` windows of each text (the studio's estimate). */
export function estimateRun(shape: ModelShape, p: PlanSizes, speed: AdapterSpeed, limit = p.evalWindowLimit): TimeEstimate {
  return estimateRunTime(shape, speed, p.settings, p.evaluations.map((e) => e.tokens), limit);
}

/** "about 2m05s (quantization 1m40s, evaluation 25.0s)", the studio's estimate in the CLI's units. */
export function timeText(t: TimeEstimate): string {
  return `about ${seconds(t.total)} (quantization ${seconds(t.quantization)}, evaluation ${seconds(t.evaluation)})`;
}

export interface PlanResources {
  /** Estimated peak GPU memory and the budget it is checked against (bytes), and the budget's flag in words. */
  gpu: { bytes: number; budget: string };
  host: { bytes: number; budget: string };
  /** The estimate on this adapter; null when the adapter could not be timed. */
  time: TimeEstimate | null;
  speed: AdapterSpeed | null;
  /** A --target-bpw run: the sensitivity map's pass runs first, and the estimate is of the run after it. */
  mixed?: boolean;
}

/**
 * "plan: GPU memory about 3 MiB (--gpu-memory 4096 MiB), host memory about 121 MiB (of the
 * machine's 15.6 GiB); time about 12.3s (quantization 8.1s, evaluation 4.2s) on this adapter, its
 * GEMM measured at 4.71 GFLOP/s".
 */
export function resourcesLine(r: PlanResources): string {
  const memory = `GPU memory about ${sizeText(r.gpu.bytes)} (${r.gpu.budget}), host memory about ${sizeText(r.host.bytes)} (${r.host.budget})`;
  let time: string;
  if (r.time === null || r.speed === null) {
    time = 'time not estimated (the adapter could not be timed)';
  } else {
    const rate = `on this adapter, its GEMM measured at ${r.speed.gflops.toPrecision(3)} GFLOP/s`;
    time = r.mixed
      ? `time ${timeText(r.time)} for the run after the sensitivity map's pass, which is not estimated (it runs GPTQ on every linear at 2, 3, 4 and 8 bits), ${rate}`
      : `time ${timeText(r.time)} ${rate}`;
  }
  return `plan: ${memory}; ${time}`;
}

/**
 * The studio's warning of a long evaluation (src/core/long-evaluation.ts), with the --eval-windows
 * that would keep it short, in the CLI's units; null when the evaluation is not long. The CLI never
 * asks: the run goes on as given.
 */
export function longEvaluationWarning(shape: ModelShape, p: PlanSizes, speed: AdapterSpeed): string | null {
  const long = longEvaluation(shape, speed, p.settings, p.evaluations.map((e) => e.tokens), p.evalWindowLimit);
  return long && longEvaluationText(long, (limit) => `--eval-windows ${limit}`, seconds);
}
