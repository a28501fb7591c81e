/**
 * Rows of f32 values as a matrix of an ElementFormat holds them in memory: [n, ld] elements in u32
 * words, 16-bit elements two to a word (src/gpu/matrix.ts). Pure; the caller uploads the words at
 * byte r0 · ld · elementBytes.
 */
import { halfToFloat, floatToHalf } from '../core/model/float-convert';
import type { ElementFormat } from './matrix';

/**
 * `values` [n, cols] (dense, row-major) as n rows of `ld` elements of `format` (padding zero), in
 * u32 words: [n · ld] words for f32 (a view of `values` when ld = cols), [n · ld / 2] for a 16-bit
 * format (ld even). Returns null when a value is not exactly a value of `format` (a BF16 matrix
 * given values that are not BF16 values, for example): nothing is rounded here.
 */
export function packedRows(values: Float32Array, cols: number, ld: number, format: ElementFormat): Uint32Array | null {
  if (cols <= 0 || values.length % cols !== 0) throw new RangeError(`${values.length} values are not whole rows of ${cols}`);
  const n = values.length / cols;
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  if (format === 'f32') {
    if (ld === cols) return bits;
    const out = new Uint32Array(n * ld);
    for (let r = 0; r < n; r++) out.set(bits.subarray(r * cols, (r + 1) * cols), r * ld);
    return out;
  }
  if (ld % 2 !== 0) throw new RangeError(`a 16-bit matrix needs an even row length, not ${ld}`);
  const out = new Uint32Array((n * ld) / 2);
  for (let r = 0; r < n; r++) {
    const src = r * cols;
    const dst = (r * ld) / 2;
    for (let c = 0; c < cols; c++) {
      let h: number;
      if (format === 'bf16') {
        const b = bits[src + c];
        if ((b & 0xffff) !== 0) return null;
        h = b >>> 16;
      } else {
        const v = values[src + c];
        h = floatToHalf(v);
        if (halfToFloat(h) !== v) return null;
      }
      out[dst + (c >> 1)] |= c & 1 ? h << 16 : h;
    }
  }
  return out;
}
