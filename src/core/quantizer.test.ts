import { describe, expect, it } from 'vitest';
import { findParams, maxQ, quantCode, quantize } from './quantizer';
import { rtnReference } from './rtn';
import { MSE_SEARCH } from './types';

const row = Float64Array.from([-1.3, 0.2, 0.7, 2.1, -0.45, 1.05]);

function grid(x: Float64Array, scale: number, zero: number, maxq: number): Float64Array {
  return x.map((v) => quantize(v, scale, zero, maxq));
}

describe('quantize / quantCode', () => {
  it('is scale·(clamp(round(x/scale) + zero, 0, maxq) − zero)', () => {
    expect(quantCode(0.26, 0.1, 8, 15)).toBe(11);
    expect(quantize(0.26, 0.1, 8, 15)).toBeCloseTo(0.3, 15);
    expect(quantCode(5, 0.1, 8, 15)).toBe(15); // clamped high
    expect(quantize(5, 0.1, 8, 15)).toBeCloseTo(0.7, 15);
    expect(quantCode(-5, 0.1, 8, 15)).toBe(0); // clamped low
    expect(quantize(-5, 0.1, 8, 15)).toBeCloseTo(-0.8, 15);
  });

  it('rounds ties to even (x/scale exactly k + 0.5)', () => {
    expect(quantCode(1.25, 0.5, 8, 15)).toBe(8 + 2); // 2.5 → 2
    expect(quantCode(1.75, 0.5, 8, 15)).toBe(8 + 4); // 3.5 → 4
    expect(quantCode(-0.75, 0.5, 8, 15)).toBe(8 - 2); // −1.5 → −2
    expect(quantCode(0.25, 0.5, 8, 15)).toBe(8); // 0.5 → 0
  });
});

describe('findParams', () => {
  for (let bits = 2; bits <= 8; bits++) {
    it(`asym ${bits}-bit: scale = (xmax − xmin)/maxq, zero = round(−xmin/scale), error ≤ scale/2`, () => {
      const maxq = maxQ(bits);
      const { scale, zero } = findParams(row, 1, row.length, 0, row.length, bits, false, false);
      expect(scale[0]).toBeCloseTo(3.4 / maxq, 14);
      expect(zero[0]).toBe(Math.round(1.3 / (3.4 / maxq)));
      expect(zero[0]).toBeGreaterThanOrEqual(0);
      expect(zero[0]).toBeLessThanOrEqual(maxq);
      const q = grid(row, scale[0], zero[0], maxq);
      q.forEach((v, i) => expect(Math.abs(v - row[i])).toBeLessThanOrEqual((scale[0] / 2) * (1 + 1e-12)));
    });

    it(`sym ${bits}-bit: zero = 2^(bits−1), scale = 2·max|x|/maxq`, () => {
      const maxq = maxQ(bits);
      const { scale, zero } = findParams(row, 1, row.length, 0, row.length, bits, true, false);
      expect(zero[0]).toBe(2 ** (bits - 1));
      expect(scale[0]).toBeCloseTo(4.2 / maxq, 14);
      for (let i = 0; i < row.length; i++) {
        const c = quantCode(row[i], scale[0], zero[0], maxq);
        expect(c).toBeGreaterThanOrEqual(0);
        expect(c).toBeLessThanOrEqual(maxq);
      }
    });
  }

  it('sym keeps xmin = 0 on an all-nonnegative row, which clips its top (the reference quirk)', () => {
    const x = Float64Array.from([0.5, 1.0, 3.0]);
    const { scale, zero } = findParams(x, 1, 3, 0, 3, 4, true, false);
    expect(scale[0]).toBeCloseTo(3 / 15, 15); // (xmax − 0)/maxq, not 2·xmax/maxq
    expect(zero[0]).toBe(8);
    expect(quantize(3.0, scale[0], zero[0], 15)).toBeCloseTo(0.2 * 7, 14); // top code 15 ↦ 7 steps
    // an all-nonpositive row is mirrored normally: xmin = −xmax
    const neg = findParams(Float64Array.from([-0.5, -3.0]), 1, 2, 0, 2, 4, true, false);
    expect(neg.scale[0]).toBeCloseTo(6 / 15, 15);
  });

  it('an all-zero row gets the range [−1, 1]', () => {
    const x = new Float64Array(5);
    for (let bits = 2; bits <= 8; bits++) {
      for (const sym of [true, false]) {
        const { scale, zero } = findParams(x, 1, 5, 0, 5, bits, sym, false);
        expect(scale[0]).toBeCloseTo(2 / maxQ(bits), 15);
        expect(zero[0]).toBe(2 ** (bits - 1));
        expect(quantize(0, scale[0], zero[0], maxQ(bits))).toBe(0);
      }
    }
  });

  it('reads only columns [colStart, colEnd) of each row of a matrix with leading dimension ld', () => {
    // W [2, 6]: window columns 2..4
    const W = Float64Array.from([100, 100, -1, 0.5, 2, 100, -100, -100, 0.25, 0.75, 0.5, -100]);
    const { scale, zero } = findParams(W, 2, 6, 2, 5, 4, false, false);
    expect(scale[0]).toBeCloseTo(3 / 15, 15);
    expect(zero[0]).toBe(5); // round(1/0.2)
    expect(scale[1]).toBeCloseTo(0.75 / 15, 15); // xmin clamps to 0
    expect(zero[1]).toBe(0);
  });

  it('the MSE search shrinks the range of a row with an outlier, and lowers Σ|q − x|^2.4', () => {
    const x = Float64Array.from([0.11, -0.23, 0.17, -0.05, 0.29, -0.31, 0.07, 0.2, -0.14, 0.26, -0.19, 6.0]);
    const n = x.length;
    const err = (s: number, z: number) => x.reduce((acc, v) => acc + Math.abs(quantize(v, s, z, 7) - v) ** MSE_SEARCH.norm, 0);
    const plain = findParams(x, 1, n, 0, n, 3, false, false);
    const mse = findParams(x, 1, n, 0, n, 3, false, true);
    expect(mse.scale[0]).toBeLessThan(plain.scale[0]);
    expect(mse.scale[0]).toBeGreaterThanOrEqual(plain.scale[0] * (1 - (MSE_SEARCH.maxShrink * MSE_SEARCH.grid - 1) / MSE_SEARCH.grid) - 1e-15);
    expect(err(mse.scale[0], mse.zero[0])).toBeLessThan(err(plain.scale[0], plain.zero[0]));
    // sym keeps its fixed zero while the scale shrinks
    const y = Float64Array.from({ length: 24 }, (_, i) => (i === 0 ? -5 : Math.sin(i * 2.3)));
    const symMse = findParams(y, 1, 24, 0, 24, 3, true, true);
    expect(symMse.zero[0]).toBe(4);
    expect(symMse.scale[0]).toBeLessThan(findParams(y, 1, 24, 0, 24, 3, true, false).scale[0]);
  });

  it('the MSE search keeps p = 1 when nothing is strictly better', () => {
    // every value exactly on the full-range grid (scale 1, zero 1): every shrink only adds error
    const x = Float64Array.from([-1, 0, 1, 2]);
    const plain = findParams(x, 1, 4, 0, 4, 2, false, false);
    const mse = findParams(x, 1, 4, 0, 4, 2, false, true);
    expect(plain.scale[0]).toBe(1);
    expect(mse.scale[0]).toBe(plain.scale[0]);
    expect(mse.zero[0]).toBe(plain.zero[0]);
  });
});

