/**
 * Both kernels of the full forward's attention, the tiled one (8-query × 64-key tiles) and the
 * per-query one (forward.ts), each as encodeForwardAttention dispatches it, against the f64
 * reference (causalAttention in src/core/model/forward-reference.ts) on edge shapes: sequences of
 * 1, lengths that are not multiples of the tiles, head_dim 8/64/80/128/256, grouped-query heads,
 * sliding windows shorter than a query tile, shorter than, equal to and longer than a key tile,
 * windows of rows bound in slices; and the tiled kernel over a KV cache filled by a prefill and
 * then one token at a time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeRuntime } from '../../testing/node-gpu';
import { gaussian, seededRandom } from '../../testing/random';
import { causalAttention } from '../../core/model/forward-reference';
import type { GpuRuntime } from '../runtime';
import type { GpuMatrix } from '../matrix';
import { ATTENTION_TILE, encodeAttention, encodeCachedAttention, MAX_HEAD_DIM, QUERY_TILE } from './attention-tiled';
import { encodeForwardAttention } from './attention-choice';
import type { AttentionKernel } from '../../core/kernel-choice';

let rt: GpuRuntime;
/** Bindings of 64 rows of 512 floats: the activations are bound in windows of whole sequences. */
let small: GpuRuntime;
beforeAll(async () => {
  rt = await nodeRuntime();
  small = await nodeRuntime({ bindingLimit: 64 * 512 * 4 });
});
afterAll(() => {
  rt?.destroy();
  small?.destroy();
});

const random = (n: number, seed: number) => {
  const rand = seededRandom(seed);
  return Float32Array.from({ length: n }, () => gaussian(rand));
};

function upload(r: GpuRuntime, rows: number, cols: number, data: Float32Array, label: string): GpuMatrix {
  const m = r.matrix(rows, cols, label);
  r.uploadMatrix(m, data);
  return m;
}

/** The reference output of sequence s of S (rows s·T … of Q/K/V, given as one fused [rows, width] array). */
function reference(QKV: Float32Array, width: number, s: number, T: number, H: number, Hkv: number, d: number, scale: number, window: number | null): Float64Array {
  const rows = Float64Array.from(QKV.subarray(s * T * width, (s + 1) * T * width));
  return causalAttention(rows, width, 0, rows, rows, width, H * d, (H + Hkv) * d, T, H, Hkv, d, scale, window);
}

