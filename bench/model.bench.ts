/**
 * Whole-model benchmark: forward tokens per second (and GFLOP/s beside the matmul rate measured
 * around it, bench/matmul-rate.ts), the time of each stage of a sequential GPTQ
 * run (calibration and embedding, each block, GPTQ per linear summed by linear name, perplexity
 * evaluation) and the peak GPU bytes of each phase, on
 *   stories260K  ../shared/models/stories260K, calibrated on stories260K_generated_200_seed20251122.txt,
 *                evaluated on aesop_fables_body_reflowed.txt
 *   gpt2         a synthetic model with GPT-2-small shapes (768 hidden, 12 heads, MLP 3072, vocab
 *                50257, context 1024; LayerNorm, biases, tied head), N(0, 0.02) weights made here in
 *                memory (never written to disk), random token windows for calibration and evaluation.
 * Prints figures; asserts nothing.
 *
 * With --twin NAME: whole CLI runs on shape twins instead, peak RSS and GPU bytes and seconds per stage
 * (bench/model-twins.ts; `npm run bench:model -- --twin smollm2`).
 *
 * Run: npm run bench:model [-- --model stories|gpt2|all --nsamples N --seqlen L --blocks B
 *        --batch W --reps R --eval-windows E --bits B --group-size G --seed S --stages all|forward --matmul M]
 * --nsamples/--seqlen/--batch/--reps/--eval-windows apply to every model run; left out, each
 * model has its own defaults (below), sized to finish in ~10 minutes on a 2-core CPU with Dawn on
 * Mesa llvmpipe (~3 GFLOP/s). The full GPT-2-small is --blocks 12.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { nodeRuntime } from '../src/testing/node-gpu';
import { folderSources } from '../src/testing/node-source';
import { openCheckpoint } from '../src/core/model/checkpoint';
import { loadTokenizer } from '../src/core/model/tokenizer';
import { calibrationWindows, evaluationWindows, textToIds } from '../src/core/model/calibration';
import { loadModel, type LoadedModel } from '../src/engine/model/load-model';
import {
  GpuGlobals,
  greedy,
  hostGlobalWeights,
  scoreSequences,
  type BlockSource,
  type HostBlock,
  type HostLinear,
  type HostNorm,
  type ModelSpec,
} from '../src/engine/model/model-forward';
import { generateGreedy } from '../src/engine/model/generate';
import { inputSets, modelLayout } from '../src/core/model/architecture';
import { normalizeModelConfig } from '../src/core/model/config';
import { quantizeModel, weightKey } from '../src/engine/quantize-model';
import { perplexities } from '../src/engine/evaluate';
import type { GpuGptqResult } from '../src/engine/gptq-layer';
import { defaultRunSettings, type ProgressEvent, type RunSettings } from '../src/core/run';
import { seededRandom } from '../src/core/random';
import { linearFlops } from '../src/core/time-model';
import { describeAdapter } from '../src/gpu/device';
import { tuneKernels } from '../src/gpu/kernels/choices';
import { describeAttentionChoice } from '../src/core/kernel-choice';
import type { GpuRuntime } from '../src/gpu/runtime';
import { twinMain, twinUsage } from './model-twins';
import { MAX_MATMUL, matmulRate } from './matmul-rate';
import { flagUsage, intFlag, readFlags, UsageError } from './flags';

const SHARED = new URL('../../shared/', import.meta.url);

type ModelName = 'stories' | 'gpt2';

interface Sizes {
  nsamples: number;
  seqlen: number;
  /** Windows per forward pass in the tokens-per-second measurement. */
  batch: number;
  /** Timed forward passes after the warm-up. */
  reps: number;
  /** Evaluation windows (per variant); 0 = every window of the evaluation text. */
  evalWindows: number;
  /** New tokens of the greedy generation figure (0: none). */
  genTokens: number;
}

const DEFAULTS: Record<ModelName, Sizes> = {
  stories: { nsamples: 32, seqlen: 256, batch: 16, reps: 3, evalWindows: 0, genTokens: 32 },
  gpt2: { nsamples: 4, seqlen: 128, batch: 4, reps: 1, evalWindows: 4, genTokens: 8 },
};

