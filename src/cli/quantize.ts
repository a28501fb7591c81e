/**
 * `npm run quantize -- …`: the whole-model pipeline from the command line, on Dawn (the
 * `webgpu` package). See HELP in args.ts. The files are written into a temporary folder and moved
 * into place at the end (write-folder.ts), so a failed or interrupted run leaves nothing in --out
 * (but a sweep interrupted after some strategies finished writes their report.json: sweep-output.ts).
 * Files that will not fit the disk refuse the run before it starts (export-size.ts); a disk that
 * fills up at the end is reported, and at a terminal the user may free space and write again.
 */
import { counted } from '../core/plural';
import { basename, resolve } from 'node:path';
import { totalmem } from 'node:os';
import { createInterface } from 'node:readline';
import { DiskFullError, writeAtomically, writeExport } from './write-folder';
import { freeBytes, sizeText } from './free-space';
import { estimateExportBytes } from '../engine/export-size';
import { HELP, parseArgs, UsageError } from './args';
import { evaluationPassLine, Heartbeat, pipedProgress, pipedSweepProgress, progressLine, sweepProgressLine } from './progress';
import { checkInputs, checkOut, fail, InputError, pathBase, readText, resolveInputPaths } from './inputs';
import { planWarnings } from './plan-warnings';
import { nodeRuntime } from '../testing/node-gpu';
import { folderSources } from '../testing/node-source';
import { CheckpointError } from '../core/model/checkpoint-error';
import { RunCancelledError, type ProgressEvent, type RunSettings } from '../core/run';
import type { Checkpoint } from '../core/model/checkpoint';
import type { SweepProgressEvent } from '../core/sweep';
import { runModel, RunInputError } from '../engine/run-model';
import { runSweep } from '../engine/sweep';
import { runMixedPrecision } from '../engine/mixed-run';
import type { RunPlan } from '../engine/run-plan';
import { exportFolder } from '../engine/export-folder';
import { textFile } from '../core/export/safetensors-writer';
import { reportJson, writesGguf, writesGptq } from '../core/report';
import { CANCELLED_EXIT_CODE, sweepOutput } from './sweep-output';

/**
 * At a terminal, after a finished run whose files do not fit: says so and waits for Enter (the
 * user freed space: write again), another folder (checked as --out is, relative to the same
 * folder as the flags' paths: pathBase) or q (give up). False at once without a terminal to ask.
 */
async function askToWriteAgain(message: string): Promise<boolean | string> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return false;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const ask = (q: string) => new Promise<string | null>((done) => {
    rl.once('close', () => done(null));
    rl.once('SIGINT', () => done(null));
    rl.question(q, done);
  });
  try {
    let prompt = `\n${message}.\nFree some space there and press Enter to write again, type another folder to write the files there, or q to give up: `;
    for (;;) {
      const answer = (await ask(prompt))?.trim() ?? 'q';
      if (answer === '') return true;
      if (answer.toLowerCase() === 'q') return false;
      const folder = resolve(pathBase(process.cwd(), process.env), answer);
      try {
        await checkOut(folder);
        return folder;
      } catch (e) {
        prompt = `${(e as Error).message}.\nAnother folder, Enter to write to the first one again, or q: `;
      }
    }
  } finally {
    rl.close();
  }
}

/** The process's peak resident set size so far, in bytes (maxRSS is in KiB). */
function peakRssBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}

/** Seconds on the process clock. */
const clock = () => performance.now() / 1000;

/**
 * A log's progress: the throttled lines of `piped`, and a Heartbeat line (checked every 10 s) when
 * nothing was printed for a minute. The timer does not keep the process alive.
 */
function withHeartbeat<E>(piped: (e: E) => string | null, describe: (e: E) => string): (e: E) => void {
  const heartbeat = new Heartbeat(clock());
  const print = (line: string) => {
    process.stderr.write(`${line}\n`);
    heartbeat.printed(clock());
  };
  setInterval(() => {
    const line = heartbeat.tick(clock());
    if (line !== null) process.stderr.write(`${line}\n`);
  }, 10_000).unref();
  return (e) => {
    heartbeat.saw(describe(e));
    const line = piped(e);
    if (line !== null) print(line);
  };
}

