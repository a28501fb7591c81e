/**
 * The divergence of a quantized model's next-token distributions from the original's, per token,
 * from two logits chunks of the same tokens (shaders/divergence.wgsl): KL(P ‖ Q), top-1
 * agreement, P(target) and Q(target), written as 4 floats per token. The logits are never read back.
 */
import source from '../../../shaders/divergence.wgsl?raw';
import { defineKernel } from '../kernel';
import { ParamStruct } from '../params';
import type { Recorder } from '../recorder';
import type { GpuMatrix } from '../matrix';

/** Invocations per row (one workgroup reduces one row over the vocabulary). */
export const DIVERGENCE_WG = 64;
/** Floats per token in the output: KLD, agree (0/1), P(target), Q(target). */
export const DIVERGENCE_FIELDS = 4;
const MAX_GROUPS = 65535;

const divergenceKernel = defineKernel({
  name: 'eval.divergence',
  source,
  entryPoint: 'main',
  params: new ParamStruct('DivergenceParams', { rows: 'u32', cols: 'u32', ld: 'u32', outBase: 'u32', rowsPerY: 'u32' }),
  storage: ['read', 'read', 'read', 'rw'],
});

/**
 * Records the divergence of the rows of `quantized` from those of `original` (both [rows, vocab],
 * same ld, each bound whole: callers size chunks to one binding). Row r is token outBase + r:
 * its target is targets[outBase + r] (NO_TARGET or ≥ vocab gives probabilities 0) and its four
 * values go to out[4·(outBase + r) …]. Throws when the two chunks differ in shape.
 */
export function encodeDivergence(rec: Recorder, original: GpuMatrix, quantized: GpuMatrix, targets: GPUBuffer, out: GPUBuffer, outBase: number): void {
  if (original.rows !== quantized.rows || original.cols !== quantized.cols || original.ld !== quantized.ld) {
    throw new RangeError(`divergence: logits chunks of ${original.rows}×${original.cols} (ld ${original.ld}) and ${quantized.rows}×${quantized.cols} (ld ${quantized.ld}) differ`);
  }
  const rowsPerY = Math.min(original.rows, MAX_GROUPS);
  rec.dispatch(
    divergenceKernel,
    { WG: DIVERGENCE_WG },
    { rows: original.rows, cols: original.cols, ld: original.ld, outBase, rowsPerY },
    [{ buffer: original.buffer }, { buffer: quantized.buffer }, { buffer: targets }, { buffer: out }],
    [rowsPerY, Math.ceil(original.rows / rowsPerY)],
  );
}
