/**
 * Activation-aware scaling (AWQ) on the GPU for a group of linears that read the same captured
 * input X [tokens, cols]: the search of src/core/awq-reference.ts (llm-awq's auto_scale), each
 * grid point's RTN of W·diag(s), its unscaling and its output error computed in WGSL in one
 * command stream, the errors read back once. The chosen scales' RTN result is then made by the
 * RTN kernels on W·diag(s) and unscaled on the host: Ŵ = Q·diag(s)⁻¹.
 *
 * Which linears share a scale, and where a GPTQ-format file would have to fold diag(s)⁻¹ (the op
 * before them), follows llm-awq's table (awqScaledSets). The studio measures AWQ for comparison
 * only: folding the scales into norms and earlier linears is not done, so no AWQ file is written.
 */
import type { GpuRuntime } from '../gpu/runtime';
import type { GpuMatrix } from '../gpu/matrix';
import { codesLayout, encodeGroupParams, encodeRtn } from '../gpu/kernels/quantize';
import { encodeOutputError, outputErrorChunk } from '../gpu/kernels/output-error';
import { encodeColumnAbsSums, encodeScaleColumns } from '../gpu/kernels/scale';
import { effectiveGroupSize } from '../core/groups';
import { groupCount, type QuantOptions, type QuantResult } from '../core/types';
import { AWQ_GRID, awqAlpha, awqScales } from '../core/awq-reference';
import { halfScaled } from '../core/export/f16';
import { GptqLayer } from './gptq-layer';
import type { BlockLayout } from '../core/model/architecture';

/** A set of linears AWQ scales together, and the op before them that would absorb diag(s)⁻¹. */
export interface AwqScaledSet {
  linears: string[];
  /** The op whose output the linears read: a norm (exact fold), a linear's rows, or an activation. */
  foldInto: string;
}

/**
 * llm-awq's scaled sets (auto_scale_block) read off a block's description: the q/k/v projections
 * (or the fused one) after the attention norm; the output projection after v's rows (only with
 * separate q/k/v and every head having its own k/v head, as llm-awq requires); gate/up (or the
 * plain MLP's up) after the MLP norm; down after up's rows when the MLP is gated or its activation
 * is ReLU (positively homogeneous), else after the activation (llm-awq's ScaledActivation, as for
 * GPT-2/BigCode). Linears in no set are rounded as they are (α = 0).
 */
export function awqScaledSets(block: BlockLayout, heads: number, kvHeads: number): AwqScaledSet[] {
  const { attention: A, mlp, attnNorm, mlpNorm } = block;
  // Post-LN (OPT's do_layer_norm_before false): the block's input is the previous sublayer's norm output.
  const post = block.normPlacement === 'post';
  const sets: AwqScaledSet[] = [{ linears: [...A.qkv], foldInto: post ? `the previous block's ${mlpNorm.name} (post-LN)` : attnNorm.name }];
  if (A.qkv.length === 3 && heads === kvHeads) sets.push({ linears: [A.o], foldInto: `${A.qkv[2]} (its rows)` });
  sets.push({ linears: mlp.gate ? [mlp.gate, mlp.up] : [mlp.up], foldInto: post ? `${attnNorm.name} (post-LN)` : mlpNorm.name });
  const rowFold = mlp.gate !== null || mlp.fused || mlp.activation === 'relu';
  sets.push({ linears: [mlp.down], foldInto: rowFold ? `${mlp.up} (${mlp.fused ? 'its up rows' : 'its rows'})` : `the ${mlp.activation} (a scaled activation)` });
  return sets;
}

export interface AwqInputLinear {
  name: string;
  /** The linear's weights [rows, cols] on the GPU, read only. */
  W: GpuMatrix;
  /** The same weights on the host. */
  hostW: Float32Array;
}

export interface AwqLinearResult {
  /** RTN of W·diag(s): codes, scales and zeros on the scaled grid (scales F16 with halfScales). */
  scaled: QuantResult;
  /** Ŵ = Q·diag(s)⁻¹ [rows, cols], f32: the weight the AWQ model uses. */
  What: Float32Array;
}

export interface AwqGroupResult {
  /** Grid point chosen; α = index / AWQ_GRID. */
  index: number;
  alpha: number;
  /** s [cols] at α. */
  s: Float32Array;
  /** Σ_l ‖(W_l − Ŵ_l) Xᵀ‖² at every grid point (f32 partial sums). */
  errors: number[];
  linears: Map<string, AwqLinearResult>;
}

export type AwqGrid = Pick<QuantOptions, 'bits' | 'groupSize' | 'sym' | 'mse'>;

/**
 * The AWQ search and result for `linears` (all [·, X.cols]) on inputs X [tokens, cols]. With
 * `alphaIndex`, no search: that grid point is used (0 gives plain RTN). With `halfScales`, each
 * result keeps its scales as an F16 file would (src/core/export/f16.ts halfScaled) before unscaling.
 */