/**
 * Progress on stderr: a terminal gets the linears' bar redrawn in place and every other line; a
 * log or pipe gets the throttled lines of pipedProgress (stage changes, every ~5 % or ~10 s of a
 * stage, whichever is rarer, and each stage's last line) and a heartbeat after a silent minute.
 */
function reporter(): (e: ProgressEvent) => void {
  // A log names an evaluation pass as one line for the three models, the heartbeat too.
  if (!process.stderr.isTTY) return withHeartbeat(pipedProgress(clock), (e) => (e.type === 'evaluation' ? evaluationPassLine(e) : progressLine(e)));
  return (e) => {
    const line = progressLine(e);
    // The linears' bar and the evaluation's passes are redrawn in place; the next line replaces them.
    if (e.type === 'linear' || e.type === 'evaluation') process.stderr.write(`\r\x1b[2K${line}`);
    else process.stderr.write(`\r\x1b[2K${line}\n`);
  };
}

function sweepReporter(): (e: SweepProgressEvent) => void {
  if (!process.stderr.isTTY) return withHeartbeat(pipedSweepProgress(clock), sweepProgressLine);
  return (e) => {
    const line = sweepProgressLine(e);
    if (e.type === 'linear') process.stderr.write(`\r\x1b[2K${line}`);
    else process.stderr.write(`\r\x1b[2K${line}\n`);
  };
}

