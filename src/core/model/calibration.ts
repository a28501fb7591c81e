/**
 * Token windows for calibration and evaluation, as IST-DASLab/gptq datautils.py draws them:
 *   random.seed(seed); per sample i = random.randint(0, len(ids) − seqlen − 1); window ids[i : i + seqlen]
 * and as its evaluation slices them: non-overlapping windows of seqlen, the last partial one dropped.
 */
import type { ModelConfig } from './config';
import { assertSequenceFits, defaultSeqlen } from './config';
import { PythonRandom } from './python-random';
import type { TextTokenizer } from './tokenizer';

export interface CalibrationOptions {
  /** Number of windows (default 128). */
  nsamples?: number;
  /** Tokens per window (default min(2048, model context)). */
  seqlen?: number;
  /** Python random.seed value (default 0). */
  seed?: number;
}

export const DEFAULT_NSAMPLES = 128;
export const DEFAULT_SEED = 0;

/** Calibration or evaluation text → ids, without BOS/EOS (the reference adds none to running text). */
export function textToIds(tokenizer: TextTokenizer, text: string): number[] {
  return tokenizer.encode(text, { addSpecialTokens: false });
}

/**
 * Throws a RangeError when a token id is outside the model's vocabulary [0, vocabSize): a
 * tokenizer can give ids the embedding has no row for (added tokens are the usual way), and the
 * model must not be run on them. `what` names the text, e.g. "the calibration text".
 */
export function assertIdsInVocabulary(ids: readonly number[], vocabSize: number, tokenizer: Pick<TextTokenizer, 'tokenOf'>, what: string): void {
  let bad = -1;
  let count = 0;
  for (const id of ids) {
    if (!(id >= 0 && id < vocabSize)) {
      if (bad < 0) bad = id;
      count++;
    }
  }
  if (bad < 0) return;
  const token = tokenizer.tokenOf(bad);
  throw new RangeError(`${what} has the token ${token === undefined ? '(unnamed)' : JSON.stringify(token)} (id ${bad})` +
    `${count > 1 ? ` and ${count - 1} more token${count > 2 ? 's' : ''}` : ''} outside the model's vocabulary of ${vocabSize} ` +
    `(ids 0–${vocabSize - 1}): the tokenizer has tokens the model has no embedding for (added tokens?). Remove ` +
    'them from the text, or use the tokenizer that belongs to this model.');
}

function checkSeqlen(seqlen: number): void {
  if (!Number.isSafeInteger(seqlen) || seqlen < 1) throw new RangeError(`seqlen must be a positive integer, got ${seqlen}`);
}

/** nsamples windows of seqlen ids at seeded random offsets; windows may overlap. */
export function calibrationWindows(
  ids: readonly number[],
  nsamples: number,
  seqlen: number,
  seed = DEFAULT_SEED,
): number[][] {
  checkSeqlen(seqlen);
  if (!Number.isSafeInteger(nsamples) || nsamples < 1) {
    throw new RangeError(`nsamples must be a positive integer, got ${nsamples}`);
  }
  if (ids.length < seqlen + 1) {
    throw new RangeError(`the calibration text gives ${ids.length} tokens; a window of seqlen ${seqlen} needs at ` +
      `least ${seqlen + 1}: use a longer text or a smaller seqlen`);
  }
  const random = new PythonRandom(seed);
  const windows: number[][] = [];
  for (let s = 0; s < nsamples; s++) {
    const i = random.randint(0, ids.length - seqlen - 1);
    windows.push(ids.slice(i, i + seqlen));
  }
  return windows;
}

/** Non-overlapping windows of seqlen ids from the start; the last partial window is dropped. */
export function evaluationWindows(ids: readonly number[], seqlen: number): number[][] {
  checkSeqlen(seqlen);
  if (ids.length < seqlen) {
    throw new RangeError(`the evaluation text gives ${ids.length} tokens, fewer than one window of seqlen ` +
      `${seqlen}: use a longer text or a smaller seqlen`);
  }
  const windows: number[][] = [];
  for (let i = 0; i + seqlen <= ids.length; i += seqlen) windows.push(ids.slice(i, i + seqlen));
  return windows;
}

/** Settings with defaults filled in and checked against the model. */
export function resolveCalibration(config: ModelConfig, options: CalibrationOptions = {}): Required<CalibrationOptions> {
  const resolved = {
    nsamples: options.nsamples ?? DEFAULT_NSAMPLES,
    seqlen: options.seqlen ?? defaultSeqlen(config),
    seed: options.seed ?? DEFAULT_SEED,
  };
  assertSequenceFits(config, resolved.seqlen);
  return resolved;
}

/** text → ids → calibration windows, with defaults from the model. */
export function calibrationFromText(
  tokenizer: TextTokenizer,
  config: ModelConfig,
  text: string,
  options: CalibrationOptions = {},
): { ids: number[]; windows: number[][]; settings: Required<CalibrationOptions> } {
  const settings = resolveCalibration(config, options);
  const ids = textToIds(tokenizer, text);
  return { ids, windows: calibrationWindows(ids, settings.nsamples, settings.seqlen, settings.seed), settings };
}

/**
 * A warning when the calibration has fewer tokens (nsamples × seqlen) than the widest quantized
 * linear has input columns, or null. H = 2·X·Xᵀ over the calibration tokens (IST-DASLab/gptq
 * gptq.py, add_batch) has rank at most the number of tokens, so for such a linear H is singular
 * but for the damping, and GPTQ's error feedback through Hinv can do worse than RTN. `linears`:
 * the quantized linears of a block (name and input columns); `maxPositions`: the model's context,
 * the longest window there is.
 */
export function calibrationRankWarning(
  linears: readonly { name: string; in: number }[],
  settings: { nsamples: number; seqlen: number },
  maxPositions: number,
): string | null {
  if (linears.length === 0) return null;
  const widest = linears.reduce((a, b) => (b.in > a.in ? b : a));
  const { nsamples, seqlen } = settings;
  const tokens = nsamples * seqlen;
  if (tokens >= widest.in) return null;
  const windows = Math.ceil(widest.in / seqlen);
  const longer = Math.ceil(widest.in / nsamples);
  return `the calibration has ${tokens} tokens (${nsamples} × ${seqlen}), fewer than the ${widest.in} input columns of ` +
    `${widest.name}: its Hessian has rank at most ${tokens}, so GPTQ works on a damped, singular H there and can do worse ` +
    `than RTN. Use more calibration windows (nsamples, now ${nsamples}; at least ${windows} at this length)` +
    (longer <= maxPositions ? ` or longer ones (seqlen, now ${seqlen}; at least ${longer} with ${nsamples} windows)` : '');
}
