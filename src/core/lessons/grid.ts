/**
 * The lessons' fixed quantization grid: the reference quantizer's grid scale·(code − zero),
 * code = 0…2^bits − 1, with the scale and zero chosen by the learner instead of by findParams.
 * Rounding is the reference's own (quantCode: round half to even, then clamp).
 */
import { maxQ, quantCode, type QuantParams } from '../quantizer';

export interface LessonGrid {
  /** Bits per weight, 2..8. */
  bits: number;
  /** Distance between neighbouring grid points (the quantizer's scale), > 0. */
  step: number;
  /** The code that stands for 0, integer in [0, 2^bits − 1]. */
  zero: number;
}

/** The notes' grid: 2 bits, step 0.5, code 1 is zero → points −0.5, 0, 0.5, 1.0. */
export const NOTES_GRID: LessonGrid = { bits: 2, step: 0.5, zero: 1 };

export function validateGrid(g: LessonGrid): void {
  if (!Number.isInteger(g.bits) || g.bits < 2 || g.bits > 8) throw new RangeError(`bits must be 2..8, got ${g.bits}`);
  if (!(g.step > 0) || !Number.isFinite(g.step)) throw new RangeError(`step must be a finite number > 0, got ${g.step}`);
  if (!Number.isInteger(g.zero) || g.zero < 0 || g.zero > maxQ(g.bits)) {
    throw new RangeError(`zero must be an integer code in 0..${maxQ(g.bits)}, got ${g.zero}`);
  }
}

/** Every value the grid can represent, ascending: step·(code − zero). */
export function gridLevels(g: LessonGrid): number[] {
  const levels: number[] = [];
  for (let code = 0; code <= maxQ(g.bits); code++) levels.push(g.step * (code - g.zero));
  return levels;
}

/** The grid as the reference's per-row params, the same for each of `rows` rows. */
export function gridParams(g: LessonGrid, rows: number): QuantParams {
  return { scale: new Float64Array(rows).fill(g.step), zero: new Float64Array(rows).fill(g.zero) };
}

/** Round-to-nearest on the grid, exactly as the reference rounds (ties to the even code). */
export function roundOnGrid(x: number, g: LessonGrid): number {
  return g.step * (quantCode(x, g.step, g.zero, maxQ(g.bits)) - g.zero);
}

