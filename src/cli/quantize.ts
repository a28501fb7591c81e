/**
 * `npm run quantize -- …`: the whole-model pipeline from the command line, on Dawn (the
 * `webgpu` package). See HELP in args.ts. The output folder is written under a temporary name
 * and renamed at the end, so a failed or interrupted run leaves nothing in --out.
 */
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, basename, join, resolve } from 'node:path';
import { HELP, parseArgs, UsageError } from './args';
import { progressLine } from './progress';
import { nodeRuntime } from '../testing/node-gpu';
import { folderSources } from '../testing/node-source';
import { openCheckpoint } from '../core/model/checkpoint';
import { CheckpointError } from '../core/model/checkpoint-error';
import { loadTokenizer } from '../core/model/tokenizer';
import { assertSequenceFits, defaultSeqlen } from '../core/model/config';
import { calibrationWindows, evaluationWindows, textToIds } from '../core/model/calibration';
import { loadModel, withWeights } from '../engine/model/load-model';
import { quantizeModel, weightKey } from '../engine/quantize-model';
import { perplexity } from '../engine/evaluate';
import { assertRunFits } from '../engine/memory-estimate';
import { RunCancelledError, type ModelVariant, type ProgressEvent, type RunSettings } from '../core/run';
import type { RunReport } from '../core/report';

/** A problem with the flags or inputs: exit code 2. */
class InputError extends Error {}

const fail = (message: string): never => {
  throw new InputError(message);
};

async function readTextFile(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    return fail(`cannot read the ${what} file ${path}: ${(e as Error).message}`);
  }
}

async function checkOut(out: string): Promise<void> {
  const s = await stat(out).catch(() => null);
  if (!s) return;
  if (!s.isDirectory()) fail(`--out ${out} exists and is not a folder`);
  if ((await readdir(out)).length > 0) fail(`--out ${out} is not empty; give a new or empty folder`);
}

function reporter(): (e: ProgressEvent) => void {
  const tty = process.stderr.isTTY;
  return (e) => {
    const line = progressLine(e);
    if (tty && e.type === 'linear') process.stderr.write(`\r\x1b[2K${line}`);
    else if (e.type !== 'linear' || e.done === e.total) process.stderr.write(`${tty ? '\r\x1b[2K' : ''}${line}\n`);
  };
}

async function main(argv: string[]): Promise<number> {
  const opts = parseArgs(argv);
  if (!opts) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const t0 = performance.now();
  const elapsed = () => (performance.now() - t0) / 1000;
  const out = resolve(opts.out);
  await checkOut(out);
  const sources = await folderSources(opts.model).catch((e: Error) => fail(`cannot read the model folder ${opts.model}: ${e.message}`));
  const ckpt = await openCheckpoint(sources);
  const tokenizer = loadTokenizer(ckpt.tokenizerJson!, ckpt.tokenizerConfigJson);
  const seqlen = opts.settings.seqlen ?? defaultSeqlen(ckpt.config);
  assertSequenceFits(ckpt.config, seqlen);
  const settings: RunSettings = { ...opts.settings, seqlen };
  const calibIds = textToIds(tokenizer, await readTextFile(opts.calibration, 'calibration'));
  const evalIds = textToIds(tokenizer, await readTextFile(opts.eval, 'evaluation'));
  const windows = calibrationWindows(calibIds, settings.nsamples, seqlen, settings.seed);
  const evalWindows = evaluationWindows(evalIds, seqlen);
  const model = await loadModel(ckpt);
  const tCalibration = elapsed();

  const rt = await nodeRuntime();
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.once('SIGINT', onSigint);
  const emit = reporter();
  try {
    try {
      assertRunFits(model.spec, settings.nsamples, seqlen, rt.summary, opts.gpuMemoryBudget, rt.bindingLimit);
    } catch (e) {
      fail((e as Error).message);
    }
    emit({ type: 'stage', stage: 'calibration', detail: `${windows.length} windows of ${seqlen} tokens from ${calibIds.length}`, elapsed: elapsed() });
    const q = await quantizeModel(rt, model, Uint32Array.from(windows.flat()), settings, { onProgress: emit, signal: abort.signal });
    const tQuantization = elapsed();
    emit({ type: 'stage', stage: 'evaluation', detail: `${evalWindows.length} windows of ${seqlen} tokens`, elapsed: elapsed() });
    const gptqQ = new Map([...q.gptq].map(([k, r]) => [k, r.Q as Float32Array]));
    const sources: Record<ModelVariant, Map<string, Float32Array> | null> = { original: null, rtn: q.rtn, gptq: gptqQ };
    const ppl = {} as Record<ModelVariant, number>;
    const evalFlat = Uint32Array.from(evalWindows.flat());
    for (const variant of ['original', 'rtn', 'gptq'] as const) {
      const w = sources[variant];
      const blocks = w ? withWeights(model.block, (b, n) => w.get(weightKey(b, n))) : model.block;
      ppl[variant] = await perplexity(rt, model, blocks, evalFlat, seqlen, settings.nsamples, abort.signal);
      emit({ type: 'perplexity', variant, value: ppl[variant], elapsed: elapsed() });
    }
    const summary = ckpt.summary();
    const report: RunReport = {
      settings,
      model: { path: opts.model, arch: summary.arch, blocks: summary.blocks, hiddenSize: summary.hiddenSize, parameters: summary.parameters, dtype: summary.dtype },
      adapter: { ...rt.summary, backend: process.env.WGPU_BACKEND ?? 'opengles' },
      calibration: { text: basename(opts.calibration), tokens: calibIds.length, windows },
      layers: q.layers,
      perplexity: { text: basename(opts.eval), seqlen, windows: evalWindows.length, ...ppl },
      seconds: { calibration: tCalibration, quantization: tQuantization - tCalibration, evaluation: elapsed() - tQuantization, total: elapsed() },
    };
    // Written under a temporary name beside --out, then renamed: nothing half-written in --out.
    const tmp = join(dirname(out), `.${basename(out)}.partial-${process.pid}`);
    await rm(tmp, { recursive: true, force: true });
    await mkdir(tmp, { recursive: true });
    try {
      await writeFile(join(tmp, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
      await rm(out, { recursive: true, force: true }); // only ever an empty folder (checked above)
      await rename(tmp, out);
    } catch (e) {
      await rm(tmp, { recursive: true, force: true });
      throw e;
    }
    process.stderr.write(`wrote ${join(out, 'report.json')}\n`);
    return 0;
  } finally {
    process.off('SIGINT', onSigint);
    rt.destroy();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    const input = e instanceof UsageError || e instanceof InputError || e instanceof CheckpointError || e instanceof RangeError;
    if (e instanceof RunCancelledError) {
      process.stderr.write(`\n${e.message}\n`);
      process.exit(130);
    }
    process.stderr.write(`\nerror: ${(e as Error).message ?? e}\n`);
    process.exit(input ? 2 : 1);
  },
);
