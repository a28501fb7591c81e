/**
 * Which kernels a device runs where two compute the same thing, decided from timings measured on
 * that device (src/gpu/kernels/choices.ts), never from its name; and how the choice is reported
 * (report.json's `adapter.kernels`, the studio's adapter details).
 *
 * Attention in the full forward pass (capture, evaluation) has two kernels:
 *   - 'per-query': one invocation per (query, head) holding the head's output in an array of 256
 *     floats (shaders/attention.wgsl): fast on CPU adapters, but on GPUs that array lives in
 *     local (spilled) memory;
 *   - 'tiled': a workgroup per (8 queries, head), 64 keys at a time, no per-query array
 *     (shaders/attention_tiled.wgsl).
 * They sum in different orders, so their outputs differ in the last bits (stories260K's perplexity
 * on 4 windows of 100 tokens by 8e-9 relative). A device whose two timings are level must therefore
 * not pick one or the other by chance from one run to the next: the tiled kernel is taken only
 * when it is faster by a clear margin, TILED_ATTENTION_MARGIN.
 */

export type AttentionKernel = 'per-query' | 'tiled';

/**
 * The tiled kernel must take at most 1/1.25 of the per-query kernel's time on the probe to be
 * chosen. Eight probes in a row on Dawn/llvmpipe (2 cores shared with other work, load about 9)
 * gave tiled/per-query ratios of 1.29–1.72: about ±15% around their mean from one run to the next.
 * A margin of 25% is wider than that, so a device where the two are level keeps the per-query
 * kernel run after run, while a GPU where the per-query kernel's array spills to local memory
 * (the reason the tiled kernel exists: expected several times slower) still gets the tiled one.
 * A device whose ratio sits near 1.25 itself could still flip between runs; report.json records
 * the kernel and the probe's timings, so two runs that differ say why.
 */
export const TILED_ATTENTION_MARGIN = 1.25;

/**
 * The kernel the rule picks from the two kernels' times on the same probe (in one unit): 'tiled'
 * when tiledTime · margin ≤ perQueryTime, else 'per-query' (also when a time is NaN, or the tiled
 * one is not finite and positive). Infinity stands for a kernel that failed to compile: a failed
 * tiled kernel gives 'per-query', a failed per-query kernel 'tiled'.
 * Throws a RangeError for a margin below 1 or not finite.
 */
export function chooseAttentionKernel(perQueryTime: number, tiledTime: number, margin: number = TILED_ATTENTION_MARGIN): AttentionKernel {
  if (!(margin >= 1 && Number.isFinite(margin))) throw new RangeError(`the margin must be a finite number ≥ 1, not ${margin}`);
  const tiledClear = Number.isFinite(tiledTime) && tiledTime > 0 && tiledTime * margin <= perQueryTime;
  return tiledClear ? 'tiled' : 'per-query';
}

/** The attention probe: the shape timed and each kernel's best time on it. */
export interface AttentionProbe {
  /** Sequences of `seqlen` tokens, query/kv heads of headDim, dispatched `repeats` times per timing. */
  shape: { sequences: number; seqlen: number; heads: number; kvHeads: number; headDim: number; repeats: number };
  /** Best wall-clock milliseconds of each kernel (submit to completion); null when it failed to compile. */
  perQueryMs: number | null;
  tiledMs: number | null;
}

/** The full forward's attention kernel on a device, and why. */
export interface AttentionChoice {
  kernel: AttentionKernel;
  /** The margin the tiled kernel had to beat (TILED_ATTENTION_MARGIN). */
  margin: number;
  /** The timings it was chosen from; null when the device was not probed (or the probe failed: then 'per-query'). */
  probe: AttentionProbe | null;
}

/** The choice before any probe (and after a failed one): the per-query kernel. */
export const UNPROBED_ATTENTION: AttentionChoice = { kernel: 'per-query', margin: TILED_ATTENTION_MARGIN, probe: null };

/** The kernels a device runs, as reported (report.json `adapter.kernels`, the studio's adapter details). */
export interface KernelChoices {
  /** The GEMM kernel (src/gpu/kernels/gemm.ts GEMM_VARIANTS' name) encodeGemm uses on the device. */
  gemm: string;
  attention: AttentionChoice;
}

/**
 * The choice in words, for display: e.g. "per-query kernel (per-query 12.3 ms, tiled 15.1 ms on
 * 1 × 64 tokens, 4/2 heads of 64; the tiled one only when 1.25× faster)".
 */
export function describeAttentionChoice(c: AttentionChoice): string {
  if (!c.probe) return `${c.kernel} kernel (not timed on this device)`;
  const ms = (x: number | null) => (x === null ? 'failed to compile' : `${x >= 100 ? x.toFixed(0) : x.toPrecision(3)} ms`);
  const { perQueryMs, tiledMs, shape: s } = c.probe;
  const times = s.repeats > 1 ? `, ${s.repeats} times` : '';
  return `${c.kernel} kernel (per-query ${ms(perQueryMs)}, tiled ${ms(tiledMs)} on ${s.sequences} × ${s.seqlen} tokens, ` +
    `${s.heads}/${s.kvHeads} heads of ${s.headDim}${times}; the tiled one only when ${c.margin}× faster)`;
}
