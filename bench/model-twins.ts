/**
 * `npm run bench:model -- --twin NAME[,NAME…]`: whole CLI runs (src/cli/quantize.ts, as a user runs
 * it) on shape twins of real models (bench/twins.ts: the real config, random BF16 weights, the
 * stories260K tokenizer), each in a child process of its own, printing for each: the checkpoint's
 * file size, the process's peak RSS (maxRSS at exit) and its excess over the file size (the
 * issue's goal: ≤ 400 MB), peak GPU bytes, seconds per stage (report.json's seconds and, where the
 * CLI reports them, its stages: embedding, capture, GPTQ, RTN, output MSE, quantized forward;
 * evaluation per model and reading), and the perplexities. `--cli-root DIR` runs the CLI of another
 * checkout (e.g. an export of main, to measure before and after; its node_modules must resolve).
 * Prints figures; asserts nothing.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadTokenizer } from '../src/core/model/tokenizer';
import { evaluationWindows, textToIds } from '../src/core/model/calibration';
import { openCheckpoint } from '../src/core/model/checkpoint';
import { defaultRunSettings } from '../src/core/run';
import { planExport } from '../src/core/export/plan';
import { modelSpec } from '../src/engine/model/load-model';
import { estimateHostMemory } from '../src/engine/host-memory';
import { estimateRunMemory, globalsHeldOf } from '../src/engine/memory-estimate';
import { folderSources } from '../src/testing/node-source';
import { flagLines, intFlag, readFlags, UsageError } from './flags';
import { addTokenizer, QWEN25_05B, SMOLLM2_135M, TINYLLAMA_11B, writeTwin } from './twins';

/** The plan's host and GPU estimates for the twin in `dir` with the bench's settings (128 MiB bindings assumed). */
async function estimates(dir: string, args: Args): Promise<{ host: number; gpu: number }> {
  const ckpt = await openCheckpoint(await folderSources(dir));
  const settings = { ...defaultRunSettings, nsamples: args.nsamples, seqlen: args.seqlen, bits: args.bits, groupSize: args.groupSize };
  const plan = planExport(ckpt.config, ckpt.layout, settings);
  const spec = modelSpec(ckpt);
  if (plan.intermediate) spec.intermediate = plan.intermediate.to;
  const host = estimateHostMemory(ckpt, spec, settings, new Set(plan.unquantized.map((u) => u.name))).totalBytes;
  return { host, gpu: estimateRunMemory(spec, settings, 128 * 2 ** 20, globalsHeldOf(ckpt, plan.f16)).totalBytes };
}

const TWINS = {
  smollm2: { title: 'SmolLM2-135M', config: SMOLLM2_135M },
  qwen25: { title: 'Qwen2.5-0.5B', config: QWEN25_05B },
  tinyllama: { title: 'TinyLlama-1.1B', config: TINYLLAMA_11B },
} as const;
type TwinName = keyof typeof TWINS;

const FLAGS: Record<string, string> = {
  '--twin': `${Object.keys(TWINS).join('|')}, comma-separated (required for this mode)`,
  '--blocks': 'blocks of each twin (default: all of the real model\'s)',
  '--nsamples': 'calibration windows (default 4)',
  '--seqlen': 'tokens per window (default 64)',
  '--eval-windows': 'evaluation windows (default 4)',
  '--bits': 'bits per weight (default 4)',
  '--group-size': 'columns per group (default 64)',
  '--gpu-memory': 'the CLI\'s --gpu-memory in MiB (default 2048)',
  '--cli-root': 'checkout whose src/cli/quantize.ts runs (default this one)',
  '--seed': 'weights\' seed (default 0)',
};

interface Args {
  twins: TwinName[];
  blocks: number | null;
  nsamples: number;
  seqlen: number;
  evalWindows: number;
  bits: number;
  groupSize: number;
  gpuMemory: number;
  cliRoot: string;
  seed: number;
}

export function twinUsage(): string {
  return `npm run bench:model -- --twin NAME [flags]\n${flagLines(FLAGS, 15)}`;
}