interface Args {
  models: ModelName[];
  overrides: Partial<Sizes>;
  blocks: number;
  bits: number;
  groupSize: number;
  seed: number;
  /** Only the forward and generation figures (no quantization, no evaluation). */
  forwardOnly: boolean;
  /** Side of the matmul-rate product (bench/matmul-rate.ts). */
  matmul: number;
}

/** Prompt tokens of the generation figure. */
const GEN_PROMPT = 32;

const FLAGS: Record<string, string> = {
  '--model': 'stories|gpt2|all (default all)',
  '--nsamples': 'calibration windows (stories 32, gpt2 4)',
  '--seqlen': 'tokens per window (stories 256, gpt2 128)',
  '--blocks': 'GPT-2 blocks to build and run, 1..12 (default 2)',
  '--batch': 'windows per forward pass in the tokens/s figure (stories 16, gpt2 4)',
  '--reps': 'timed forward passes after the warm-up (stories 3, gpt2 1)',
  '--eval-windows': 'evaluation windows per variant, 0 = all of the text (stories 0, gpt2 4)',
  '--bits': 'bits per weight (default 4)',
  '--group-size': 'columns per group, -1 = per row (default 128)',
  '--seed': 'calibration window seed and synthetic weight seed (default 0)',
  '--gen-tokens': `new tokens of the greedy generation figure after a ${GEN_PROMPT}-token prompt, 0 = none (stories 32, gpt2 8)`,
  '--stages': 'all, or forward: only the forward and generation figures (default all)',
  '--matmul': 'side of the matmul-rate product the forward is compared with (default 512)',
};

function usage(): string {
  return flagUsage('npm run bench:model', FLAGS, 15);
}

function parseArgs(argv: string[]): Args {
  const values = readFlags(argv, FLAGS, usage());
  const int = (flag: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined => intFlag(values, flag, min, max);
  const model = values.get('--model') ?? 'all';
  if (!['stories', 'gpt2', 'all'].includes(model)) throw new UsageError(`--model must be stories, gpt2 or all, got ${model}`);
  const overrides: Partial<Sizes> = {};
  const set = (key: keyof Sizes, n: number | undefined) => {
    if (n !== undefined) overrides[key] = n;
  };
  set('nsamples', int('--nsamples', 1));
  set('seqlen', int('--seqlen', 2));
  set('batch', int('--batch', 1));
  set('reps', int('--reps', 1));
  set('evalWindows', int('--eval-windows', 0));
  set('genTokens', int('--gen-tokens', 0));
  const stages = values.get('--stages') ?? 'all';
  if (stages !== 'all' && stages !== 'forward') throw new UsageError(`--stages must be all or forward, got ${stages}`);
  const groupSize = int('--group-size', -1) ?? 128;
  if (groupSize === 0) throw new UsageError('--group-size must be -1 or positive');
  return {
    models: model === 'all' ? ['stories', 'gpt2'] : [model as ModelName],
    overrides,
    blocks: int('--blocks', 1, 12) ?? 2,
    bits: int('--bits', 2, 8) ?? 4,
    groupSize,
    seed: int('--seed', 0) ?? 0,
    forwardOnly: stages === 'forward',
    matmul: int('--matmul', 16, MAX_MATMUL) ?? 512,
  };
}


// ——— formatting ———

const fmt = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '—');
const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
const now = () => performance.now() / 1000;

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = now();
  const r = await fn();
  return [r, now() - t0];
}

/** Trims the pool and resets its peaks, so the next phase's peak counts only what it allocates. */
function startPhase(rt: GpuRuntime): void {
  rt.pool.trim();
  rt.pool.resetPeaks();
}

function peaks(rt: GpuRuntime): string {
  const s = rt.pool.stats;
  return `peak GPU allocated ${mib(s.peakBytesAllocated)} (in use ${mib(s.peakBytesInUse)})`;
}

// ——— the synthetic GPT-2-small ———

