/**
 * Shape twins of the small models people bring: SmolLM2-135M (llama), Qwen3-0.6B (qwen3),
 * Gemma-3-270m (gemma3_text) and Llama-3.2-1B (llama with llama3 RoPE), each with its real
 * config.json values (vocabulary, widths, heads, head_dim, RoPE, sliding windows) and random
 * bfloat16 weights that the benchmark writes into a temporary folder (deleted afterwards; never
 * committed), with --blocks of their blocks. Each model is then measured in a child process of
 * its own, so that its peak process memory is its own:
 *   load      openCheckpoint + loadModel (headers, embeddings and head read as f32) and the upload
 *             of the weights outside the blocks to the GPU, seconds
 *   forward   tokens per second of scoreSequences (every block, the head, NLL) on random ids
 *   quantize  sequential GPTQ (quantizeModel), seconds per block
 *   memory    peak GPU bytes the buffer pool held while quantizing and in the forward, the estimates
 *             (estimateRunMemory: the quantization's phase, the whole run's with its evaluation), and the
 *             peak resident set size of the process (maxRSS)
 * Prints figures; asserts nothing.
 *
 * Run: npm run bench:families [-- --model smollm2|qwen3|gemma3|llama32|all --blocks B --nsamples N
 *        --seqlen L --batch W --reps R --bits B --group-size G --seed S]
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seededRandom } from '../src/core/random';
import { GEMMA3_270M, LLAMA32_1B, QWEN3_06B, SMOLLM2_135M, writeTwin } from './twins';
import { flagUsage, intFlag, readFlags, UsageError } from './flags';

const MODELS = {
  smollm2: { title: 'SmolLM2-135M', config: SMOLLM2_135M },
  qwen3: { title: 'Qwen3-0.6B', config: QWEN3_06B },
  gemma3: { title: 'Gemma-3-270m', config: GEMMA3_270M },
  llama32: { title: 'Llama-3.2-1B', config: LLAMA32_1B },
} as const;
type ModelName = keyof typeof MODELS;

interface Args {
  models: ModelName[];
  blocks: number;
  nsamples: number;
  seqlen: number;
  batch: number;
  reps: number;
  bits: number;
  groupSize: number;
  seed: number;
  /** Child mode: measure the twin in this folder. */
  measure: string | null;
}

const FLAGS: Record<string, string> = {
  '--model': `${Object.keys(MODELS).join('|')}|all (default all)`,
  '--blocks': 'blocks of each twin to build and run (default 2; the real models have 30/28/18/16)',
  '--nsamples': 'calibration windows (default 4)',
  '--seqlen': 'tokens per window (default 128)',
  '--batch': 'windows per forward pass in the tokens/s figure (default 4)',
  '--reps': 'timed forward passes after the warm-up (default 1)',
  '--bits': 'bits per weight (default 4)',
  '--group-size': 'columns per group, -1 = per row (default 128)',
  '--seed': 'weight and token seed (default 0)',
};

function usage(): string {
  return flagUsage('npm run bench:families', FLAGS, 13);
}

function parseArgs(argv: string[]): Args {
  const values = readFlags(argv, FLAGS, usage(), ['--measure']);
  const int = (flag: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number => intFlag(values, flag, min, max) ?? fallback;
  const model = values.get('--model') ?? 'all';
  if (model !== 'all' && !(model in MODELS)) throw new UsageError(`--model must be ${FLAGS['--model']}, got ${model}`);
  const groupSize = int('--group-size', 128, -1);
  if (groupSize === 0) throw new UsageError('--group-size must be -1 or positive');
  return {
    models: model === 'all' ? (Object.keys(MODELS) as ModelName[]) : [model as ModelName],
    blocks: int('--blocks', 2, 1),
    nsamples: int('--nsamples', 4, 1),
    seqlen: int('--seqlen', 128, 2),
    batch: int('--batch', 4, 1),
    reps: int('--reps', 1, 1),
    bits: int('--bits', 4, 2, 8),
    groupSize,
    seed: int('--seed', 0, 0),
    measure: values.get('--measure') ?? null,
  };
}

const fmt = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '—');
const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
const now = () => performance.now() / 1000;

