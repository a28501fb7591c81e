/**
 * The GPU dequantization of packed codes (shaders/dequant_rows.wgsl) against the f64 reference,
 * bit for bit: 2/3/4/8 bits (3-bit values cross words), a partial last group, act-order g_idx,
 * a one-group (whole-row) grid, padded rows, and a binding limit that splits the rows into windows.
 * The scatter kernel that switches the embedding between its stored and F16 values is checked
 * the same way (src/engine/model/half-patch.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeRuntime } from '../../testing/node-gpu';
import { randomResult } from '../../testing/random-quant';
import { seededRandom } from '../../testing/random';
import { PackedQuant } from '../../core/packed-quant';
import { halfScaled, roundedToHalf } from '../../core/export/f16';
import { releaseCodes, uploadCodes } from '../../engine/model/variant-block';
import { packedRows } from '../packed-rows';
import { HalfPatchBuilder } from '../../engine/model/half-patch';
import { encodeDequant } from './dequant';
import type { GpuRuntime } from '../runtime';
import type { QuantResult } from '../../core/types';

let rt: GpuRuntime;
let sliced: GpuRuntime;
beforeAll(async () => {
  rt = await nodeRuntime();
  // 4 KiB bindings: a 100-column matrix (ld 128) is bound 8 rows at a time, its codes likewise.
  sliced = await nodeRuntime({ bindingLimit: 4096 });
});
afterAll(() => {
  rt?.destroy();
  sliced?.destroy();
});

/** Q in f64, rounded once to f32 (exact: f32 scales times small integers). */
function referenceQ(r: QuantResult): Float32Array {
  const Q = new Float32Array(r.rows * r.cols);
  for (let n = 0; n < r.rows; n++) {
    for (let k = 0; k < r.cols; k++) {
      const g = r.gIdx[k] * r.rows + n;
      Q[n * r.cols + k] = Math.fround(Number(r.scales[g]) * (r.codes[n * r.cols + k] - r.zeros[g]));
    }
  }
  return Q;
}

async function gpuDequant(r: GpuRuntime, p: PackedQuant): Promise<Float32Array> {
  const W = r.matrix(p.rows, p.cols, 'test.W');
  r.uploadMatrix(W, new Float32Array(p.rows * p.cols).fill(Number.NaN));
  const codes = uploadCodes(r, p, 'test');
  const rec = r.recorder('test.dequant');
  encodeDequant(rec, codes, W, r.bindingLimit);
  rec.finish();
  const out = await r.readMatrix(W);
  r.release(W);
  releaseCodes(r, codes);
  return out;
}

describe('dequant kernel', () => {
  const cases: [rows: number, cols: number, groupSize: number][] = [
    [37, 100, 32], // last group of 4 columns
    [64, 128, 128], // one group per row
    [5, 33, 8], // last group of 1 column
  ];
  for (const bits of [2, 3, 4, 8]) {
    it(`${bits}-bit codes: equal to the f64 reference bit for bit, in order and act-order, whole and in windows`, async () => {
      for (const [rows, cols, gs] of cases) {
        for (const actOrder of [false, true]) {
          const r = halfScaled(randomResult(rows, cols, bits, gs, actOrder, bits * 100 + rows + Number(actOrder)));
          const p = PackedQuant.of(r, bits);
          const expected = referenceQ(r);
          expect(await gpuDequant(rt, p), `${rows}×${cols} g${gs}${actOrder ? ' act-order' : ''}`).toEqual(expected);
          expect(await gpuDequant(sliced, p), `${rows}×${cols} g${gs}${actOrder ? ' act-order' : ''}, windows`).toEqual(expected);
        }
      }
    }, 120_000);
  }
});

describe('half patch', () => {
  const rows = 40;
  const cols = 70;
  // BF16 values (the upper halves of f32s), a few of them (every 37th) below 2^-17, where their F16
  // rounding differs from them, as in a BF16 checkpoint's subnormal corner.
  const bf16Values = (seed: number) => {
    const rand = seededRandom(seed);
    const v = Float32Array.from({ length: rows * cols }, (_, i) => (i % 37 === 0 ? 1e-7 * (1 + rand()) : rand() - 0.5));
    const bits = new Uint32Array(v.buffer);
    for (let i = 0; i < bits.length; i++) bits[i] &= 0xffff0000;
    return v;
  };

  for (const format of ['f32', 'bf16'] as const) {
    it(`switches a ${format} matrix between its stored values and their F16 rounding, and back, in windows`, async () => {
      const stored = bf16Values(5);
      const half = roundedToHalf(stored);
      expect(half).not.toEqual(stored);
      for (const r of [rt, sliced]) {
        const m = r.matrix(rows, cols, `test.patched.${format}`, format);
        const storedWords = packedRows(stored, cols, m.ld, format)!;
        const halfWords = packedRows(half, cols, m.ld, format);
        // A BF16 value's F16 rounding is again a BF16 value.
        expect(halfWords).not.toBeNull();
        r.upload(m.buffer, 0, storedWords);
        const builder = new HalfPatchBuilder(m);
        // Added in two pieces of rows, as the globals are read.
        const split = 13 * (storedWords.length / rows);
        builder.add(0, storedWords.subarray(0, split), halfWords!.subarray(0, split));
        builder.add(13, storedWords.subarray(split), halfWords!.subarray(split));
        expect(builder.overflow).toBe(false);
        const patch = builder.build(r, 'test')!;
        // Differing elements, one per word in f32; 16-bit pairs hold at most one of them (37 is odd, the
        // differing indices are 37 apart).
        expect(patch.entries).toBe(Math.ceil((rows * cols) / 37));
        let rec = r.recorder('test.toHalf');
        patch.encode(rec, true);
        rec.finish();
        expect(await r.readMatrix(m)).toEqual(half);
        rec = r.recorder('test.toStored');
        patch.encode(rec, false);
        rec.finish();
        expect(await r.readMatrix(m)).toEqual(stored);
        patch.release();
        r.release(m);
      }
    });
  }

  it('overflows when most elements differ (an F32 checkpoint gets a second matrix instead)', () => {
    const m = rt.matrix(8, 64, 'test.f32');
    const builder = new HalfPatchBuilder(m);
    const values = Float32Array.from({ length: 8 * 64 }, (_, i) => 0.1 + i * 1e-6);
    builder.add(0, packedRows(values, 64, m.ld, 'f32')!, packedRows(roundedToHalf(values), 64, m.ld, 'f32'));
    expect(builder.overflow).toBe(true);
    expect(() => builder.build(rt, 'test')).toThrow(/overflowed/);
    rt.release(m);
  });

  it('overflows when the matrix\'s format cannot hold the F16 values', () => {
    const m = rt.matrix(2, 64, 'test.bf16', 'bf16');
    const builder = new HalfPatchBuilder(m);
    const words = packedRows(new Float32Array(2 * 64), 64, m.ld, 'bf16')!;
    builder.add(0, words, null);
    expect(builder.overflow).toBe(true);
    rt.release(m);
  });
});
