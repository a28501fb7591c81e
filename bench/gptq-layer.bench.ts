/**
 * GPTQ for one layer on the GPU: time, GFLOP/s and share of the matmul rate of each stage, for
 * the layer shapes with 2048 calibration tokens, and the f64 reference's time on the CPU
 * for the smaller shapes. The matmul rate (the ceiling) is the GEMM the stages use, as tuneGemm
 * chose it, on a --matmul³ product, measured just before and just after each shape (the mean of
 * the two is the 100%: on a shared machine the rate drifts). The workgroup-tiled matmul is
 * printed beside it once.
 * Prints figures; asserts nothing. Run: npm run bench [-- --shapes 768x768,4096x4096 --tokens 2048 --matmul 1024 --ref]
 *
 * Nominal FLOP counts (what a dense implementation must do):
 *   Hessian  2·tokens·cols²            (XᵀX, full symmetric)
 *   inverse  cols³/3 + cols³/3         (Cholesky, triangular inverse)
 *   sweep    2·rows·cols²/2 + rows·cols·block   (lazy updates, in-block updates)
 *   output error  2·rows·cols·tokens   ((W − Q)·Xᵀ; the upload of Q included, not counted)
 */
import { nodeRuntime } from '../src/testing/node-gpu';
import { GptqLayer } from '../src/engine/gptq-layer';
import { tuneGemm } from '../src/gpu/kernels/gemm';
import { HessianAccumulator } from '../src/core/hessian';
import { gptqReference } from '../src/core/gptq-reference';
import { describeAdapter } from '../src/gpu/device';
import { MAX_MATMUL, matmulRate } from './matmul-rate';
import { flagUsage, intFlag, readFlags, runBench, UsageError } from './flags';

interface Args {
  shapes: [number, number][];
  tokens: number;
  ref: boolean;
  matmul: number;
}

const DEFAULT_SHAPES = '768x768,3072x768,768x3072,4096x4096';
const FLAGS: Record<string, string> = {
  '--shapes': `rows×cols of each layer, comma-separated (default ${DEFAULT_SHAPES})`,
  '--tokens': 'calibration tokens (default 2048)',
  '--matmul': 'side of the matmul-rate product (default 1024)',
  '--ref': 'yes: also time the f64 reference on the CPU for layers up to 3072×768 weights (default no)',
};
const USAGE = flagUsage('npm run bench', FLAGS, 9);

function parseArgs(argv: string[]): Args {
  // --ref alone (no value) stays accepted, as before the flags had values.
  const values = readFlags(argv.map((a) => (a === '--ref' ? '--ref=yes' : a)), FLAGS, USAGE);
  const shapes = (values.get('--shapes') ?? DEFAULT_SHAPES).split(',').map((s) => {
    const m = /^(\d+)x(\d+)$/.exec(s.trim());
    if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) throw new UsageError(`--shapes: "${s}" is not rows×cols, e.g. 768x3072`);
    return [Number(m[1]), Number(m[2])] as [number, number];
  });
  const ref = values.get('--ref') ?? 'no';
  if (ref !== 'yes' && ref !== 'no') throw new UsageError(`--ref must be yes or no, got ${ref}`);
  return { shapes, tokens: intFlag(values, '--tokens', 1) ?? 2048, ref: ref === 'yes', matmul: intFlag(values, '--matmul', 16, MAX_MATMUL) ?? 1024 };
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

const fmt = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '—');
const pct = (x: number) => (Number.isFinite(x) ? `${Math.round(100 * x)}%` : '—');

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const rt = await nodeRuntime();
  console.log(`adapter: ${describeAdapter(rt.summary)} — ${rt.summary.description || 'no description'}`);
  console.log(`backend: ${process.env.WGPU_BACKEND ?? 'opengles'}; binding limit ${(rt.bindingLimit / 2 ** 20).toFixed(0)} MiB; tokens ${args.tokens}`);
  const tuning = await tuneGemm(rt);
  const rates = Object.entries(tuning.gflops).map(([name, g]) => `${name} ${fmt(g)}`);
  console.log(`GEMM kernels on a 256³ product (GFLOP/s): ${rates.join('; ')}; the stages use: ${tuning.variant.name}`);
  const tiled = await matmulRate(rt, args.matmul, 'tiled');
  console.log(`workgroup-tiled matmul ${args.matmul}³: ${fmt(tiled)} GFLOP/s`);
  console.log('');
  console.log(`| rows×cols | stage | s | GFLOP/s | % of matmul | matmul ${args.matmul}³ GFLOP/s (before, after) |`);
  console.log('|---|---|---|---|---|---|');
  const other: string[] = [];
  for (const [rows, cols] of args.shapes) {
    const { W, X } = randomLayer(rows, cols, args.tokens);
    const before = await matmulRate(rt, args.matmul);
    rt.pool.trim();
    rt.pool.resetPeaks();
    const layer = new GptqLayer(rt, `bench${rows}x${cols}`, W, rows, cols);
    await layer.addBatch(X, args.tokens, 1);
    const r = await layer.quantize({ bits: 4, groupSize: 128 });
    // The output error of the result on the calibration inputs, X already on the GPU (as in a
    // model run): a first call to compile, then the mean of two.
    const Xg = rt.matrix(args.tokens, cols, 'bench.X');
    rt.uploadMatrix(Xg, X);
    await layer.outputMse(r.Q as Float32Array, Xg);
    const tMse = performance.now();
    for (let i = 0; i < 2; i++) await layer.outputMse(r.Q as Float32Array, Xg);
    const mseSeconds = (performance.now() - tMse) / 1000 / 2;
    rt.release(Xg);
    layer.dispose();
    const peak = rt.pool.stats.peakBytesAllocated / 2 ** 20;
    const after = await matmulRate(rt, args.matmul);
    const matmul = (before + after) / 2;
    const s = r.seconds;
    const stages: [string, number, number][] = [
      ['Hessian', s.hessian, 2 * args.tokens * cols * cols],
      ['inverse', s.inverse, (2 * cols ** 3) / 3],
      ['sweep (with lazy updates)', s.sweep, rows * cols * cols + rows * cols * 128],
      ['output error', mseSeconds, 2 * rows * cols * args.tokens],
    ];
    for (const [stage, sec, flops] of stages) {
      const g = flops / sec / 1e9;
      console.log(`| ${rows}×${cols} | ${stage} | ${fmt(sec)} | ${fmt(g)} | ${pct(g / matmul)} | ${fmt(before)}, ${fmt(after)} |`);
    }
    let cpu = Number.NaN;
    if (args.ref && rows * cols <= 3072 * 768) {
      const t0 = performance.now();
      const H = new HessianAccumulator(cols);
      H.addBatch(X, args.tokens, 1);
      gptqReference(W, H.H, rows, cols, { bits: 4, groupSize: 128 });
      cpu = (performance.now() - t0) / 1000;
    }
    other.push(`| ${rows}×${cols} | ${fmt(s.prepare)} | ${fmt(s.finalize)} | ${fmt(s.total)} | ${fmt(peak, 0)} | ${fmt(cpu, 1)} |`);
  }
  console.log('');
  console.log('| rows×cols | prepare s | finalize s | total s | peak GPU MiB | f64 CPU s |');
  console.log('|---|---|---|---|---|---|');
  for (const line of other) console.log(line);
  rt.destroy();
}

runBench(main, USAGE);
