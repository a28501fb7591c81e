/** The matmul kernels (tiled, and every variant of the strided GEMM) against a float64 product, on shapes with ragged edges. */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { nodeRuntime } from '../../testing/node-gpu';
import { gaussian, seededRandom } from '../../testing/random';
import { encodeTiledMatmul } from './matmul-tiled';
import { encodeGemm, GEMM_VARIANTS, tuneGemm, type GemmCall, type GemmVariant } from './gemm';
import type { GpuRuntime } from '../runtime';
import { packedRows } from '../packed-rows';
import { floatToHalf, halfToFloat } from '../../core/model/float-convert';

let rt: GpuRuntime;
beforeAll(async () => {
  rt = await nodeRuntime();
});
afterAll(() => rt?.destroy());

function product(A: Float32Array, B: Float32Array, M: number, N: number, K: number): Float64Array {
  const C = new Float64Array(M * N);
  for (let m = 0; m < M; m++) for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) C[m * N + n] += A[m * K + k] * B[k * N + n];
  return C;
}

describe.each([
  [67, 45, 83],
  [1, 1, 1],
  [130, 64, 17],
])('C = A·B with M=%i N=%i K=%i', (M, N, K) => {
  const rand = seededRandom(M * 1000 + N);
  const A = Float32Array.from({ length: M * K }, () => gaussian(rand));
  const B = Float32Array.from({ length: K * N }, () => gaussian(rand));
  const ref = product(A, B, M, N, K);
  const check = (C: Float32Array) => {
    for (let i = 0; i < ref.length; i++) expect(Math.abs(C[i] - ref[i])).toBeLessThan(1e-4 * (1 + Math.abs(ref[i])) * Math.sqrt(K));
  };
  const buffers = () => {
    const a = rt.storage(A.byteLength, 'A');
    const b = rt.storage(B.byteLength, 'B');
    const c = rt.storage(M * N * 4, 'C');
    rt.upload(a, 0, A);
    rt.upload(b, 0, B);
    return { a, b, c };
  };

  it('tiled', async () => {
    const { a, b, c } = buffers();
    const rec = rt.recorder('tiled');
    encodeTiledMatmul(rec, M, N, K, a, b, c);
    rec.finish();
    check(await rt.readF32(c, 0, M * N));
    rt.release(a, b, c);
  });

  it.each(GEMM_VARIANTS.map((v) => [v.name, v] as const))('strided GEMM (%s), B read transposed and reversed', async (_, variant) => {
    // B stored reversed and transposed: Br[n', k'] = B[K−1−k', N−1−n'] exercises negative strides.
    const Br = new Float32Array(K * N);
    for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) Br[(N - 1 - n) * K + (K - 1 - k)] = B[k * N + n];
    const { a, c } = buffers();
    const b = rt.storage(Br.byteLength, 'Br');
    rt.upload(b, 0, Br);
    const rec = rt.recorder('gemm');
    encodeGemm(rec, {
      M,
      N,
      K,
      A: { binding: { buffer: a }, off: 0, rs: K, cs: 1 },
      B: { binding: { buffer: b }, off: N * K - 1, rs: -1, cs: -K },
      C: { binding: { buffer: c }, off: 0, ld: N },
      alpha: 0,
      beta: 1,
    }, variant);
    rec.finish();
    check(await rt.readF32(c, 0, M * N));
    rt.release(a, b, c);
  });

  it.each([-7, 0, 5])('strided GEMM, B lower triangular with shift %i: skipping its zeros changes no bit', async (shift) => {
    // Bt(k, n) = B(k, n) for k >= n + shift, else 0.
    const Bt = B.map((v, i) => (Math.floor(i / N) >= (i % N) + shift ? v : 0));
    const refT = product(A, Bt, M, N, K);
    const run = async (bLowerShift?: number) => {
      const a = rt.storage(A.byteLength, 'A');
      const b = rt.storage(Bt.byteLength, 'Bt');
      const c = rt.storage(M * N * 4, 'C');
      rt.upload(a, 0, A);
      rt.upload(b, 0, Bt);
      const rec = rt.recorder('gemm');
      encodeGemm(rec, {
        M,
        N,
        K,
        A: { binding: { buffer: a }, off: 0, rs: K, cs: 1 },
        B: { binding: { buffer: b }, off: 0, rs: N, cs: 1 },
        C: { binding: { buffer: c }, off: 0, ld: N },
        alpha: 0,
        beta: 1,
        bLowerShift,
      });
      rec.finish();
      const out = await rt.readF32(c, 0, M * N);
      rt.release(a, b, c);
      return out;
    };
    const full = await run();
    const skipped = await run(shift);
    for (let i = 0; i < refT.length; i++) expect(Math.abs(skipped[i] - refT[i])).toBeLessThan(1e-4 * (1 + Math.abs(refT[i])) * Math.sqrt(K));
    expect(Array.from(skipped)).toEqual(Array.from(full));
  });
});

