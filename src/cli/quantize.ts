/**
 * `npm run quantize -- …`: the whole-model pipeline from the command line, on Dawn (the
 * `webgpu` package). See HELP in args.ts. The output folder is written under a temporary name
 * and renamed at the end (write-folder.ts), so a failed or interrupted run leaves nothing in --out.
 */
import { mkdir, readFile, readdir, rmdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { totalmem } from 'node:os';
import { writeAtomically } from './write-folder';
import { HELP, parseArgs, UsageError } from './args';
import { progressLine, sweepProgressLine } from './progress';
import { nodeRuntime } from '../testing/node-gpu';
import { folderSources } from '../testing/node-source';
import { CheckpointError } from '../core/model/checkpoint-error';
import { RunCancelledError, type ProgressEvent } from '../core/run';
import { runModel, RunInputError } from '../engine/run-model';
import { runSweep } from '../engine/sweep';
import { runMixedPrecision } from '../engine/mixed-run';
import type { RunPlan } from '../engine/run-plan';
import { exportFolder } from '../engine/export-folder';
import { textFile } from '../core/export/safetensors-writer';

/** The process's peak resident set size so far, in bytes (maxRSS is in KiB). */
function peakRssBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}

/** A problem with the flags or inputs: exit code 2. */
class InputError extends Error {}

const fail = (message: string): never => {
  throw new InputError(message);
};

async function readTextFile(path: string, what: string): Promise<{ name: string; text: string }> {
  try {
    return { name: basename(path), text: await readFile(path, 'utf8') };
  } catch (e) {
    return fail(`cannot read the ${what} file ${path}: ${(e as Error).message}`);
  }
}

/**
 * Refuses, before any work, an --out the run could not write at its end: an existing file or
 * non-empty folder, a path under a file, or a place where no folder can be made (write-folder.ts
 * makes its temporary folder beside --out). The check makes and removes one empty folder.
 */
