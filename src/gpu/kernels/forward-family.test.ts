/**
 * The forward kernels' family features against the f64 reference (src/core/model/forward-reference.ts),
 * on shapes with edges: sliding-window grouped-query attention over several sequences (windows of
 * rows bound in slices), norms per segment (q/k norms per head) of both kinds, partial-rotary RoPE
 * from a scaled table, the GeGLU / relu / softcap ops at large inputs, the scaled embedding gather.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeRuntime } from '../../testing/node-gpu';
import { gaussian, seededRandom } from '../../testing/random';
import { activation, applyNorm, applyRopeSpec, causalAttention } from '../../core/model/forward-reference';
import { ropeInverseFrequencies, type RopeSpec } from '../../core/model/rope';
import type { GpuRuntime } from '../runtime';
import type { GpuMatrix } from '../matrix';
import { ELEMENTWISE, encodeAttention, encodeElementwise, encodeEmbed, encodeNorm, encodeRope, FORWARD_STATUS, FORWARD_STATUS_SLOTS, ropeTableOf } from './forward';

let rt: GpuRuntime;
/** A runtime whose bindings hold 64 rows of 64 floats: every kernel is dispatched in slices. */
let small: GpuRuntime;
beforeAll(async () => {
  rt = await nodeRuntime();
  small = await nodeRuntime({ bindingLimit: 64 * 64 * 4 });
});
afterAll(() => {
  rt?.destroy();
  small?.destroy();
});

const random = (n: number, seed: number, scale = 1) => {
  const rand = seededRandom(seed);
  return Float32Array.from({ length: n }, () => scale * gaussian(rand));
};

function upload(r: GpuRuntime, rows: number, cols: number, data: Float32Array, label: string): GpuMatrix {
  const m = r.matrix(rows, cols, label);
  r.uploadMatrix(m, data);
  return m;
}

function worst(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('attention with a sliding window', () => {
  for (const [label, runtime] of [['one binding', () => rt], ['bound in slices', () => small]] as const) {
    it(`GQA 6/2 heads, 3 sequences of 20, window 5, scale 0.3 (${label})`, async () => {
      const r = runtime();
      const [S, T, H, Hkv, d, window, scale] = [3, 20, 6, 2, 8, 5, 0.3];
      const Q = random(S * T * H * d, 1);
      const K = random(S * T * Hkv * d, 2);
      const V = random(S * T * Hkv * d, 3);
      const q = upload(r, S * T, H * d, Q, 'q');
      const k = upload(r, S * T, Hkv * d, K, 'k');
      const v = upload(r, S * T, Hkv * d, V, 'v');
      const o = r.matrix(S * T, H * d, 'o');
      const rec = r.recorder('attention');
      encodeAttention(rec, { Q: q, qOff: 0, K: k, kOff: 0, V: v, vOff: 0, heads: H, kvHeads: Hkv, headDim: d, seqlen: T, scale, window }, o, r.bindingLimit);
      rec.finish();
      const got = await r.readMatrix(o);
      for (let s = 0; s < S; s++) {
        const slice = (A: Float32Array, w: number) => Float64Array.from(A.subarray(s * T * w, (s + 1) * T * w));
        const ref = causalAttention(slice(Q, H * d), H * d, 0, slice(K, Hkv * d), slice(V, Hkv * d), Hkv * d, 0, 0, T, H, Hkv, d, scale, window);
        expect(worst(got.subarray(s * T * H * d, (s + 1) * T * H * d), ref)).toBeLessThan(1e-5);
      }
      r.release(q, k, v, o);
    });
  }
});

describe('norms per segment', () => {
  for (const kind of ['rms', 'layer'] as const) {
    it(`${kind}: 7 rows of 3 heads of 24, each head normalised on its own (bound in slices)`, async () => {
      const [rows, heads, width] = [70, 3, 24];
      const X = random(rows * heads * width, 4, 2);
      const w = random(width, 5, 0.5).map((x) => 1 + x);
      const b = random(width, 6, 0.1);
      const x = upload(small, rows, heads * width, X, 'x');
      const y = small.matrix(rows, heads * width, 'y');
      const wb = small.storage(w.byteLength, 'w');
      const bb = small.storage(b.byteLength, 'b');
      small.upload(wb, 0, w);
      small.upload(bb, 0, b);
      const rec = small.recorder('norm');
      encodeNorm(rec, x, y, { kind, eps: 1e-5, weight: wb, bias: bb }, small.bindingLimit, width);
      rec.finish();
      const ref = applyNorm({ name: 'n', bias: kind === 'layer', size: width, kind, eps: 1e-5 }, Float64Array.from(X), rows * heads, w, b);
      expect(worst(await small.readMatrix(y), ref)).toBeLessThan(1e-5);
      small.release(x, y, wb, bb);
    });
  }
});

it('RoPE on the first 4 of 8 dims per head (partial rotary), llama3-scaled table, offset inside a fused matrix', async () => {
  const [T, H, d] = [33, 2, 8];
  const rope: RopeSpec = { theta: 10000, dim: 4, scaling: { type: 'llama3', factor: 4, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 16 } };
  const { invFreq, attentionScale } = ropeInverseFrequencies(rope, T, 64);
  const table = ropeTableOf(T, invFreq, attentionScale);
  const tb = rt.storage(table.byteLength, 'table');
  rt.upload(tb, 0, table);
  const offset = 8; // the heads start at column 8 of a wider matrix
  const X = random(T * (offset + H * d), 7);
  const x = upload(rt, T, offset + H * d, X, 'x');
  const rec = rt.recorder('rope');
  encodeRope(rec, x, offset, H, d, T, tb, rt.bindingLimit, rope.dim);
  rec.finish();
  const got = await rt.readMatrix(x);
  const heads = new Float64Array(T * H * d);
  for (let t = 0; t < T; t++) for (let i = 0; i < H * d; i++) heads[t * H * d + i] = X[t * (offset + H * d) + offset + i];
  applyRopeSpec(heads, T, H, d, rope, 64);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < offset; i++) expect(got[t * (offset + H * d) + i]).toBe(X[t * (offset + H * d) + i]);
    for (let i = 0; i < H * d; i++) expect(Math.abs(got[t * (offset + H * d) + offset + i] - heads[t * H * d + i])).toBeLessThan(2e-5);
  }
  rt.release(x, tb);
});