/**
 * Every GEMM variant gives the same bits as the first on the calls the engine makes: a lower
 * triangle updated in place (alpha = 1, beta = −1, as the Cholesky trailing update), a
 * lower-triangular B whose zeros are skipped, transposed and reversed operands at offsets.
 */
describe('GEMM variants agree bit for bit', () => {
  const cases: [string, number, number, number][] = [
    ['ragged edges', 70, 300, 33],
    ['one tile and one more', 33, 129, 64],
    ['one row', 1, 200, 5],
    ['one column', 200, 1, 7],
    ['K = 1', 40, 40, 1],
  ];
  it.each(cases)('%s: M=%i N=%i K=%i', async (_, M, N, K) => {
    const rand = seededRandom(M * 7 + N * 13 + K);
    const ld = N + 3;
    // A(m, k) = a[5 + k·M + m] (transposed), B(k, n) = b[(K−1−k)·N + (N−1−n)] (reversed), both ≠ 0 for k ≥ n − 2.
    const a = Float32Array.from({ length: 5 + M * K }, () => gaussian(rand));
    const b = Float32Array.from({ length: K * N }, (_, i) => {
      const k = K - 1 - Math.floor(i / N);
      const n = N - 1 - (i % N);
      return k >= n - 2 ? gaussian(rand) : 0;
    });
    const c0 = Float32Array.from({ length: M * ld + 9 }, () => gaussian(rand));
    const A = (m: number, k: number) => a[5 + k * M + m];
    const B = (k: number, n: number) => b[(K - 1 - k) * N + (N - 1 - n)];
    const calls: Partial<GemmCall>[] = [
      { alpha: 0, beta: 1 },
      { alpha: 1, beta: -1, lowerDiagShift: 2 },
      { alpha: 0.5, beta: 2, bLowerShift: -2 },
      { alpha: 1, beta: -1, lowerDiagShift: -3, bLowerShift: -2 },
    ];
    for (const extra of calls) {
      const outs: Float32Array[] = [];
      for (const variant of GEMM_VARIANTS) outs.push(await runGemm(M, N, K, a, b, c0, ld, extra, variant));
      // The f64 reference for the first variant; then every variant equal to it bit for bit.
      const shift = extra.lowerDiagShift;
      for (let m = 0; m < M; m++) {
        for (let n = 0; n < N; n++) {
          const at = 9 + m * ld + n;
          let want = c0[at];
          if (shift === undefined || n + shift <= m) {
            let sum = 0;
            for (let k = 0; k < K; k++) sum += A(m, k) * B(k, n);
            want = extra.beta! * sum + (extra.alpha ? extra.alpha * c0[at] : 0);
          }
          expect(Math.abs(outs[0][at] - want)).toBeLessThan(1e-4 * (1 + Math.abs(want)) * Math.sqrt(K));
        }
      }
      for (const out of outs.slice(1)) expect(Array.from(out)).toEqual(Array.from(outs[0]));
    }
  });

  it('tuneGemm picks one of the variants, once per device', async () => {
    const t = await tuneGemm(rt);
    expect(GEMM_VARIANTS).toContain(t.variant);
    expect(Object.keys(t.gflops).length).toBeGreaterThan(0);
    for (const g of Object.values(t.gflops)) expect(g).toBeGreaterThan(0);
    expect(await tuneGemm(rt)).toBe(t);
  });
});

