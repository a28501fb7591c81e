/**
 * Output error of a quantized weight on given inputs: Σ_t,r ((W − Q)·Xᵀ)[r, t]², through the
 * tuned GEMM (gemm.ts) rather than a kernel of its own:
 *   1. D = W − Q, in place in Q (shaders/elementwise.wgsl, op subtractFrom): the difference is
 *      taken before the product, so an 8-bit Q close to W loses nothing to cancellation;
 *   2. E = X·Dᵀ [tokens, rows], a chunk of tokens at a time into a scratch E (encodeLinear);
 *   3. partial[t] = Σ_r E[t, r]², one partial sum per token (shaders/row_sqsum.wgsl).
 * Every sum is f32; the caller adds the partials in f64.
 */
import sqsumSource from '../../../shaders/row_sqsum.wgsl?raw';
import { defineKernel } from '../kernel';
import { ParamStruct } from '../params';
import type { Recorder } from '../recorder';
import { MAX_WINDOW_ROWS, matrixBytes, paddedLd, type GpuMatrix } from '../matrix';
import { ELEMENTWISE, encodeElementwise, encodeLinear } from './forward';

const SQSUM_WG = 64;
/** Bytes of the scratch E at most (a chunk of tokens), below the binding limit. */
export const OUTPUT_ERROR_CHUNK_BYTES = 32 << 20;

const sqsumKernel = defineKernel({
  name: 'output.rowSqsum',
  source: sqsumSource,
  entryPoint: 'main',
  params: new ParamStruct('RowSqsumParams', { rows: 'u32', ncols: 'u32', ld: 'u32', slot0: 'u32' }),
  storage: ['read', 'rw'],
});

/**
 * Tokens per chunk of the scratch E [chunk, rows] for a weight of `rows` rows and `tokens`
 * inputs: as many as fit min(OUTPUT_ERROR_CHUNK_BYTES, bindingLimit), at least 1, at most
 * `tokens` and MAX_WINDOW_ROWS (one workgroup per token in the reduction).
 */
export function outputErrorChunk(rows: number, tokens: number, bindingLimit: number): number {
  const rowBytes = paddedLd(rows) * 4;
  const fit = Math.floor(Math.min(OUTPUT_ERROR_CHUNK_BYTES, bindingLimit) / rowBytes);
  if (fit < 1) throw new RangeError(`output error: a row of ${rows} outputs does not fit a ${bindingLimit}-byte binding`);
  return Math.max(1, Math.min(fit, tokens, MAX_WINDOW_ROWS));
}

/** Bytes of the scratch E that encodeOutputError needs (see outputErrorChunk). */
export function outputErrorScratchBytes(rows: number, tokens: number, bindingLimit: number): number {
  return matrixBytes(outputErrorChunk(rows, tokens, bindingLimit), paddedLd(rows));
}

/**
 * Records partial[t] = Σ_r ((W − Q)·Xᵀ)[r, t]² for every token t < X.rows.
 * W, Q [rows, cols] with the same ld; X [tokens, cols]; E a scratch with E.ld ≥ paddedLd(rows)
 * and E.rows ≥ 1 tokens per chunk (see outputErrorChunk; E must fit one binding); partial
 * [≥ X.rows] f32. Q is overwritten with W − Q.
 * Throws RangeError on mismatched shapes.
 */
export function encodeOutputError(
  rec: Recorder,
  W: GpuMatrix,
  Q: GpuMatrix,
  X: GpuMatrix,
  E: GpuMatrix,
  partial: GPUBuffer,
  bindingLimit: number,
): void {
  if (Q.rows !== W.rows || Q.cols !== W.cols || Q.ld !== W.ld || X.cols !== W.cols || E.ld < W.rows || E.rows < 1) {
    throw new RangeError(`output error: W ${W.rows}×${W.cols}, Q ${Q.rows}×${Q.cols}, X ${X.rows}×${X.cols}, E ${E.rows}×${E.ld} do not match`);
  }
  // D = W − Q, in Q (partial stands in for the bias operand the op does not read).
  encodeElementwise(rec, { op: ELEMENTWISE.subtractFrom, y: Q, x: W, placeholder: partial }, bindingLimit);
  for (let t0 = 0; t0 < X.rows; t0 += E.rows) {
    const n = Math.min(E.rows, X.rows - t0);
    const chunk: GpuMatrix = { buffer: E.buffer, rows: n, cols: W.rows, ld: E.ld };
    encodeLinear(rec, X, Q, chunk, bindingLimit, t0);
    rec.dispatch(sqsumKernel, { WG: SQSUM_WG }, { rows: n, ncols: W.rows, ld: E.ld, slot0: t0 }, [{ buffer: E.buffer, size: matrixBytes(n, E.ld) }, { buffer: partial }], [n]);
  }
}