/** Fills a with N(mean, std²) samples (Box–Muller, two per pair of uniforms). */
function fillGaussian(a: Float32Array, rand: () => number, std: number, mean = 0): Float32Array {
  for (let i = 0; i < a.length; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - rand())) * std;
    const t = 2 * Math.PI * rand();
    a[i] = mean + r * Math.cos(t);
    if (i + 1 < a.length) a[i + 1] = mean + r * Math.sin(t);
  }
  return a;
}

function gpt2Spec(blocks: number): ModelSpec {
  const config = normalizeModelConfig({ model_type: 'gpt2', n_embd: 768, n_layer: blocks, n_head: 12, n_positions: 1024, vocab_size: 50257 });
  return {
    layout: modelLayout(config),
    hidden: 768,
    intermediate: 3072,
    layers: blocks,
    heads: 12,
    kvHeads: 12,
    headDim: 64,
    vocab: 50257,
    maxPositions: 1024,
    embedDim: 768,
  };
}

/**
 * GPT-2-small shapes with random weights: N(0, 0.02) linears and token embeddings (GPT-2's
 * initializer range), N(0, 0.01) positions and small biases, LayerNorms near 1/0, tied head.
 * Blocks are made on first use from their own seed and kept (≈28 MB each).
 */
function syntheticGpt2(blocks: number, seed: number): LoadedModel {
  const spec = gpt2Spec(blocks);
  const { hidden: h, intermediate: f, vocab, maxPositions } = spec;
  const rand = seededRandom(seed * 7919 + 1);
  const embed = fillGaussian(new Float32Array(vocab * h), rand, 0.02);
  const norm = (r: () => number): HostNorm => ({
    weight: fillGaussian(new Float32Array(h), r, 0.02, 1),
    bias: fillGaussian(new Float32Array(h), r, 0.02),
  });
  const globals = hostGlobalWeights(spec, {
    embed,
    positions: fillGaussian(new Float32Array(maxPositions * h), rand, 0.01),
    finalNorm: norm(rand),
    lmHead: embed,
  });
  const shapes: Record<string, [number, number]> = {
    'attn.c_attn': [3 * h, h],
    'attn.c_proj': [h, h],
    'mlp.c_fc': [f, h],
    'mlp.c_proj': [h, f],
  };
  const cache = new Map<number, HostBlock>();
  const block: BlockSource = async (b) => {
    if (b < 0 || b >= blocks) throw new RangeError(`block ${b} of ${blocks}`);
    let host = cache.get(b);
    if (!host) {
      const r = seededRandom(seed * 7919 + 1000 + b);
      const linears = new Map<string, HostLinear>();
      for (const name of Object.keys(shapes)) {
        const [out, inF] = shapes[name];
        linears.set(name, {
          W: fillGaussian(new Float32Array(out * inF), r, 0.02),
          out,
          in: inF,
          bias: fillGaussian(new Float32Array(out), r, 0.01),
        });
      }
      host = { linears, norms: new Map([['ln_1', norm(r)], ['ln_2', norm(r)]]) };
      cache.set(b, host);
    }
    return host;
  };
  return {
    spec,
    globals,
    block,
    linears: Object.keys(shapes),
    sequentialGroups: Object.keys(shapes).map((n) => [n]),
  };
}

function randomWindows(count: number, seqlen: number, vocab: number, seed: number): number[][] {
  const rand = seededRandom(seed);
  return Array.from({ length: count }, () => Array.from({ length: seqlen }, () => Math.floor(rand() * vocab)));
}

// ——— the benchmark of one model ———

interface Prepared {
  title: string;
  model: LoadedModel;
  /** Host seconds to make the calibration windows (reading and tokenizing the text, or drawing random ids). */
  windowSeconds: number;
  /** Host seconds to open the checkpoint or make the synthetic weights. */
  loadSeconds: number;
  calib: number[][];
  evalWindows: number[][];
  evalText: string;
  /** Windows for the forward measurement. */
  forward: number[][];
}

