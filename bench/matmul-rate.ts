/**
 * The matmul ceiling the benchmarks compare their stages with: GFLOP/s of one n × n × n product
 * on the device, with the GEMM encodeGemm uses there (tuned or not) or the workgroup-tiled matmul.
 * Wall clock of the mean of 3 runs after a compiling one.
 */
import { encodeGemm, squareProduct } from '../src/gpu/kernels/gemm';
import { encodeTiledMatmul } from '../src/gpu/kernels/matmul-tiled';
import type { GpuRuntime } from '../src/gpu/runtime';

/** The largest side --matmul takes: three 4096² f32 matrices, 64 MiB each, fit every adapter's bindings (128 MiB at least). */
export const MAX_MATMUL = 4096;

export async function matmulRate(rt: GpuRuntime, n: number, variant: 'gemm' | 'tiled' = 'gemm'): Promise<number> {
  const bytes = n * n * 4;
  const A = rt.storage(bytes, 'bench.A');
  const B = rt.storage(bytes, 'bench.B');
  const C = rt.storage(bytes, 'bench.C');
  const run = async () => {
    const rec = rt.recorder(`bench.${variant}`);
    if (variant === 'tiled') encodeTiledMatmul(rec, n, n, n, A, B, C);
    else
      encodeGemm(rec, squareProduct(n, A, B, C));
    rec.finish();
    await rt.idle();
  };
  await run(); // compile and warm up
  const t0 = performance.now();
  const reps = 3;
  for (let i = 0; i < reps; i++) await run();
  const seconds = (performance.now() - t0) / 1000 / reps;
  rt.release(A, B, C);
  return (2 * n ** 3) / seconds / 1e9;
}