function worst(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

// [sequences, seqlen, heads, kvHeads, headDim, window]
const shapes: [number, number, number, number, number, number | null][] = [
  [3, 1, 4, 2, 8, null],
  [2, 70, 4, 2, 8, null],
  [1, 65, 2, 1, 64, null],
  [2, 130, 3, 3, 80, 17],
  [2, 5, 2, 2, 128, null],
  [1, 131, 4, 2, 256, ATTENTION_TILE],
  [1, 150, 2, 1, 64, 100],
  [3, 20, 6, 2, 8, 5],
];

describe('full-forward attention over sequences (fused QKV), both kernels', () => {
  it('supports head_dim up to 256; a window of 5 is shorter than a query tile', () => {
    expect(MAX_HEAD_DIM).toBe(256);
    expect(QUERY_TILE).toBeGreaterThan(5);
  });
  for (const kernel of ['tiled', 'per-query'] as AttentionKernel[]) {
    for (const [S, T, H, Hkv, d, window] of shapes) {
      for (const [label, runtime] of [['one binding', () => rt], ['bound in slices', () => small]] as const) {
        if (label === 'bound in slices' && (S === 1 || T * (H + 2 * Hkv) * d > 64 * 512)) continue;
        it(`${kernel}: ${S}×${T} tokens, ${H}/${Hkv} heads of ${d}, window ${window ?? 'none'} (${label})`, async () => {
          const r = runtime();
          const width = (H + 2 * Hkv) * d;
          const scale = 1 / Math.sqrt(d) * 0.9;
          const QKV = random(S * T * width, S * 1000 + T + d);
          const qkv = upload(r, S * T, width, QKV, 'qkv');
          const o = r.matrix(S * T, H * d, 'o');
          const rec = r.recorder('attention');
          const inputs = { Q: qkv, qOff: 0, K: qkv, kOff: H * d, V: qkv, vOff: (H + Hkv) * d, heads: H, kvHeads: Hkv, headDim: d, seqlen: T, scale, window };
          encodeForwardAttention(rec, inputs, o, r.bindingLimit, kernel);
          rec.finish();
          const got = await r.readMatrix(o);
          for (let s = 0; s < S; s++) {
            const ref = reference(QKV, width, s, T, H, Hkv, d, scale, window);
            expect(worst(got.subarray(s * T * H * d, (s + 1) * T * H * d), ref)).toBeLessThan(2e-5);
          }
          r.release(qkv, o);
        });
      }
    }
  }

  it('refuses head_dim above 256 and heads that are not groups of the kv heads', () => {
    const m = { buffer: rt.placeholder, rows: 1, cols: 1, ld: 64 };
    const rec = rt.recorder('attention.bad');
    const base = { Q: m, qOff: 0, K: m, kOff: 0, V: m, vOff: 0, seqlen: 1 };
    expect(() => encodeAttention(rec, { ...base, heads: 1, kvHeads: 1, headDim: 320 }, m, rt.bindingLimit)).toThrow(/head_dim 320/);
    expect(() => encodeAttention(rec, { ...base, heads: 3, kvHeads: 2, headDim: 8 }, m, rt.bindingLimit)).toThrow(/groups/);
    expect(() => encodeForwardAttention(rec, { ...base, heads: 1, kvHeads: 1, headDim: 320 }, m, rt.bindingLimit, 'per-query')).toThrow(/head_dim 320/);
    rec.finish();
  });
});

describe('tiled attention over a KV cache', () => {
  // [prefill, then single steps, heads, kvHeads, headDim, window]
  const cases: [number, number, number, number, number, number | null][] = [
    [1, 6, 4, 2, 8, null],
    [66, 4, 2, 1, 80, null],
    [60, 8, 4, 2, 64, 63],
    [9, 3, 2, 2, 256, 4],
  ];
  for (const [prefill, steps, H, Hkv, d, window] of cases) {
    it(`prefill ${prefill}, then ${steps} single tokens, ${H}/${Hkv} heads of ${d}, window ${window ?? 'none'}: each step equals the full attention's row`, async () => {
      const T = prefill + steps;
      const width = (H + 2 * Hkv) * d;
      const scale = 1 / Math.sqrt(d);
      const QKV = random(T * width, T * 7 + d);
      const ref = reference(QKV, width, 0, T, H, Hkv, d, scale, window);
      const cache = { K: rt.matrix(T, Hkv * d, 'cache.K'), V: rt.matrix(T, Hkv * d, 'cache.V') };
      // Poison the cache past what has been appended: a read beyond the causal bound would show.
      rt.uploadMatrix(cache.K, new Float32Array(T * Hkv * d).fill(1e4));
      rt.uploadMatrix(cache.V, new Float32Array(T * Hkv * d).fill(1e4));
      const attend = async (from: number, n: number) => {
        const qkv = upload(rt, n, width, QKV.subarray(from * width, (from + n) * width), 'qkv');
        const o = rt.matrix(n, H * d, 'o');
        const rec = rt.recorder('attention.cached');
        encodeCachedAttention(rec, { Q: qkv, qOff: 0, K: qkv, kOff: H * d, V: qkv, vOff: (H + Hkv) * d, heads: H, kvHeads: Hkv, headDim: d, scale, window, cached: from }, cache, o, rt.bindingLimit);
        rec.finish();
        const got = await rt.readMatrix(o);
        rt.release(qkv, o);
        expect(worst(got, ref.subarray(from * H * d, (from + n) * H * d))).toBeLessThan(2e-5);
      };
      await attend(0, prefill);
      for (let i = 0; i < steps; i++) await attend(prefill + i, 1);
      const rec = rt.recorder('attention.overflow');
      const one = rt.matrix(1, width, 'qkv');
      expect(() => encodeCachedAttention(rec, { Q: one, qOff: 0, K: one, kOff: H * d, V: one, vOff: (H + Hkv) * d, heads: H, kvHeads: Hkv, headDim: d, cached: T }, cache, one, rt.bindingLimit)).toThrow(/holds/);
      rec.finish();
      rt.release(cache.K, cache.V, one);
    });
  }
});
