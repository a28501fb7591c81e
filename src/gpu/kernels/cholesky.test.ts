/** Blocked Cholesky and triangular inverse against the f64 reference, at sizes around the block edge. */
import { describe, it, expect, afterAll } from 'vitest';
import { nodeRuntime } from '../../testing/node-gpu';
import { randomSpd, seededRandom } from '../../testing/random';
import { cholesky, lowerTriangularInverse } from '../../core/linalg';
import { CHOL_NB, choleskyScratchBytes, outerBlock, encodeCholesky, encodeTriangularInverse, inverseScratchBytes } from './cholesky';
import { STATUS_SLOTS } from './checks';
import { GEMM_VARIANTS, useGemmVariant } from './gemm';
import type { GpuRuntime } from '../runtime';

const runtimes: GpuRuntime[] = [];
afterAll(() => runtimes.forEach((r) => r.destroy()));

async function factor(rt: GpuRuntime, H: Float64Array, n: number) {
  const A = rt.matrix(n, n, 'A');
  const Linv = rt.matrix(n, n, 'Linv');
  const T = rt.matrix(CHOL_NB, n, 'T');
  const lkk = rt.storage(choleskyScratchBytes(n, rt.bindingLimit).lkk, 'lkk');
  const panel = rt.storage(choleskyScratchBytes(n, rt.bindingLimit).panel, 'panel');
  const dinv = rt.storage(inverseScratchBytes(n), 'dinv');
  const status = rt.storage(STATUS_SLOTS * 4, 'status');
  rt.uploadMatrix(A, Float32Array.from(H));
  const rec = rt.recorder('chol');
  rec.clear(status);
  encodeCholesky(rec, A, { lkk, panel }, status, 0, rt.bindingLimit);
  encodeTriangularInverse(rec, A, Linv, { dinv, T }, status, 0, rt.bindingLimit);
  rec.finish();
  const out = { L: await rt.readMatrix(A), Linv: await rt.readMatrix(Linv), failed: (await rt.readU32(status, 0, 1))[0] };
  rt.release(A, Linv, T, lkk, panel, dinv, status);
  return out;
}

function maxRelLower(gpu: Float32Array, ref: Float64Array, n: number): number {
  let err = 0;
  let scale = 0;
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) {
      err = Math.max(err, Math.abs(gpu[i * n + j] - ref[i * n + j]));
      scale = Math.max(scale, Math.abs(ref[i * n + j]));
    }
  return err / scale;
}

it('has the outer blocks the sizes below are chosen for', () => {
  expect(outerBlock(520, 1 << 27)).toBe(256);
  expect(outerBlock(300, 256 << 10)).toBe(192);
  expect(outerBlock(700, 1 << 20)).toBe(256);
  expect(outerBlock(200, 64 << 10)).toBe(64);
});

// Sizes around the block edges. With the adapter's limit the outer blocks are 256 columns wide
// (300 and 520: one and two trailing updates between outer blocks, the last block partial); with
// 256 KiB bindings, 192 columns and A bound in windows of rows; with 1 MiB, 256 columns, A in
// windows of 341 rows and trailing updates of two strips over three windows; with 64 KiB,
// the 64-column steps alone (outer blocks of one step). Each with both GEMM kernels (the first
// is the GPU-shaped one, the second the one CPU adapters are tuned to).
describe.each([
  ['adapter limit', undefined, [1, 5, 63, 64, 65, 130, 200, 256, 300, 520], 0],
  ['adapter limit, CPU-shaped GEMM', undefined, [65, 520], 1],
  ['256 KiB bindings', 256 << 10, [300], 0],
  ['1 MiB bindings, CPU-shaped GEMM', 1 << 20, [700], 1],
  ['64 KiB bindings', 64 << 10, [1, 5, 63, 64, 65, 130, 200], 0],
])('Cholesky and inverse (%s)', (_, bindingLimit, sizes, variant) => {
  for (const n of sizes) {
    it(`n = ${n}`, async () => {
      const rt = await nodeRuntime({ bindingLimit });
      runtimes.push(rt);
      useGemmVariant(rt, GEMM_VARIANTS[variant]);
      const H = randomSpd(n, seededRandom(n));
      const L = cholesky(H, n);
      const Linv = lowerTriangularInverse(L, n);
      const gpu = await factor(rt, H, n);
      expect(gpu.failed).toBe(0);
      // f32 with condition numbers of ~10²: relative errors of ~1e-6 expected; 1e-4 leaves room.
      expect(maxRelLower(gpu.L, L, n)).toBeLessThan(1e-4);
      expect(maxRelLower(gpu.Linv, Linv, n)).toBeLessThan(1e-4);
      // The inverse's strict upper triangle is zero.
      let nonzeroAbove = 0;
      for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) if (gpu.Linv[i * n + j] !== 0) nonzeroAbove++;
      expect(nonzeroAbove).toBe(0);
    });
  }

  it('flags a matrix that is not positive definite', async () => {
    const rt = await nodeRuntime({ bindingLimit });
    runtimes.push(rt);
    const n = 70;
    const H = randomSpd(n, seededRandom(3));
    H[66 * n + 66] = -1;
    expect((await factor(rt, H, n)).failed).toBe(1);
  });
});
