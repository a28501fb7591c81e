/**
 * The quantization grid of IST-DASLab/gptq quant.py: quantize() and Quantizer.find_params()
 * (perchannel, weight=True), in f64.
 */
import { roundHalfEven } from './rounding';
import { MSE_SEARCH } from './types';

export type Matrix = Float32Array | Float64Array;

/** Per-row grid parameters of one group. */
export interface QuantParams {
  /** [rows] */
  scale: Float64Array;
  /** [rows], integer-valued, in [0, maxq] */
  zero: Float64Array;
}

export function maxQ(bits: number): number {
  return 2 ** bits - 1;
}

/** Integer code clamp(round(x/scale) + zero, 0, maxq). Division, not a reciprocal multiply. */
export function quantCode(x: number, scale: number, zero: number, maxq: number): number {
  const q = roundHalfEven(x / scale) + zero;
  return q < 0 ? 0 : q > maxq ? maxq : q;
}

/** Dequantized value scale·(code − zero). */
export function quantize(x: number, scale: number, zero: number, maxq: number): number {
  return scale * (quantCode(x, scale, zero, maxq) - zero);
}

/**
 * Quantizer.find_params over columns [colStart, colEnd) of a row-major matrix W [rows, ld].
 * The range always contains 0. sym: xmax = max(|xmin|, xmax) and xmin = −xmax only where
 * xmin < 0, so an all-nonnegative row keeps xmin = 0 (grid [−zero, maxq−zero]·xmax/maxq).
 * mse: shrink the range by p = 1 − i/grid, i < maxShrink·grid, keeping strictly better Σ|q−x|^norm.
 */
export function findParams(
  W: Matrix,
  rows: number,
  ld: number,
  colStart: number,
  colEnd: number,
  bits: number,
  sym: boolean,
  mse: boolean,
): QuantParams {
  const maxq = maxQ(bits);
  const scale = new Float64Array(rows);
  const zero = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const base = r * ld;
    let xmin = 0;
    let xmax = 0;
    for (let c = colStart; c < colEnd; c++) {
      const v = W[base + c];
      if (v < xmin) xmin = v;
      if (v > xmax) xmax = v;
    }
    if (sym) {
      xmax = Math.max(Math.abs(xmin), xmax);
      if (xmin < 0) xmin = -xmax;
    }
    if (xmin === 0 && xmax === 0) {
      xmin = -1;
      xmax = 1;
    }
    const symZero = (maxq + 1) / 2;
    let s = (xmax - xmin) / maxq;
    let z = sym ? symZero : roundHalfEven(-xmin / s);
    if (mse) {
      let best = Infinity;
      const steps = Math.trunc(MSE_SEARCH.maxShrink * MSE_SEARCH.grid);
      for (let i = 0; i < steps; i++) {
        const p = 1 - i / MSE_SEARCH.grid;
        const xmin1 = p * xmin;
        const xmax1 = p * xmax;
        const s1 = (xmax1 - xmin1) / maxq;
        const z1 = sym ? symZero : roundHalfEven(-xmin1 / s1);
        let err = 0;
        for (let c = colStart; c < colEnd; c++) {
          const x = W[base + c];
          err += Math.abs(quantize(x, s1, z1, maxq) - x) ** MSE_SEARCH.norm;
        }
        if (err < best) {
          best = err;
          s = s1;
          z = z1;
        }
      }
    }
    scale[r] = s;
    zero[r] = z + 0; // −0 → +0
  }
  return { scale, zero };
}
