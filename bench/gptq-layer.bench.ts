/**
 * GPTQ for one layer on the GPU: time and GFLOP/s of each stage, for the layer shapes
 * with 2048 calibration tokens, beside the GFLOP/s of both matmul kernels on the same adapter
 * (the ceiling), and the f64 reference's time on the CPU for the smaller shapes.
 * Prints figures; asserts nothing. Run: npm run bench [-- --shapes 768x768,4096x4096 --tokens 2048 --ref]
 *
 * Nominal FLOP counts (what a dense implementation must do):
 *   Hessian  2·tokens·cols²            (XᵀX, full symmetric)
 *   inverse  cols³/3 + cols³/3         (Cholesky, triangular inverse)
 *   sweep    2·rows·cols²/2 + rows·cols·block   (lazy updates, in-block updates)
 */
import { nodeRuntime } from '../src/testing/node-gpu';
import { GptqLayer } from '../src/engine/gptq-layer';
import { encodeGemm } from '../src/gpu/kernels/gemm';
import { encodeTiledMatmul } from '../src/gpu/kernels/matmul-tiled';
import { HessianAccumulator } from '../src/core/hessian';
import { gptqReference } from '../src/core/gptq-reference';
import { describeAdapter } from '../src/gpu/device';
import type { GpuRuntime } from '../src/gpu/runtime';

interface Args {
  shapes: [number, number][];
  tokens: number;
  ref: boolean;
  matmul: number;
}

function parseArgs(argv: string[]): Args {
  const get = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const shapes = (get('--shapes') ?? '768x768,3072x768,768x3072,4096x4096')
    .split(',')
    .map((s) => s.split('x').map(Number) as [number, number]);
  return { shapes, tokens: Number(get('--tokens') ?? 2048), ref: argv.includes('--ref'), matmul: Number(get('--matmul') ?? 1024) };
}

/** A layer of Gaussian weights and inputs with varied column scales (made here, not committed). */
function randomLayer(rows: number, cols: number, tokens: number) {
  let s = 12345;
  const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const W = Float32Array.from({ length: rows * cols }, () => rand() * 0.05);
  const colScale = Float32Array.from({ length: cols }, () => Math.exp(rand()));
  const X = new Float32Array(tokens * cols);
  for (let t = 0; t < tokens; t++) for (let c = 0; c < cols; c++) X[t * cols + c] = rand() * colScale[c];
  return { W, X };
}

async function timeMatmul(rt: GpuRuntime, n: number, variant: 'gemm' | 'tiled'): Promise<number> {
  const bytes = n * n * 4;
  const A = rt.storage(bytes, 'bench.A');
  const B = rt.storage(bytes, 'bench.B');
  const C = rt.storage(bytes, 'bench.C');
  const run = async () => {
    const rec = rt.recorder(`bench.${variant}`);
    if (variant === 'tiled') encodeTiledMatmul(rec, n, n, n, A, B, C);
    else
      encodeGemm(rec, {
        M: n,
        N: n,
        K: n,
        A: { binding: { buffer: A }, off: 0, rs: n, cs: 1 },
        B: { binding: { buffer: B }, off: 0, rs: n, cs: 1 },
        C: { binding: { buffer: C }, off: 0, ld: n },
        alpha: 0,
        beta: 1,
      });
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

const fmt = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '—');

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const rt = await nodeRuntime();
  console.log(`adapter: ${describeAdapter(rt.summary)} — ${rt.summary.description || 'no description'}`);
  console.log(`backend: ${process.env.WGPU_BACKEND ?? 'opengles'}; binding limit ${(rt.bindingLimit / 2 ** 20).toFixed(0)} MiB; tokens ${args.tokens}`);
  const gemm = await timeMatmul(rt, args.matmul, 'gemm');
  const tiled = await timeMatmul(rt, args.matmul, 'tiled');
  console.log(`matmul ${args.matmul}³: register-blocked GEMM ${fmt(gemm)} GFLOP/s, workgroup-tiled ${fmt(tiled)} GFLOP/s`);
  console.log('');
  console.log('| rows×cols | Hessian s (GFLOP/s) | prepare s | inverse s (GFLOP/s) | sweep s (GFLOP/s) | finalize s | total s | peak GPU MiB | f64 CPU s |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const [rows, cols] of args.shapes) {
    const { W, X } = randomLayer(rows, cols, args.tokens);
    rt.pool.trim();
    rt.pool.resetPeaks();
    const layer = new GptqLayer(rt, `bench${rows}x${cols}`, W, rows, cols);
    await layer.addBatch(X, args.tokens, 1);
    const r = await layer.quantize({ bits: 4, groupSize: 128 });
    layer.dispose();
    const s = r.seconds;
    const hessianFlops = 2 * args.tokens * cols * cols;
    const inverseFlops = (2 * cols ** 3) / 3;
    const sweepFlops = rows * cols * cols + rows * cols * 128;
    const peak = rt.pool.stats.peakBytesAllocated / 2 ** 20;
    let cpu = Number.NaN;
    if (args.ref && rows * cols <= 3072 * 768) {
      const t0 = performance.now();
      const H = new HessianAccumulator(cols);
      H.addBatch(X, args.tokens, 1);
      gptqReference(W, H.H, rows, cols, { bits: 4, groupSize: 128 });
      cpu = (performance.now() - t0) / 1000;
    }
    console.log(
      `| ${rows}×${cols} | ${fmt(s.hessian)} (${fmt(hessianFlops / s.hessian / 1e9)}) | ${fmt(s.prepare)} | ` +
        `${fmt(s.inverse)} (${fmt(inverseFlops / s.inverse / 1e9)}) | ${fmt(s.sweep)} (${fmt(sweepFlops / s.sweep / 1e9)}) | ` +
        `${fmt(s.finalize)} | ${fmt(s.total)} | ${fmt(peak, 0)} | ${fmt(cpu, 1)} |`,
    );
  }
  rt.destroy();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
