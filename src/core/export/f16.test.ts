import { describe, it, expect } from 'vitest';
import { checkedHalfBytes, fitsHalf, halfScaled, roundHalf, roundedToHalf } from './f16';
import { halfBytesToFloat32 } from '../model/float-convert';
import type { QuantResult } from '../types';

describe('values as the F16 file holds them', () => {
  it('fit float16 below 65520 (65504 and what rounds to it), not beyond, never NaN', () => {
    expect([65504, -65504, 65519.99, 1e-30].map(fitsHalf)).toEqual([true, true, true, true]);
    expect([65520, -1.5e6, Number.NaN, Number.POSITIVE_INFINITY].map(fitsHalf)).toEqual([false, false, false, false]);
    expect(roundHalf(65519.99)).toBe(65504);
    expect(roundHalf(0.1)).toBe(0.0999755859375);
  });

  it('round arrays to F16, returning the array itself when it already holds F16 values', () => {
    const exact = Float32Array.from([0.5, -2, 0.0999755859375, 0, 65504]);
    expect(roundedToHalf(exact)).toBe(exact);
    const a = Float32Array.from([0.1, 1 / 3, -7, 1e-8]);
    const r = roundedToHalf(a);
    expect(r).not.toBe(a);
    expect(Array.from(r)).toEqual([0.0999755859375, 0.333251953125, -7, 0]);
    expect(Array.from(a)).toEqual(Array.from(Float32Array.from([0.1, 1 / 3, -7, 1e-8]))); // untouched
  });

  it('write F16 bytes, refusing a value that would become Inf, by tensor name', () => {
    expect(halfBytesToFloat32(checkedHalfBytes(Float32Array.from([1, -0.1]), 't'))).toEqual(Float32Array.from([1, 0.0999755859375 * -1]));
    expect(() => checkedHalfBytes(Float32Array.from([1, 70000]), 'model.norm.weight')).toThrow(/tensor "model\.norm\.weight": value 70000 at index 1 does not fit float16/);
  });

  it('dequantize a result from its F16-rounded scales, keeping codes, zeros and g_idx', () => {
    // rows 2, cols 3, groups 2 with an act-order g_idx [1, 0, 1]; scales [G, N].
    const r: QuantResult = {
      rows: 2, cols: 3, groups: 2,
      Q: new Float32Array(6),
      codes: Uint8Array.from([0, 5, 15, 7, 8, 9]),
      scales: Float32Array.from([0.1, 0.3, 1 / 3, 0.7]),
      zeros: Uint8Array.from([8, 7, 8, 8]),
      gIdx: Int32Array.from([1, 0, 1]),
    };
    const h = halfScaled(r);
    const s = [0.1, 0.3, 1 / 3, 0.7].map(roundHalf);
    expect(Array.from(h.scales)).toEqual(s.map(Math.fround));
    expect(Array.from(h.Q)).toEqual([
      s[2] * (0 - 8), s[0] * (5 - 8), s[2] * (15 - 8),
      s[3] * (7 - 8), s[1] * (8 - 7), s[3] * (9 - 8),
    ].map(Math.fround));
    expect([h.codes, h.zeros, h.gIdx]).toEqual([r.codes, r.zeros, r.gIdx]);
  });
});