// ——— the measurement (child process) ———

async function measure(args: Args): Promise<void> {
  const { nodeRuntime } = await import('../src/testing/node-gpu');
  const { folderSources } = await import('../src/testing/node-source');
  const { openCheckpoint } = await import('../src/core/model/checkpoint');
  const { loadModel } = await import('../src/engine/model/load-model');
  const { GpuGlobals, scoreSequences } = await import('../src/engine/model/model-forward');
  const { quantizeModel } = await import('../src/engine/quantize-model');
  const { estimateRunMemory, globalsHeldOf } = await import('../src/engine/memory-estimate');
  const { planExport } = await import('../src/core/export/plan');
  const { defaultRunSettings } = await import('../src/core/run');
  const { describeAdapter } = await import('../src/gpu/device');
  const { architectureFacts } = await import('../src/core/model/describe');

  const rt = await nodeRuntime();
  try {
    const t0 = now();
    const ckpt = await openCheckpoint(await folderSources(args.measure!), { requireTokenizer: false });
    const model = await loadModel(ckpt);
    const hostLoad = now() - t0;
    const t1 = now();
    const globals = await GpuGlobals.load(rt, model.spec, model.globals);
    await rt.idle();
    const upload = now() - t1;
    const spec = model.spec;
    const s = ckpt.summary();
    console.log(`adapter: ${describeAdapter(rt.summary)}; binding limit ${mib(rt.bindingLimit)}`);
    console.log(`twin: ${spec.layout.arch}, ${spec.layers} blocks, hidden ${spec.hidden}, heads ${spec.heads}/${spec.kvHeads}×${spec.headDim}, ` +
      `MLP ${spec.intermediate}, vocab ${spec.vocab}; ${(s.parameters / 1e6).toFixed(1)} M parameters, ${mib(s.bytes)} BF16 on disk`);
    for (const f of architectureFacts(ckpt.config, ckpt.layout)) console.log(`  ${f.label}: ${f.value}`);
    console.log(`load: ${fmt(hostLoad)} s to open and read the weights outside the blocks, ${fmt(upload)} s to upload them; RSS ${mib(process.memoryUsage().rss)}`);

    const rand = (seed: number, count: number) => {
      const r = seededRandom(seed);
      return Uint32Array.from({ length: count }, () => Math.floor(r() * spec.vocab));
    };
    rt.pool.trim();
    rt.pool.resetPeaks();
    const ids = rand(args.seed + 1, args.batch * args.seqlen);
    const tw = now();
    await scoreSequences(rt, globals, model.block, ids, args.seqlen);
    const warm = now() - tw;
    const tf = now();
    for (let r = 0; r < args.reps; r++) await scoreSequences(rt, globals, model.block, ids, args.seqlen);
    const perPass = (now() - tf) / args.reps;
    const forwardPeak = rt.pool.stats.peakBytesAllocated;
    console.log(`forward: ${fmt(ids.length / perPass, 1)} tokens/s (${args.batch} × ${args.seqlen} tokens per pass, ${fmt(perPass)} s; ` +
      `warm-up ${fmt(warm)} s); peak GPU ${mib(forwardPeak)}`);
    globals.release();

    rt.pool.trim();
    rt.pool.resetPeaks();
    const settings = { ...defaultRunSettings, bits: args.bits, groupSize: args.groupSize, nsamples: args.nsamples, seqlen: args.seqlen, seed: args.seed };
    const windows = rand(args.seed + 2, args.nsamples * args.seqlen);
    const blockEnds: number[] = [];
    const tq = now();
    const q = await quantizeModel(rt, model, windows, settings, {
      onProgress: (e) => {
        if (e.type === 'block') blockEnds.push(e.elapsed);
      },
    });
    const quantSeconds = now() - tq;
    const quantPeak = rt.pool.stats.peakBytesAllocated;
    const perBlock = blockEnds.map((t, i) => t - (i === 0 ? 0 : blockEnds[i - 1]));
    const estimate = estimateRunMemory(spec, settings, rt.bindingLimit, globalsHeldOf(ckpt, planExport(ckpt.config, ckpt.layout, settings).f16));
    const mse = (k: 'gptq' | 'rtn') => q.layers.reduce((a, l) => a + l[k].mse, 0);
    console.log(`quantize: ${fmt(quantSeconds)} s for ${spec.layers} blocks (${args.nsamples} × ${args.seqlen} tokens, ${args.bits}-bit g${args.groupSize}); ` +
      `per block ${perBlock.map((t) => fmt(t)).join(', ')} s; Σ MSE GPTQ/RTN ${fmt(mse('gptq') / mse('rtn'), 3)}`);
    console.log(`memory: peak GPU ${mib(quantPeak)} while quantizing (estimate ${mib(Math.max(estimate.phases.embedding, estimate.phases.quantization))}), ` +
      `${mib(forwardPeak)} in the forward; the run's estimate ${mib(estimate.totalBytes)} (its evaluation ${mib(estimate.phases.evaluation)}); ` +
      `peak RSS ${mib(process.resourceUsage().maxRSS * 1024)}`);
    console.log(`RESULT ${JSON.stringify({
      load: hostLoad + upload, tokensPerSecond: ids.length / perPass, secondsPerBlock: perBlock, peakGpu: Math.max(quantPeak, forwardPeak),
      estimate: estimate.totalBytes, peakRss: process.resourceUsage().maxRSS * 1024,
    })}`);
  } finally {
    rt.destroy();
  }
}