async function checkOut(out: string): Promise<void> {
  const s = await stat(out).catch(() => null);
  if (s) {
    if (!s.isDirectory()) fail(`--out ${out} exists and is not a folder`);
    if ((await readdir(out)).length > 0) fail(`--out ${out} is not empty; give a new or empty folder`);
  }
  let parent = dirname(out);
  let ps = await stat(parent).catch(() => null);
  while (!ps && dirname(parent) !== parent) {
    parent = dirname(parent);
    ps = await stat(parent).catch(() => null);
  }
  if (!ps || !ps.isDirectory()) fail(`--out ${out} cannot be made: ${parent} is not a folder; give a folder path`);
  const probe = join(parent, `.gptq-studio-probe-${process.pid}`);
  try {
    await mkdir(probe);
    await rmdir(probe);
  } catch (e) {
    fail(`--out ${out} cannot be made: no folder can be created in ${parent} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); give a folder you can write to`);
  }
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
  const out = resolve(opts.out);
  await checkOut(out);
  const files = await folderSources(opts.model).catch((e: Error) => fail(`cannot read the model folder ${opts.model}: ${e.message}`));
  const calibration = await readTextFile(opts.calibration, 'calibration');
  const evaluation = await readTextFile(opts.eval, 'evaluation');
  const rt = await nodeRuntime();
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.once('SIGINT', onSigint);
  if (opts.sweep) {
    try {
      const tty = process.stderr.isTTY;
      const report = await runSweep(rt, {
        files, modelName: basename(resolve(opts.model)), calibration, evaluations: [evaluation], gpuMemoryBudget: opts.gpuMemoryBudget,
        base: { ...opts.settings, seqlen: opts.settings.seqlen ?? undefined }, strategies: opts.sweep, seeds: opts.seeds, sensitivity: opts.sensitivity,
      }, {
        signal: abort.signal,
        onProgress: (e) => {
          const line = sweepProgressLine(e);
          if (tty && e.type === 'linear') process.stderr.write(`\r\x1b[2K${line}`);
          else if (e.type !== 'linear' || e.done === e.total) process.stderr.write(`${tty ? '\r\x1b[2K' : ''}${line}\n`);
        },
      });
      report.adapter.backend = process.env.WGPU_BACKEND ?? 'opengles';
      report.files = ['report.json'];
      await writeAtomically(out, [textFile('report.json', `${JSON.stringify(report, null, 2)}\n`)]);
      const byLabel = new Map(report.sweep.strategies.map((s) => [s.label, s]));
      const front = report.sweep.front.map((l) => {
        const ppl = byLabel.get(l)?.summary.perplexity;
        return `${l} (${byLabel.get(l)!.bpw.toFixed(3)} bits per weight, perplexity ${ppl ? ppl.mean.toFixed(3) : 'not measured'})`;
      });
      process.stderr.write(`Pareto front on ${evaluation.name}: ${front.join(', ')}\nwrote report.json to ${out}\n`);
      return 0;
    } finally {
      process.off('SIGINT', onSigint);
      rt.destroy();
    }
  }
  try {
    const gguf = opts.format !== 'gptq';
    const gptq = opts.format !== 'gguf';
    const modelName = basename(resolve(opts.model));
    const runInputs = {
      files, modelName, calibration, evaluations: [evaluation], settings: { ...opts.settings, seqlen: opts.settings.seqlen ?? undefined }, gpuMemoryBudget: opts.gpuMemoryBudget,
      hostMemoryBudget: { bytes: opts.hostMemoryBudget ?? totalmem(), raise: opts.hostMemoryBudget === null ? 'a machine with more memory' : 'give --host-memory MIB if the machine has more' },
    };
    const runHooks = {
      onProgress: reporter(),
      signal: abort.signal,
      // A GGUF that was asked for and cannot be exact refuses the run before it starts.
      onPlan: (plan: RunPlan) => {
        if (gguf && plan.gguf.refusal) {
          throw new Error(`no GGUF for these settings: ${plan.gguf.refusal}` +
            (gptq ? ' (--format gptq writes the GPTQ checkpoint alone)' : ''));
        }
      },
    };
    const { report, weights, ckpt, model } = opts.targetBpw === null
      ? await runModel(rt, runInputs, runHooks)
      : await runMixedPrecision(rt, runInputs, opts.targetBpw, runHooks);
    if (report.mixedPrecision) {
      const m = report.mixedPrecision;
      process.stderr.write(`mixed precision: ${m.bpw.toFixed(3)} bits per weight (target ${m.target}), ` +
        `${Object.entries(m.weightsPerBits).map(([b, n]) => `${n} weights at ${b} bits`).join(', ')}\n`);
    }
    for (const [text, d] of Object.entries(report.divergence ?? {})) {
      for (const [variant, v] of Object.entries(d)) {
        process.stderr.write(`${text} ${variant}: KLD ${v.kld_mean.toPrecision(3)} (p99 ${v.kld_p99.toPrecision(3)}, max ${v.kld_max.toPrecision(3)}), ` +
          `top-1 agreement ${(100 * v.top1_agree).toFixed(1)}%, RMS Δp ${(100 * v.dp_rms).toFixed(2)}%\n`);
      }
    }
    report.adapter.backend = process.env.WGPU_BACKEND ?? 'opengles';
    // report.json is made after the other files are written, so that its peaks cover the export.
    const folder = exportFolder({
      run: { report, weights, ckpt, model }, output: { format: opts.format, ggufFloat: opts.ggufFloat }, folder: basename(out),
      beforeReport: (r) => {
        r.resources = { peak_rss_bytes: peakRssBytes(), peak_gpu_bytes: rt.pool.stats.peakBytesAllocated };
      },
    });
    if (folder.gptqRefusal) process.stderr.write(`no checkpoint written: ${folder.gptqRefusal}\n`);
    await writeAtomically(out, folder.files);
    process.stderr.write(`wrote ${folder.report.files.join(', ')} to ${out}\n`);
    return 0;
  } finally {
    process.off('SIGINT', onSigint);
    rt.destroy();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof RunCancelledError) {
      process.stderr.write(`\n${e.message}\n`);
      process.exit(130);
    }
    const input = e instanceof UsageError || e instanceof InputError || e instanceof CheckpointError || e instanceof RunInputError;
    process.stderr.write(`\nerror: ${(e as Error).message ?? e}\n`);
    process.exit(input ? 2 : 1);
  },
);