function parseArgs(argv: string[]): Args {
  const values = readFlags(argv, FLAGS, twinUsage());
  const int = (flag: string, fallback: number, min: number): number => intFlag(values, flag, min) ?? fallback;
  const twins = (values.get('--twin') ?? '').split(',').filter(Boolean);
  for (const t of twins) if (!(t in TWINS)) throw new UsageError(`--twin: unknown twin ${t} (${Object.keys(TWINS).join(', ')})`);
  if (twins.length === 0) throw new UsageError('--twin needs at least one twin');
  return {
    twins: twins as TwinName[],
    blocks: values.has('--blocks') ? int('--blocks', 1, 1) : null,
    nsamples: int('--nsamples', 4, 1),
    seqlen: int('--seqlen', 64, 2),
    evalWindows: int('--eval-windows', 4, 1),
    bits: int('--bits', 4, 2),
    groupSize: int('--group-size', 64, -1),
    gpuMemory: int('--gpu-memory', 2048, 1),
    cliRoot: resolve(values.get('--cli-root') ?? fileURLToPath(new URL('../', import.meta.url))),
    seed: int('--seed', 0, 0),
  };
}

const SHARED = fileURLToPath(new URL('../../shared/', import.meta.url));
const mib = (b: number | null | undefined) => (typeof b === 'number' ? `${(b / 2 ** 20).toFixed(0)} MiB` : '—');
const fmt = (x: number | null | undefined, d = 1) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(d) : '—');

/** The shortest head of `text` that gives `windows` evaluation windows of `seqlen` tokens. */
function evaluationText(text: string, windows: number, seqlen: number): string {
  const tok = loadTokenizer(readFileSync(join(SHARED, 'models/stories260K/tokenizer.json'), 'utf8'), readFileSync(join(SHARED, 'models/stories260K/tokenizer_config.json'), 'utf8'));
  for (let n = 200; n <= text.length; n += 40) {
    if (evaluationWindows(textToIds(tok, text.slice(0, n)), seqlen).length >= windows) return text.slice(0, n);
  }
  throw new Error(`the evaluation text gives fewer than ${windows} windows of ${seqlen} tokens`);
}

interface ChildResult {
  code: number | null;
  peakRss: number | null;
  wall: number;
}

/** Runs the CLI in `root`, echoing its stderr lines that are not progress redraws; resolves with its peak RSS. */
function runCli(root: string, preload: string, cliArgs: string[]): Promise<ChildResult> {
  const t0 = performance.now();
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', './tools/register-raw.mjs', '--import', 'tsx', '--import', preload, 'src/cli/quantize.ts', ...cliArgs], {
      cwd: root,
      stdio: ['ignore', 'inherit', 'pipe'],
    });
    let peakRss: number | null = null;
    createInterface({ input: child.stderr! }).on('line', (line) => {
      const m = /^PEAK_RSS_BYTES (\d+)/.exec(line);
      if (m) peakRss = Number(m[1]);
      else if (!/linear \d+ of/.test(line)) console.log(`  | ${line}`);
    });
    child.on('close', (code) => done({ code, peakRss, wall: (performance.now() - t0) / 1000 }));
  });
}

interface ReportFigures {
  resources?: { peak_rss_bytes: number | null; peak_gpu_bytes: number };
  seconds: { calibration: number; quantization: number; evaluation: number; total: number; stages?: { quantization: Record<string, number>; evaluation: Record<string, number> } };
  perplexity: { original: number | null; rtn: number | null; gptq: number | null };
}