async function prepareStories(sizes: Sizes, seed: number): Promise<Prepared> {
  const t0 = now();
  const dir = fileURLToPath(new URL('models/stories260K', SHARED));
  const ckpt = await openCheckpoint(await folderSources(dir));
  const model = await loadModel(ckpt);
  const tok = loadTokenizer(ckpt.tokenizerJson!, ckpt.tokenizerConfigJson);
  const loadSeconds = now() - t0;
  const t1 = now();
  const calibIds = textToIds(tok, readFileSync(new URL('corpus/stories260K_generated_200_seed20251122.txt', SHARED), 'utf8'));
  const calib = calibrationWindows(calibIds, sizes.nsamples, sizes.seqlen, seed);
  const windowSeconds = now() - t1;
  const evalIds = textToIds(tok, readFileSync(new URL('corpus/aesop_fables_body_reflowed.txt', SHARED), 'utf8'));
  const all = evaluationWindows(evalIds, sizes.seqlen);
  const evalWindows = sizes.evalWindows > 0 ? all.slice(0, sizes.evalWindows) : all;
  const forward = Array.from({ length: sizes.batch }, (_, i) => all[i % all.length]);
  return {
    title: `stories260K (${calibIds.length} calibration tokens, ${evalIds.length} evaluation tokens)`,
    model,
    windowSeconds,
    loadSeconds,
    calib,
    evalWindows,
    evalText: `aesop_fables_body_reflowed.txt, ${evalWindows.length} of ${all.length} windows`,
    forward,
  };
}

async function prepareGpt2(sizes: Sizes, blocks: number, seed: number): Promise<Prepared> {
  const [model, loadSeconds] = await timed(async () => {
    const m = syntheticGpt2(blocks, seed);
    for (let b = 0; b < blocks; b++) await m.block(b); // make every block now, outside the timings
    return m;
  });
  const vocab = model.spec.vocab;
  const [calib, windowSeconds] = await timed(async () => randomWindows(sizes.nsamples, sizes.seqlen, vocab, seed + 1));
  const evalWindows = randomWindows(sizes.evalWindows || sizes.nsamples, sizes.seqlen, vocab, seed + 2);
  return {
    title: `synthetic GPT-2-small shapes, ${blocks} of 12 blocks (random N(0, 0.02) weights, random tokens)`,
    model,
    windowSeconds,
    loadSeconds,
    calib,
    evalWindows,
    evalText: `${evalWindows.length} random windows`,
    forward: randomWindows(sizes.batch, sizes.seqlen, vocab, seed + 3),
  };
}

/** Nominal FLOPs of a forward pass over `tokens` tokens in windows of seqlen (linears, attention, LM head). */
function forwardFlops(spec: ModelSpec, tokens: number, seqlen: number): number {
  const q = spec.heads * spec.headDim;
  const kv = spec.kvHeads * spec.headDim;
  const mlp = spec.layout.block.mlp.gate ? 3 : 2;
  const linearParams = (q + 2 * kv) * spec.hidden + q * spec.hidden + mlp * spec.intermediate * spec.hidden;
  // Causal attention: QKᵀ and PV over on average (seqlen + 1)/2 keys.
  const attention = 2 * 2 * q * ((seqlen + 1) / 2);
  return tokens * (spec.layers * (2 * linearParams + attention) + 2 * spec.vocab * spec.hidden);
}

/**
 * Greedy generation of `count` tokens after a GEN_PROMPT-token prompt: rerunning the whole sequence
 * per token (greedy) against the KV cache (generateGreedy), each after a short warm-up.
 */