describe('groups on the RTN grid', () => {
  // W [2, 10]
  const W = Float64Array.from({ length: 20 }, (_, i) => Math.sin(i * 1.7) * (1 + (i % 5)));

  it('a partial last group gets params from its own columns only', () => {
    const res = rtnReference(W, 2, 10, { bits: 4, groupSize: 4, sym: false });
    expect(res.groups).toBe(3);
    expect(Array.from(res.gIdx)).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 2, 2]);
    const last = findParams(W, 2, 10, 8, 10, 4, false, false);
    expect(Array.from(res.scales.subarray(4, 6))).toEqual(Array.from(last.scale));
    expect(Array.from(res.zeros.subarray(4, 6))).toEqual(Array.from(last.zero));
  });

  it('a group larger than the row equals one group per row', () => {
    const big = rtnReference(W, 2, 10, { bits: 3, groupSize: 128, sym: false });
    const perRow = rtnReference(W, 2, 10, { bits: 3, groupSize: -1, sym: false });
    expect(big.groups).toBe(1);
    expect(Array.from(big.Q)).toEqual(Array.from(perRow.Q));
    expect(Array.from(big.scales)).toEqual(Array.from(perRow.scales));
    expect(Array.from(big.gIdx)).toEqual(new Array(10).fill(0));
  });

  it('Q = scales[gIdx]·(codes − zeros[gIdx]) with codes in [0, maxq]', () => {
    for (const bits of [2, 3, 4, 8]) {
      const res = rtnReference(W, 2, 10, { bits, groupSize: 3, sym: bits % 2 === 0, mse: bits === 3 });
      for (let r = 0; r < 2; r++) {
        for (let c = 0; c < 10; c++) {
          const g = res.gIdx[c];
          const code = res.codes[r * 10 + c];
          expect(code).toBeLessThanOrEqual(maxQ(bits));
          expect(res.Q[r * 10 + c]).toBe(res.scales[g * 2 + r] * (code - res.zeros[g * 2 + r]));
        }
      }
    }
  });
});