describe('elementwise ops of the new families', () => {
  const Y = Float32Array.from([...random(61, 8, 3), 50, -50, 200, -200, 0]);
  const U = random(Y.length, 9);
  const run = async (op: number, alpha?: number) => {
    const y = upload(rt, 1, Y.length, Y, 'y');
    const x = upload(rt, 1, U.length, U, 'x');
    const rec = rt.recorder('elementwise');
    encodeElementwise(rec, { op: op as never, y, x, placeholder: rt.placeholder, alpha }, rt.bindingLimit);
    rec.finish();
    const out = await rt.readMatrix(y);
    rt.release(y, x);
    return out;
  };

  it('GeGLU: gelu_pytorch_tanh(gate) · up, finite at ±200', async () => {
    const got = await run(ELEMENTWISE.geluTanhGate);
    expect(got.every(Number.isFinite)).toBe(true);
    Y.forEach((g, i) => expect(Math.abs(got[i] - activation('gelu_tanh', g) * U[i])).toBeLessThan(1e-5 * (1 + Math.abs(g * U[i]))));
  });

  it('relu', async () => {
    const got = await run(ELEMENTWISE.relu);
    Y.forEach((g, i) => expect(got[i]).toBe(Math.max(g, 0)));
  });

  it('softcap: c·tanh(y / c)', async () => {
    const got = await run(ELEMENTWISE.softcap, 30);
    Y.forEach((g, i) => expect(Math.abs(got[i] - 30 * Math.tanh(g / 30))).toBeLessThan(1e-5));
  });
});

it('embedding gather times a scale (Gemma), and added positions', async () => {
  const E = random(5 * 8, 10);
  const e = upload(rt, 5, 8, E, 'E');
  const ids = Uint32Array.from([3, 0, 4, 3]);
  const ib = rt.storage(ids.byteLength, 'ids');
  rt.upload(ib, 0, ids);
  const out = rt.matrix(4, 8, 'out');
  const status = rt.storage(FORWARD_STATUS_SLOTS * 4, 'status');
  const slot = { buffer: status, slot: FORWARD_STATUS.embedRowOutOfRange };
  const rec = rt.recorder('embed');
  rec.clear(status);
  encodeEmbed(rec, e, ib, out, false, rt.bindingLimit, slot, 25.25);
  encodeEmbed(rec, e, ib, out, true, rt.bindingLimit, slot);
  rec.finish();
  const got = await rt.readMatrix(out);
  expect((await rt.readU32(status, 0, 1))[0]).toBe(0);
  ids.forEach((id, t) => {
    for (let c = 0; c < 8; c++) expect(got[t * 8 + c]).toBe(Math.fround(Math.fround(E[id * 8 + c] * 25.25) + E[id * 8 + c]));
  });
  rt.release(e, ib, out, status);
});