async function main(argv: string[]): Promise<number> {
  const parsed = parseArgs(argv);
  if (!parsed) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  // Relative paths from where the user ran the command (npm's INIT_CWD under npm run); messages show them absolute.
  const opts = resolveInputPaths(parsed, process.cwd(), process.env);
  await checkInputs(opts);
  const out = opts.out;
  await checkOut(out);
  const files = await folderSources(opts.model).catch((e: Error) => fail(`--model ${opts.model} cannot be read: ${e.message}`));
  const calibration = await readText('--calibration', opts.calibration);
  const evaluation = await readText('--eval', opts.eval);
  const gpuMemoryRaise = `--gpu-memory MIB (now ${opts.gpuMemoryBudget / 2 ** 20})`;
  const rt = await nodeRuntime();
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.once('SIGINT', onSigint);
  if (opts.sweep) {
    try {
      const report = await runSweep(rt, {
        files, modelName: basename(opts.model), calibration, evaluations: [evaluation], evalWindowLimit: opts.evalWindows ?? undefined,
        gpuMemoryBudget: opts.gpuMemoryBudget, gpuMemoryRaise,
        base: { ...opts.settings, seqlen: opts.settings.seqlen ?? undefined }, strategies: opts.sweep, seeds: opts.seeds, sensitivity: opts.sensitivity,
      }, {
        signal: abort.signal,
        onProgress: sweepReporter(),
        onWarnings: (warnings) => warnings.forEach((w) => process.stderr.write(`warning: ${w}\n`)),
      });
      // A cancel after some strategies finished returns their report (marked "cancelled"): written, exit 130.
      const written = sweepOutput(report, process.env.WGPU_BACKEND ?? 'opengles', evaluation.name, out);
      await writeAtomically(out, [textFile('report.json', written.reportJson)]);
      process.stderr.write(written.message);
      return written.code;
    } finally {
      process.off('SIGINT', onSigint);
      rt.destroy();
    }
  }
  try {
    const gguf = writesGguf(opts.format);
    const gptq = writesGptq(opts.format);
    const modelName = basename(opts.model);
    const runInputs = {
      files, modelName, calibration, evaluations: [evaluation], evalWindowLimit: opts.evalWindows ?? undefined,
      settings: { ...opts.settings, seqlen: opts.settings.seqlen ?? undefined }, gpuMemoryBudget: opts.gpuMemoryBudget, gpuMemoryRaise,
      hostMemoryBudget: { bytes: opts.hostMemoryBudget ?? totalmem(), raise: opts.hostMemoryBudget === null ? 'a machine with more memory' : 'give --host-memory MIB if the machine has more' },
    };
    const freeAtStart = await freeBytes(out);
    const runHooks = {
      onProgress: reporter(),
      signal: abort.signal,
      // A GGUF that was asked for and cannot be exact refuses the run before it starts, as do files
      // that will not fit the disk; what the loaders will do with the GPTQ checkpoint is said before
      // it starts too.
      onPlan: (plan: RunPlan, ckpt: Checkpoint, settings: RunSettings) => {
        if (gguf && plan.gguf.refusal) {
          throw new Error(`no GGUF for these settings: ${plan.gguf.refusal}` +
            (gptq ? ' (--format gptq writes the GPTQ checkpoint alone)' : ''));
        }
        const need = estimateExportBytes({ ckpt, settings, exportPlan: plan.export, ggufPlan: plan.gguf, output: { format: opts.format, ggufFloat: opts.ggufFloat } });
        if (freeAtStart !== null && need > freeAtStart) {
          throw new Error(`the files will take about ${sizeText(need)} and the disk that holds ${out} has ${sizeText(freeAtStart)} free: ` +
            `free ${sizeText(need - freeAtStart)} more there or give another --out (nothing was run)`);
        }
        for (const w of planWarnings(plan, opts.format)) process.stderr.write(`warning: ${w}\n`);
      },
    };
    const { report, weights, ckpt, model } = opts.targetBpw === null
      ? await runModel(rt, runInputs, runHooks)
      : await runMixedPrecision(rt, runInputs, opts.targetBpw, runHooks);
    if (report.mixedPrecision) {
      const m = report.mixedPrecision;
      process.stderr.write(`mixed precision: ${m.bpw.toFixed(3)} bits per weight (target ${m.target}), ` +
        `${Object.entries(m.weightsPerBits).map(([b, n]) => `${counted(n, 'weight')} at ${b} bits`).join(', ')}\n`);
    }
    for (const [text, d] of Object.entries(report.divergence ?? {})) {
      for (const [variant, v] of Object.entries(d)) {
        process.stderr.write(`${text} ${variant}: KLD ${v.kld_mean.toPrecision(3)} (p99 ${v.kld_p99.toPrecision(3)}, max ${v.kld_max.toPrecision(3)}), ` +
          `top-1 agreement ${(100 * v.top1_agree).toFixed(1)}%, RMS Δp ${(100 * v.dp_rms).toFixed(2)}%\n`);
      }
    }
    report.adapter.backend = process.env.WGPU_BACKEND ?? 'opengles';
    const resources = () => ({ peak_rss_bytes: peakRssBytes(), peak_gpu_bytes: rt.pool.stats.peakBytesAllocated });
    // report.json is made after the other files are written, so that its peaks cover the export.
    const folder = exportFolder({
      run: { report, weights, ckpt, model }, output: { format: opts.format, ggufFloat: opts.ggufFloat }, folder: basename(out),
      beforeReport: (r) => {
        r.resources = resources();
      },
    });
    if (folder.gptqRefusal) process.stderr.write(`no checkpoint written: ${folder.gptqRefusal}\n`);
    let written: string;
    try {
      written = await writeExport(out, folder.files, { onFull: askToWriteAgain });
    } catch (e) {
      if (!(e instanceof DiskFullError)) throw e;
      // The run's numbers at least: report.json alone, if it fits, listing itself as the only file.
      const alone = textFile('report.json', reportJson({ ...folder.report, files: ['report.json'], resources: resources() }));
      const kept = await writeAtomically(out, [alone]).then(() => true, () => false);
      throw new Error(`${e.message}${kept ? ` (report.json alone was written to ${out}: the run's numbers, without the model)` : ''}`);
    }
    process.stderr.write(`wrote ${folder.report.files.join(', ')} to ${written}\n`);
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
      process.exit(CANCELLED_EXIT_CODE);
    }
    const input = e instanceof UsageError || e instanceof InputError || e instanceof CheckpointError || e instanceof RunInputError;
    process.stderr.write(`\nerror: ${(e as Error).message ?? e}\n`);
    process.exit(input ? 2 : 1);
  },
);