/**
 * A 16-bit B (an F16 or BF16 LM head, W [N, K] read as B(k, n) = W[off + n·ldw + k]) gives the same
 * bits as the f32 GEMM of the same values, in every variant: odd offsets and an odd row length put
 * elements in both halves of a word. The values cover F16 subnormals and both signs.
 */
describe('GEMM with a 16-bit B', () => {
  const M = 37;
  const N = 45;
  const K = 29;
  const ldw = 31;
  const off = 3;
  for (const format of ['f16', 'bf16'] as const) {
    it(`${format}: equal to the f32 GEMM of the same values and near the f64 product, in every variant`, async () => {
      const rand = seededRandom(format === 'f16' ? 16 : 8);
      const length = Math.ceil((off + N * ldw) / 2) * 2; // whole words
      // BF16 values: f32s with the low 16 bits cleared.
      const truncated = new Float32Array(1);
      const truncatedBits = new Uint32Array(truncated.buffer);
      const exact = (x: number) => {
        if (format === 'f16') return halfToFloat(floatToHalf(x));
        truncated[0] = x;
        truncatedBits[0] &= 0xffff0000;
        return truncated[0];
      };
      const w = Float32Array.from({ length }, (_, i) => exact(i % 11 === 0 ? gaussian(rand) * 3e-6 : gaussian(rand)));
      const words = packedRows(w, length, length, format)!;
      expect(words).not.toBeNull();
      const a = Float32Array.from({ length: M * K }, () => gaussian(rand));
      const run = async (variant: GemmVariant, b16: boolean) => {
        const ab = rt.storage(a.byteLength, 'a');
        const bb = rt.storage(b16 ? words.byteLength : w.byteLength, 'b');
        const cb = rt.storage(M * N * 4, 'c');
        rt.upload(ab, 0, a);
        rt.upload(bb, 0, b16 ? words : w);
        const rec = rt.recorder('gemm16');
        encodeGemm(rec, {
          M, N, K,
          A: { binding: { buffer: ab }, off: 0, rs: K, cs: 1 },
          B: { binding: { buffer: bb }, off, rs: 1, cs: ldw, format: b16 ? format : 'f32' },
          C: { binding: { buffer: cb }, off: 0, ld: N },
          alpha: 0,
          beta: 1,
        }, variant);
        rec.finish();
        const out = await rt.readF32(cb, 0, M * N);
        rt.release(ab, bb, cb);
        return out;
      };
      for (const variant of GEMM_VARIANTS) {
        const c16 = await run(variant, true);
        expect(Array.from(c16), variant.name).toEqual(Array.from(await run(variant, false)));
        for (let m = 0; m < M; m++) {
          for (let n = 0; n < N; n++) {
            let sum = 0;
            for (let k = 0; k < K; k++) sum += a[m * K + k] * w[off + n * ldw + k];
            expect(Math.abs(c16[m * N + n] - sum)).toBeLessThan(1e-4 * (1 + Math.abs(sum)) * Math.sqrt(K));
          }
        }
      }
    });
  }
});

async function runGemm(
  M: number,
  N: number,
  K: number,
  a: Float32Array,
  b: Float32Array,
  c0: Float32Array,
  ld: number,
  extra: Partial<GemmCall>,
  variant: GemmVariant,
): Promise<Float32Array> {
  const ab = rt.storage(a.byteLength, 'a');
  const bb = rt.storage(b.byteLength, 'b');
  const cb = rt.storage(c0.byteLength, 'c');
  rt.upload(ab, 0, a);
  rt.upload(bb, 0, b);
  rt.upload(cb, 0, c0);
  const rec = rt.recorder('gemm');
  encodeGemm(
    rec,
    {
      M,
      N,
      K,
      A: { binding: { buffer: ab }, off: 5, rs: 1, cs: M },
      B: { binding: { buffer: bb }, off: K * N - 1, rs: -N, cs: -1 },
      C: { binding: { buffer: cb }, off: 9, ld },
      alpha: 0,
      beta: 1,
      ...extra,
    },
    variant,
  );
  rec.finish();
  const out = await rt.readF32(cb, 0, c0.length);
  rt.release(ab, bb, cb);
  return out;
}
