/**
 * Packed codes as the run keeps them: the row bit streams give back every code at every width
 * (words crossed by 3-, 5-, 6- and 7-bit values included), and the dequantized weights are bit for
 * bit those the engine and a reader of the file compute (halfScaled's formula, f64 reference).
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../testing/random';
import { dequantize, packRows, PackedGptq, PackedQuant, unpackRows, wordsPerRow } from './packed-quant';
import { halfScaled } from './export/f16';
import type { GptqResult } from './types';
import { randomResult } from '../testing/random-quant';

/** Q in f64, rounded once to f32: scale · (code − zero) is exact in f64 for f32 scales and 8-bit codes. */
function referenceQ(r: GptqResult): Float32Array {
  const Q = new Float32Array(r.rows * r.cols);
  for (let n = 0; n < r.rows; n++) {
    for (let k = 0; k < r.cols; k++) {
      const g = r.gIdx[k] * r.rows + n;
      Q[n * r.cols + k] = Math.fround(r.scales[g] * (r.codes[n * r.cols + k] - r.zeros[g]));
    }
  }
  return Q;
}

describe('packed codes', () => {
  it('pack and unpack every width from 1 to 8 bits, rows that end mid-word included', () => {
    for (let bits = 1; bits <= 8; bits++) {
      for (const cols of [1, 31, 32, 33, 100]) {
        const rand = seededRandom(bits * 1000 + cols);
        const rows = 5;
        const codes = Uint8Array.from({ length: rows * cols }, () => Math.floor(rand() * 2 ** bits));
        const words = packRows(codes, rows, cols, bits);
        expect(words.length).toBe(rows * wordsPerRow(cols, bits));
        expect(unpackRows(words, rows, cols, bits)).toEqual(codes);
      }
    }
  });

  it('refuses a code that does not fit its width', () => {
    expect(() => packRows([0, 8], 1, 2, 3)).toThrow(/code 8 at \[0, 1\] does not fit in 3 bits/);
    expect(() => packRows([0, 1], 1, 3, 3)).toThrow(/expected 1×3 codes/);
  });

  it('dequantizes bit for bit as the f64 reference and halfScaled, with the run\'s grid and report fields kept', () => {
    for (const bits of [2, 3, 4, 8]) {
      for (const actOrder of [false, true]) {
        // 100 columns in groups of 32: a last group of 4 columns.
        const r = halfScaled(randomResult(7, 100, bits, 32, actOrder, bits * 10 + Number(actOrder)));
        const p = PackedGptq.of(r, bits);
        expect(p.codes).toEqual(r.codes);
        expect(dequantize(p)).toEqual(referenceQ(r));
        expect(p.Q).toEqual(r.Q);
        expect([p.loss, p.percDampUsed, p.damp, p.fellBackToRtn, p.deadColumns]).toEqual([1.5, 0.01, 0.02, false, [3]]);
        expect(p.bytes).toBe(7 * wordsPerRow(100, bits) * 4 + 7 * 4 * (4 + 1) + 100 * 4);
      }
    }
  });

  it('holds a fraction of the dequantized weights\' bytes', () => {
    const r = randomResult(64, 256, 4, 64, false, 1);
    const p = PackedQuant.of(r, 4);
    // 4-bit codes are 1/8 of the f32 weights; the grid adds 5 bytes per group and row.
    expect(p.bytes).toBeLessThan(r.Q.byteLength / 6);
  });
});
