/** Both matmul variants against a float64 product, on shapes with ragged edges. */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { nodeRuntime } from '../../testing/node-gpu';
import { gaussian, seededRandom } from '../../testing/random';
import { encodeTiledMatmul } from './matmul-tiled';
import { encodeGemm } from './gemm';
import type { GpuRuntime } from '../runtime';

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

  it('strided GEMM, B read transposed and reversed', async () => {
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
    });
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