async function benchGeneration(rt: GpuRuntime, globals: GpuGlobals, p: Prepared, count: number): Promise<void> {
  const prompt = p.forward.flat().slice(0, Math.min(GEN_PROMPT, p.model.spec.maxPositions - count));
  await greedy(rt, globals, p.model.block, prompt, 1);
  const [rerunIds, rerun] = await timed(() => greedy(rt, globals, p.model.block, prompt, count));
  await generateGreedy(rt, globals, p.model.block, prompt, 2);
  const stamps: number[] = [];
  const [kv, total] = await timed(() => generateGreedy(rt, globals, p.model.block, prompt, count, { onToken: () => stamps.push(now()) }));
  const start = stamps[0] - (total - (stamps[stamps.length - 1] - stamps[0]));
  const first = stamps[0] - start;
  const perToken = count > 1 ? (stamps[stamps.length - 1] - stamps[0]) / (count - 1) : Number.NaN;
  const same = kv.ids.every((id, i) => id === rerunIds[i]) && kv.ids.length === rerunIds.length;
  console.log(
    `generation (${prompt.length}-token prompt, ${count} new tokens): rerunning the sequence ${fmt(rerun, 3)} s (${fmt(count / rerun, 2)} tokens/s); ` +
      `KV cache ${fmt(total, 3)} s (${fmt(count / total, 2)} tokens/s; first token ${fmt(first, 3)} s, then ${fmt(perToken, 3)} s per token${kv.cached ? '' : '; not cached: rope frequencies change'}); ` +
      `same ids: ${same ? 'yes' : 'NO'}; ${peaks(rt)}`,
  );
}