export async function awqGroup(
  rt: GpuRuntime,
  label: string,
  linears: readonly AwqInputLinear[],
  X: GpuMatrix,
  grid: AwqGrid,
  options: { halfScales?: boolean; alphaIndex?: number } = {},
): Promise<AwqGroupResult> {
  if (linears.length === 0) throw new RangeError(`${label}: AWQ needs at least one linear`);
  const cols = X.cols;
  for (const l of linears) {
    if (l.W.cols !== cols || l.hostW.length !== l.W.rows * cols) throw new RangeError(`${label}: ${l.name} is not [${l.W.rows}, ${cols}]`);
  }
  const limit = rt.bindingLimit;
  const owned: (GPUBuffer | GpuMatrix)[] = [];
  const buf = (bytes: number, what: string) => {
    const b = rt.storage(bytes, `${label}.awq.${what}`);
    owned.push(b);
    return b;
  };
  try {
    // x̄ = mean_t |X[t, c]|.
    const sums = buf(cols * 4, 'absSums');
    let rec = rt.recorder(`${label}.awq.actScale`);
    rec.clear(sums);
    encodeColumnAbsSums(rec, X, sums, limit);
    rec.finish();
    const xbar = Float64Array.from(await rt.readF32(sums, 0, cols), (v) => v / X.rows);
    const points = options.alphaIndex === undefined ? Array.from({ length: AWQ_GRID }, (_, i) => i) : [options.alphaIndex];
    const scales = points.map((i) => Float32Array.from(awqScales(xbar, awqAlpha(i))));

    let k = 0;
    const errors: number[] = [];
    if (points.length > 1) {
      // Every grid point in one stream: scale, group parameters, RTN, unscale, output error.
      const maxRows = Math.max(...linears.map((l) => l.W.rows));
      const scratch = (what: string) => {
        const m = rt.matrix(maxRows, cols, `${label}.awq.${what}`);
        owned.push(m);
        return m;
      };
      const Ws = scratch('Ws');
      const Q = scratch('Q');
      const Qe = scratch('Qhat');
      const E = rt.matrix(outputErrorChunk(maxRows, X.rows, limit), maxRows, `${label}.awq.E`);
      owned.push(E);
      const G = groupCount(cols, grid.groupSize);
      const gs = effectiveGroupSize(cols, grid.groupSize);
      const codes = buf(codesLayout(Ws).bytes, 'codes');
      const gScales = buf(G * maxRows * 4, 'scales');
      const gZeros = buf(G * maxRows * 4, 'zeros');
      const partials: { buffer: GPUBuffer; count: number }[][] = [];
      rec = rt.recorder(`${label}.awq.search`);
      for (const [k, s] of scales.entries()) {
        const sBuf = buf(cols * 4, `s${k}`);
        rt.upload(sBuf, 0, s);
        const row: { buffer: GPUBuffer; count: number }[] = [];
        for (const l of linears) {
          const rows = l.W.rows;
          const view = (m: GpuMatrix) => ({ ...m, rows });
          encodeScaleColumns(rec, l.W, view(Ws), sBuf, false, limit);
          encodeGroupParams(rec, view(Ws), grid, gs, 0, G, gScales, gZeros, limit);
          encodeRtn(rec, view(Ws), view(Q), codes, grid.bits, gs, gScales, gZeros, limit);
          encodeScaleColumns(rec, view(Q), view(Qe), sBuf, true, limit);
          const count = X.rows;
          const partial = buf(count * 4, `err${k}.${l.name}`);
          encodeOutputError(rec, l.W, view(Qe), X, E, partial, limit);
          row.push({ buffer: partial, count });
        }
        partials.push(row);
      }
      // Gathered into one buffer: a single read for the whole search.
      const total = partials.flat().reduce((n, p) => n + p.count, 0);
      const all = buf(total * 4, 'errors');
      let at = 0;
      for (const p of partials.flat()) {
        rec.copy(p.buffer, 0, all, at * 4, p.count * 4);
        at += p.count;
      }
      rec.finish();
      const sums = await rt.readF32(all, 0, total);
      at = 0;
      for (const row of partials) {
        let e = 0;
        for (const p of row) {
          for (let j = 0; j < p.count; j++) e += sums[at + j];
          at += p.count;
        }
        errors.push(e);
      }
      for (let j = 1; j < errors.length; j++) if (errors[j] < errors[k]) k = j;
    }
    const s = scales[k];
    const results = new Map<string, AwqLinearResult>();
    for (const l of linears) {
      const rows = l.W.rows;
      const Ws = new Float32Array(rows * cols);
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) Ws[r * cols + c] = l.hostW[r * cols + c] * s[c];
      const layer = new GptqLayer(rt, `${label}.awq.${l.name}`, Ws, rows, cols);
      let scaled: QuantResult;
      try {
        scaled = await layer.rtn(grid);
      } finally {
        layer.dispose();
      }
      if (options.halfScales) scaled = halfScaled(scaled);
      const What = new Float32Array(rows * cols);
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) What[r * cols + c] = scaled.Q[r * cols + c] / s[c];
      results.set(l.name, { scaled, What });
    }
    return { index: points[k], alpha: awqAlpha(points[k]), s, errors, linears: results };
  } finally {
    if (!rt.isLost) rt.release(...owned);
  }
}