// ——— the parent ———

function childArgs(a: Args): string[] {
  return ['--blocks', a.blocks, '--nsamples', a.nsamples, '--seqlen', a.seqlen, '--batch', a.batch, '--reps', a.reps, '--bits', a.bits, '--group-size', a.groupSize, '--seed', a.seed].map(String);
}

/** Runs the measuring child, echoing its lines as they come; resolves with its RESULT line, or null. */
function runChild(root: string, args: string[]): Promise<string | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', './tools/register-raw.mjs', '--import', 'tsx', 'bench/families.bench.ts', ...args], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let result: string | null = null;
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith('RESULT ')) result = line.slice(7);
      else console.log(line);
    });
    child.on('close', (code) => resolve(code === 0 ? result : null));
  });
}

async function main(args: Args): Promise<void> {
  const root = fileURLToPath(new URL('../', import.meta.url));
  const rows: string[] = [];
  console.log(`command line: ${process.argv.slice(2).join(' ') || '(defaults)'}`);
  for (const name of args.models) {
    const { title, config } = MODELS[name];
    const dir = mkdtempSync(join(tmpdir(), `twin-${name}-`));
    try {
      console.log(`\n## ${title} twin, ${args.blocks} of ${config.num_hidden_layers} blocks`);
      const t0 = now();
      const bytes = writeTwin(config, args.blocks, dir, args.seed);
      console.log(`made: ${mib(bytes)} of random bfloat16 weights in ${fmt(now() - t0)} s (${dir}, deleted afterwards)`);
      const result = await runChild(root, [...childArgs(args), '--measure', dir]);
      if (!result) {
        rows.push(`| ${title} | failed (see above) | | | | |`);
        continue;
      }
      const r = JSON.parse(result) as { load: number; tokensPerSecond: number; secondsPerBlock: number[]; peakGpu: number; estimate: number; peakRss: number };
      rows.push(`| ${title} | ${fmt(r.load)} | ${fmt(r.tokensPerSecond, 1)} | ${r.secondsPerBlock.map((t) => fmt(t, 1)).join(', ')} | ${mib(r.peakGpu)} (est. ${mib(r.estimate)}) | ${mib(r.peakRss)} |`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  console.log(`\n## Summary (${args.blocks} blocks each, ${args.nsamples} × ${args.seqlen} calibration tokens, forward ${args.batch} × ${args.seqlen})`);
  console.log('| twin | load s | forward tokens/s | quantization s per block | peak GPU | peak RSS |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
}

try {
  const args = parseArgs(process.argv.slice(2));
  if (args.measure) {
    measure(args).catch((e) => {
      console.error(e);
      process.exit(1);
    });
  } else {
    void main(args);
  }
} catch (e) {
  if (e instanceof UsageError) {
    console.error(`${e.message}\n${usage()}`);
    process.exit(2);
  }
  throw e;
}
