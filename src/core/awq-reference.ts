/**
 * Activation-aware scaling (AWQ, Lin et al. 2023) in f64, as mit-han-lab/llm-awq's
 * awq/quantize/auto_scale.py searches it for a group of linears that read the same input X
 * [tokens, cols] (q/k/v after the attention norm, gate/up after the MLP norm, or one linear):
 *   x̄_c = mean_t |X[t, c]|                                   (get_act_scale)
 *   for α in {0, 1/20, …, 19/20}:
 *     s = max(x̄^α, 1e-4);  s ← s / √(max s · min s)
 *     Ŵ_l = RTN(W_l · diag(s)) · diag(s)⁻¹                   (each linear of the group, on its grid)
 *     err(α) = Σ_l ‖(W_l − Ŵ_l) Xᵀ‖²
 *   α* = the first α of least error (α = 0 is plain RTN, so AWQ never does worse on err).
 * One difference from llm-awq: err is the summed output error of the group's own linears, where
 * llm-awq measures the output of the module that holds them (the attention block for q/k/v, the
 * MLP for gate/up); for a single linear the two are the same.
 */
import { rtnReference } from './rtn';
import type { Matrix } from './quantizer';
import type { QuantOptions, QuantResult } from './types';

/** Grid points of α in [0, 1), as llm-awq's n_grid. */
export const AWQ_GRID = 20;
/** Smallest scale before the normalisation (llm-awq's clamp). */
export const AWQ_MIN_SCALE = 1e-4;

/** α of grid point i. */
export const awqAlpha = (i: number) => i / AWQ_GRID;

/** mean_t |X[t, c]| for X [tokens, cols]: the input channels' activation scale. */
export function activationScale(X: Matrix, tokens: number, cols: number): Float64Array {
  const out = new Float64Array(cols);
  for (let t = 0; t < tokens; t++) for (let c = 0; c < cols; c++) out[c] += Math.abs(X[t * cols + c]);
  for (let c = 0; c < cols; c++) out[c] /= tokens;
  return out;
}

/** The per-channel scales s of exponent α from activation scales x̄ [cols] (see the module comment). */
export function awqScales(xbar: ArrayLike<number>, alpha: number): Float64Array {
  const s = Float64Array.from(xbar, (x) => Math.max(x ** alpha, AWQ_MIN_SCALE));
  let max = -Infinity;
  let min = Infinity;
  for (const v of s) {
    max = Math.max(max, v);
    min = Math.min(min, v);
  }
  const norm = Math.sqrt(max * min);
  for (let c = 0; c < s.length; c++) s[c] /= norm;
  return s;
}

export interface AwqLinear {
  /** [rows, cols] */
  W: Matrix;
  rows: number;
}

export interface AwqResult {
  /** Grid point chosen (α = index / AWQ_GRID). */
  index: number;
  alpha: number;
  /** s [cols] at α. */
  s: Float64Array;
  /** err(α) at every grid point. */
  errors: number[];
  /** Per linear: the RTN result of W·diag(s) (codes, scales, zeros on the scaled grid) and Ŵ [rows, cols]. */
  linears: { scaled: QuantResult; What: Float64Array }[];
}

function scaledColumns(W: Matrix, rows: number, cols: number, s: ArrayLike<number>, divide: boolean): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[r * cols + c] = divide ? W[r * cols + c] / s[c] : W[r * cols + c] * s[c];
  return out;
}

/** Σ ‖(W − Ŵ) Xᵀ‖² in f64. */
export function outputSquaredError(W: Matrix, What: Matrix, X: Matrix, rows: number, cols: number, tokens: number): number {
  const D = new Float64Array(cols);
  let sum = 0;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) D[c] = W[r * cols + c] - What[r * cols + c];
    for (let t = 0; t < tokens; t++) {
      let y = 0;
      for (let c = 0; c < cols; c++) y += D[c] * X[t * cols + c];
      sum += y * y;
    }
  }
  return sum;
}

/**
 * The AWQ search for linears that read X [tokens, cols], each quantized on the grid of `options`
 * (bits, groupSize, sym, mse; RTN). Throws on an empty group or shapes that disagree.
 */
export function awqReference(linears: readonly AwqLinear[], X: Matrix, tokens: number, cols: number, options: Partial<QuantOptions>): AwqResult {
  if (linears.length === 0) throw new RangeError('AWQ needs at least one linear');
  for (const l of linears) {
    if (l.W.length !== l.rows * cols) throw new RangeError(`a linear of ${l.W.length} weights is not ${l.rows}×${cols}`);
  }
  if (X.length !== tokens * cols) throw new RangeError(`X has ${X.length} values, expected ${tokens}×${cols}`);
  const xbar = activationScale(X, tokens, cols);
  const errors: number[] = [];
  let best: AwqResult | null = null;
  for (let i = 0; i < AWQ_GRID; i++) {
    const s = awqScales(xbar, awqAlpha(i));
    const results = linears.map((l) => {
      const scaled = rtnReference(scaledColumns(l.W, l.rows, cols, s, false), l.rows, cols, options);
      return { scaled, What: scaledColumns(scaled.Q, l.rows, cols, s, true) };
    });
    const err = linears.reduce((sum, l, j) => sum + outputSquaredError(l.W, results[j].What, X, l.rows, cols, tokens), 0);
    errors.push(err);
    if (!best || err < best.errors[best.index]) best = { index: i, alpha: awqAlpha(i), s, errors, linears: results };
  }
  return { ...best!, errors };
}