export async function twinMain(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  const preload = fileURLToPath(new URL('./peak-rss-at-exit.mjs', import.meta.url));
  const calibration = readFileSync(join(SHARED, 'corpus/stories260K_generated_200_seed20251122.txt'), 'utf8').slice(0, 100_000);
  const evalText = evaluationText(readFileSync(join(SHARED, 'corpus/aesop_fables_body_reflowed.txt'), 'utf8'), args.evalWindows, args.seqlen);
  console.log(`command line: ${argv.join(' ')}; CLI from ${args.cliRoot}`);
  console.log(`settings: ${args.nsamples} × ${args.seqlen} calibration tokens, ${args.evalWindows} evaluation windows, ${args.bits}-bit g${args.groupSize}, --gpu-memory ${args.gpuMemory}`);
  const rows: string[] = [];
  for (const name of args.twins) {
    const { title, config } = TWINS[name];
    const blocks = args.blocks ?? config.num_hidden_layers;
    const dir = mkdtempSync(join(tmpdir(), `twin-${name}-`));
    try {
      const model = join(dir, 'model');
      const out = join(dir, 'out');
      mkdirSync(model);
      const t0 = performance.now();
      const bytes = writeTwin(config, blocks, model, args.seed);
      addTokenizer(model);
      writeFileSync(join(dir, 'calib.txt'), calibration);
      writeFileSync(join(dir, 'eval.txt'), evalText);
      console.log(`\n## ${title} twin, ${blocks} of ${config.num_hidden_layers} blocks: ${mib(bytes)} of BF16 weights made in ${fmt((performance.now() - t0) / 1000)} s`);
      const r = await runCli(args.cliRoot, preload, [
        '--model', model, '--calibration', join(dir, 'calib.txt'), '--eval', join(dir, 'eval.txt'), '--out', out,
        '--nsamples', String(args.nsamples), '--seqlen', String(args.seqlen), '--bits', String(args.bits), '--group-size', String(args.groupSize),
        '--gpu-memory', String(args.gpuMemory),
      ]);
      if (r.code !== 0) {
        rows.push(`| ${title} | ${mib(bytes)} | failed (exit ${r.code}; see above) | | | | | | |`);
        continue;
      }
      const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as ReportFigures;
      const s = report.seconds;
      const q = s.stages?.quantization;
      const e = s.stages?.evaluation;
      const quant = q ? `${fmt(s.quantization)} (embed ${fmt(q.embedding)}, capture ${fmt(q.capture)}, GPTQ ${fmt(q.gptq)}, RTN ${fmt(q.rtn)}, MSE ${fmt(q.outputMse)}, forward ${fmt(q.forward)})` : fmt(s.quantization);
      const evaluation = e ? `${fmt(s.evaluation)} (original ${fmt(e.original)}, RTN ${fmt(e.rtn)}, GPTQ ${fmt(e.gptq)}, reading ${fmt(e.reading)}, divergence ${fmt(e.divergence)})` : fmt(s.evaluation);
      const p = report.perplexity;
      const est = await estimates(model, args);
      console.log(`plan's estimates: host ${mib(est.host)}, GPU ${mib(est.gpu)} (with a software adapter in the process, the two add up: ${mib(est.host + est.gpu)})`);
      console.log(`peak RSS ${mib(r.peakRss)} (file + ${mib(r.peakRss === null ? null : r.peakRss - bytes)}), peak GPU ${mib(report.resources?.peak_gpu_bytes)}; ` +
        `seconds: calibration ${fmt(s.calibration)}, quantization ${quant}, evaluation ${evaluation}, total ${fmt(s.total)} (process ${fmt(r.wall)})`);
      rows.push(`| ${title} | ${blocks} | ${mib(bytes)} | ${mib(r.peakRss)} (est. ${mib(est.host)} + GPU ${mib(est.gpu)}) | ${mib(r.peakRss === null ? null : r.peakRss - bytes)} | ${mib(report.resources?.peak_gpu_bytes)} | ` +
        `${fmt(s.quantization)} | ${fmt(s.evaluation)} | ${fmt(s.total)} | ${fmt(p.original, 2)} / ${fmt(p.rtn, 2)} / ${fmt(p.gptq, 2)} |`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  console.log(`\n## Summary (${args.nsamples} × ${args.seqlen} calibration tokens, ${args.evalWindows} evaluation windows, ${args.bits}-bit g${args.groupSize})`);
  console.log('| twin | blocks | file | peak RSS | RSS − file | peak GPU | quantization s | evaluation s | total s | perplexity original / RTN / GPTQ |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const row of rows) console.log(row);
}