async function benchModel(rt: GpuRuntime, name: ModelName, p: Prepared, sizes: Sizes, args: Args): Promise<void> {
  const { spec } = p.model;
  const settings: RunSettings = {
    ...defaultRunSettings,
    bits: args.bits,
    groupSize: args.groupSize,
    nsamples: sizes.nsamples,
    seqlen: sizes.seqlen,
    seed: args.seed,
  };
  console.log(`\n## ${p.title}`);
  console.log(
    `spec: ${spec.layout.arch}, ${spec.layers} blocks, hidden ${spec.hidden}, heads ${spec.heads}/${spec.kvHeads}×${spec.headDim}, ` +
      `MLP ${spec.intermediate}, vocab ${spec.vocab}, context ${spec.maxPositions}, ${spec.layout.block.attnNorm.kind} norm`,
  );
  console.log(
    `settings: nsamples ${sizes.nsamples}, seqlen ${sizes.seqlen}, forward batch ${sizes.batch} windows × ${sizes.reps} rep(s), ` +
      `bits ${settings.bits}, group size ${settings.groupSize}, ${settings.sym ? 'sym' : 'asym'}, ` +
      `true-sequential ${settings.trueSequential}, damp ${settings.percDamp}, seed ${settings.seed}`,
  );
  console.log(`host: model ${name === 'gpt2' ? 'made' : 'opened'} in ${fmt(p.loadSeconds)} s`);

  // 1. Forward tokens per second.
  {
    startPhase(rt);
    const ids = Uint32Array.from(p.forward.flat());
    const globals = await GpuGlobals.load(rt, spec, p.model.globals);
    try {
      const [, warm] = await timed(() => scoreSequences(rt, globals, p.model.block, ids, sizes.seqlen));
      // The matmul ceiling just before and just after the timed passes (the mean is the 100 %).
      const before = await matmulRate(rt, args.matmul);
      const [, total] = await timed(async () => {
        for (let r = 0; r < sizes.reps; r++) await scoreSequences(rt, globals, p.model.block, ids, sizes.seqlen);
      });
      const after = await matmulRate(rt, args.matmul);
      const perPass = total / sizes.reps;
      const gflops = forwardFlops(spec, ids.length, sizes.seqlen) / perPass / 1e9;
      console.log(
        `forward: ${ids.length} tokens per pass (${p.forward.length} × ${sizes.seqlen}): ${fmt(ids.length / perPass, 1)} tokens/s ` +
          `(${fmt(perPass, 3)} s per pass, nominal ${fmt(gflops)} GFLOP/s = ${fmt((100 * gflops) / ((before + after) / 2), 0)}% of the ` +
          `matmul rate, ${fmt(before)} GFLOP/s before and ${fmt(after)} after on ${args.matmul}³; warm-up pass ${fmt(warm, 3)} s); ${peaks(rt)}`,
      );
      if (sizes.genTokens > 0) await benchGeneration(rt, globals, p, sizes.genTokens);
    } finally {
      globals.release();
    }
  }
  if (args.forwardOnly) return;

  // 2. Sequential GPTQ, stage by stage.
  startPhase(rt);
  const windows = Uint32Array.from(p.calib.flat());
  const events: ProgressEvent[] = [];
  const rateBefore = await matmulRate(rt, args.matmul);
  const [q, quantSeconds] = await timed(() => quantizeModel(rt, p.model, windows, settings, { onProgress: (e) => events.push(e) }));
  const quantPeak = peaks(rt);
  const rateAfter = await matmulRate(rt, args.matmul);
  const stage = events.find((e) => e.type === 'stage');
  const embedSeconds = stage?.elapsed ?? Number.NaN;
  console.log(
    `calibration: windows drawn in ${fmt(p.windowSeconds, 3)} s on the host; globals uploaded and ${windows.length} tokens embedded on the GPU in ${fmt(embedSeconds, 3)} s`,
  );
  console.log(`quantization: ${fmt(quantSeconds)} s in all; ${quantPeak}`);
  console.log('');
  // Between progress events: a linear's interval holds its group's capture (when first in the
  // group), GPTQ, RTN and both output MSEs; after a block's last linear comes its quantized forward.
  console.log('| block | seconds | GPTQ s | capture, RTN, output MSE s | quantized forward s |');
  console.log('|---|---|---|---|---|');
  let prev = embedSeconds;
  let gptq = 0;
  let other = 0;
  for (const e of events) {
    if (e.type === 'linear') {
      gptq += e.report.gptq.seconds;
      other += e.elapsed - prev - e.report.gptq.seconds;
      prev = e.elapsed;
    } else if (e.type === 'block') {
      const wall = gptq + other + (e.elapsed - prev);
      console.log(`| ${e.block} | ${fmt(wall)} | ${fmt(gptq)} | ${fmt(other)} | ${fmt(e.elapsed - prev)} |`);
      prev = e.elapsed;
      gptq = other = 0;
    }
  }
  console.log('');
  console.log(`GPTQ seconds per linear, summed over the ${spec.layers} blocks (stages as GptqLayer times them;`);
  console.log('the Hessian is accumulated inside the capture pass, so its time is in the capture column above):');
  console.log('| linear | out×in | total s | Hessian s | prepare s | inverse s | sweep s | finalize s | Σ MSE GPTQ/RTN |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const lin of p.model.linears) {
    const reports = q.layers.filter((l) => l.name === lin);
    if (reports.length === 0) continue;
    const sum = { total: 0, hessian: 0, prepare: 0, inverse: 0, sweep: 0, finalize: 0 };
    for (const r of reports) {
      const s = (q.gptq.get(weightKey(r.block, lin)) as GpuGptqResult | undefined)?.seconds;
      sum.total += r.gptq.seconds;
      if (s) {
        sum.hessian += s.hessian;
        sum.prepare += s.prepare;
        sum.inverse += s.inverse;
        sum.sweep += s.sweep;
        sum.finalize += s.finalize;
      }
    }
    const mseRatio = reports.reduce((a, r) => a + r.gptq.mse, 0) / reports.reduce((a, r) => a + r.rtn.mse, 0);
    console.log(
      `| ${lin} | ${reports[0].rows}×${reports[0].cols} | ${fmt(sum.total)} | ${fmt(sum.hessian)} | ${fmt(sum.prepare)} | ` +
        `${fmt(sum.inverse)} | ${fmt(sum.sweep)} | ${fmt(sum.finalize)} | ${fmt(mseRatio, 3)} |`,
    );
  }
  const gptqTotal = q.layers.reduce((a, l) => a + l.gptq.seconds, 0);
  console.log(`Σ GPTQ ${fmt(gptqTotal)} s of ${fmt(quantSeconds)} s quantization`);
  // The inverse and the sweep over the whole run against the matmul rate measured just before and
  // after it: the inverse's FLOPs once per H (the linears of a group that read one input share it).
  const stageFlops = { inverse: 0, sweep: 0 };
  const stageSeconds = { inverse: 0, sweep: 0 };
  const setOf = new Map(inputSets(spec.layout.block).flatMap((set, i) => set.map((n) => [n, i] as const)));
  const factored = new Set<string>();
  for (const r of q.layers) {
    const { rows, cols, seconds: s } = q.gptq.get(weightKey(r.block, r.name))!;
    const f = linearFlops(rows, cols, 0);
    const input = `${r.block}/${setOf.get(r.name) ?? r.name}`;
    if (!factored.has(input)) stageFlops.inverse += f.inverse;
    factored.add(input);
    stageFlops.sweep += f.sweep;
    stageSeconds.inverse += s?.inverse ?? 0;
    stageSeconds.sweep += s?.sweep ?? 0;
  }
  const rate = (rateBefore + rateAfter) / 2;
  console.log(`stages over the run, against the matmul rate of ${fmt(rateBefore)} GFLOP/s before and ${fmt(rateAfter)} after on ${args.matmul}³: ` +
    (['inverse', 'sweep'] as const).map((k) => {
      const g = stageFlops[k] / stageSeconds[k] / 1e9;
      return `${k} ${fmt(g, 2)} GFLOP/s (${fmt((100 * g) / rate, 0)} %)`;
    }).join(', '));

  // 3. Evaluation: perplexity of the original, RTN and GPTQ weights.
  console.log('');
  startPhase(rt);
  const evalIds = Uint32Array.from(p.evalWindows.flat());
  const perPass = Math.max(1, sizes.batch);
  const parts: string[] = [];
  let mark = performance.now();
  const [, evalSeconds] = await timed(() =>
    perplexities(rt, p.model, q, evalIds, sizes.seqlen, perPass, {
      onEach: (label, ppl) => {
        const now = performance.now();
        parts.push(`${label} ${fmt(ppl, 3)} (${fmt((now - mark) / 1000)} s)`);
        mark = now;
      },
    }),
  );
  console.log(
    `evaluation (${p.evalText}, ${evalIds.length} tokens, ${perPass} windows per pass): perplexity ${parts.join(', ')}; ` +
      `${fmt(evalSeconds)} s in all; ${peaks(rt)}`,
  );
  console.log(
    `stages: calibration ${fmt(p.windowSeconds + embedSeconds)} s, quantization ${fmt(quantSeconds - embedSeconds)} s, ` +
      `evaluation ${fmt(evalSeconds)} s`,
  );
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const rt = await nodeRuntime();
  const limits = rt.summary.limits;
  console.log(`adapter: ${describeAdapter(rt.summary)} — ${rt.summary.description || 'no description'}`);
  console.log(
    `backend: ${process.env.WGPU_BACKEND ?? 'opengles'}; binding limit ${mib(rt.bindingLimit)}, maxBufferSize ${mib(limits.maxBufferSize)}`,
  );
  console.log(`command line: ${process.argv.slice(2).join(' ') || '(defaults)'}`);
  // As a run does (run-model.ts): the forward and GPTQ use the kernels timed fastest here.
  const choices = await tuneKernels(rt);
  console.log(`kernels (timed on probes): GEMM ${choices.gemm}; attention ${describeAttentionChoice(choices.attention)}`);
  try {
    for (const name of args.models) {
      const sizes = { ...DEFAULTS[name], ...args.overrides };
      const p = name === 'stories' ? await prepareStories(sizes, args.seed) : await prepareGpt2(sizes, args.blocks, args.seed);
      await benchModel(rt, name, p, sizes, args);
    }
  } finally {
    rt.destroy();
  }
}

// --twin: whole CLI runs on shape twins (bench/model-twins.ts); otherwise the stages in process.
const argv = process.argv.slice(2);
const twinMode = argv.some((a) => a.split('=')[0] === '--twin');
(twinMode ? twinMain(argv) : main()).catch((e) => {
  if (e instanceof UsageError) {
    console.error(`${e.message}\n${twinMode ? twinUsage() : usage()}`);
    process.exit(2);
  }
  console.error(e);
  process.exit(1);
});
