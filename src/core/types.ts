/**
 * Options and results shared by the f64 reference (src/core) and the GPU engine (src/engine).
 * Names follow IST-DASLab/gptq: bits, groupsize, sym, actorder, static_groups, percdamp, blocksize.
 */

export interface QuantOptions {
  /** Bits per weight, 2..8. maxq = 2^bits − 1. */
  bits: number;
  /** Columns per group; −1 means one group per row (per-channel). */
  groupSize: number;
  /** Symmetric grid (zero = 2^(bits−1)) or asymmetric (zero = round(−xmin/scale)). */
  sym: boolean;
  /** MSE clipping search over shrunk ranges (norm 2.4, grid 100, max shrink 0.8). */
  mse: boolean;
  /** Quantize columns in order of decreasing diag(H). */
  actOrder: boolean;
  /** Find all group parameters up front, on the original column order. */
  staticGroups: boolean;
  /** Damping as a fraction of mean(diag(H)). */
  percDamp: number;
  /** Columns per lazy-update block. */
  blockSize: number;
}

export const defaultQuantOptions: QuantOptions = {
  bits: 4,
  groupSize: -1,
  sym: true,
  mse: false,
  actOrder: false,
  staticGroups: false,
  percDamp: 0.01,
  blockSize: 128,
};

/** The MSE clipping search's constants, as in the reference's Quantizer.configure(). */
export const MSE_SEARCH = { norm: 2.4, grid: 100, maxShrink: 0.8 } as const;

/**
 * Damping schedule when Cholesky finds H not positive definite: the damping fraction is raised
 * by `step` and the factorisation retried, at most `retries` times (GPTQModel raises it by 0.01
 * per attempt); if every attempt fails the layer falls back to RTN.
 */
export const DAMP_RETRY = { step: 0.01, retries: 10 } as const;

/** A quantized weight matrix W [rows = out features, cols = in features]. */
export interface QuantResult {
  rows: number;
  cols: number;
  /** Dequantized weights [rows, cols], row-major, original column order. */
  Q: Float32Array | Float64Array;
  /** Integer codes in [0, maxq], [rows, cols], original column order. */
  codes: Uint8Array;
  /** Scales [groups, rows] (AutoGPTQ's [G, N]); group order as g_idx numbers them. */
  scales: Float32Array | Float64Array;
  /** Integer zero points [groups, rows]. */
  zeros: Uint8Array;
  /** Group of each input column [cols] (AutoGPTQ's g_idx). */
  gIdx: Int32Array;
  /** Number of groups G. */
  groups: number;
}

export interface GptqResult extends QuantResult {
  /** Act-order permutation [cols] (perm[i] = original column quantized i-th), or null. */
  perm: Int32Array | null;
  /**
   * Σ (w − q)² / d² / 2 over all weights, as the reference prints it; equals
   * ½ Σ_rows (w − q)ᵀ (H + damp·I) (w − q) with dead columns zeroed in W.
   * After an RTN fallback (no usable d): ½ Σ_rows (w − q)ᵀ H (w − q) on the H as given, the output
   * squared error per sequence that the GPTQ loss estimates; finite, never NaN.
   */
  loss: number;
  /** Damping fraction actually used (after any retries); after an RTN fallback, the last one tried. */
  percDampUsed: number;
  /** Absolute damping added to every diagonal entry of H (percDampUsed · mean diag H). */
  damp: number;
  /**
   * True when every damping attempt failed and the layer was rounded to nearest instead: the result
   * then equals rtnReference (original W, consecutive groups, perm null, trivial gIdx).
   */
  fellBackToRtn: boolean;
  /** Indices of dead input columns (diag(H) == 0). */
  deadColumns: number[];
}

export function validateQuantOptions(o: QuantOptions): void {
  if (!Number.isInteger(o.bits) || o.bits < 2 || o.bits > 8) {
    throw new RangeError(`bits must be an integer from 2 to 8, got ${o.bits}`);
  }
  if (!Number.isInteger(o.groupSize) || (o.groupSize !== -1 && o.groupSize < 1)) {
    throw new RangeError(`groupSize must be -1 (per row) or a positive integer, got ${o.groupSize}`);
  }
  if (!Number.isInteger(o.blockSize) || o.blockSize < 1) {
    throw new RangeError(`blockSize must be a positive integer, got ${o.blockSize}`);
  }
  if (!(o.percDamp >= 0) || !Number.isFinite(o.percDamp)) {
    throw new RangeError(`percDamp must be a finite number ≥ 0, got ${o.percDamp}`);
  }
}

/** Number of groups of a row of `cols` columns. */
export function groupCount(cols: number, groupSize: number): number {
  return groupSize === -1 ? 1 : Math.ceil(cols / groupSize);
}
