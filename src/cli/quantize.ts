/**
 * `npm run quantize -- …`: the whole-model pipeline from the command line, on Dawn (the
 * `webgpu` package). See HELP in args.ts. The files are written into a temporary folder and moved
 * into place at the end (write-folder.ts), so a failed run leaves nothing in --out. Ctrl-C
 * (interrupts.ts) before the quantization has finished writes nothing; during the evaluation it
 * writes the quantized model with the perplexities not measured null, exit 130 (and a sweep
 * interrupted after some strategies finished writes their report.json: sweep-output.ts).
 * Files that will not fit the disk refuse the run before it starts (export-size.ts); a disk that
 * fills up at the end is reported, and at a terminal the user may free space and write again.
 * Everything that needs no GPU (flags, paths, the checkpoint, the texts' windows, the plan's
 * refusals but the GPU memory's) is checked before the adapter is created; then the plan is printed
 * with the GPU memory and the studio's time estimate on this adapter (plan-lines.ts).
 */
import { counted } from '../core/plural';
import { basename, resolve } from 'node:path';
import { totalmem } from 'node:os';
import { createInterface } from 'node:readline';
import { DiskFullError, writeAtomically, writeExport, WriteCancelledError } from './write-folder';
import { Interrupts } from './interrupts';
import { freeBytes, sizeText } from './free-space';
import { estimateExportBytes } from '../engine/export-size';
import { HELP, parseArgs, UsageError } from './args';
import { evaluationPassLine, Heartbeat, pipedProgress, pipedSweepProgress, progressLine, sweepProgressLine } from './progress';
import { checkInputs, checkOut, fail, InputError, pathBase, readText, resolveInputPaths } from './inputs';
import { planWarnings } from './plan-warnings';
import { ggufRefusal } from './gguf-refusal';
import { estimateRun, evalWindowsNotes, longEvaluationWarning, resourcesLine, sizesLine, type PlanSizes } from './plan-lines';
import { measureAdapter } from '../engine/adapter-speed';
import { modelShape } from '../engine/run-shape';
import { nodeRuntime } from '../testing/node-gpu';
import { folderSources } from '../testing/node-source';
import { CheckpointError } from '../core/model/checkpoint-error';
import { RunCancelledError, type PerplexityResult, type ProgressEvent, type RunSettings } from '../core/run';
import type { Checkpoint } from '../core/model/checkpoint';
import { sweepRefusalText, type SweepProgressEvent } from '../core/sweep';
import { gpuBudgetOf, readRunInputs, runModel, RunInputError } from '../engine/run-model';
import { runSweep, sweepRefusals } from '../engine/sweep';
import { runMixedPrecision } from '../engine/mixed-run';
import { planBeforeGpu, planRun, type HostSidePlan, type RunPlan } from '../engine/run-plan';
import { exportFolder } from '../engine/export-folder';
import { textFile } from '../core/export/safetensors-writer';
import { REPORT_ONLY, reportJson, writesGguf, writtenReport } from '../core/report';
import { CANCELLED_EXIT_CODE, sweepOutput } from './sweep-output';

/**
 * At a terminal, after a finished run whose files do not fit: says so and waits for Enter (the
 * user freed space: write again), another folder (checked as --out is, relative to the same
 * folder as the flags' paths: pathBase; `model` is the --model folder) or q (give up). False at
 * once without a terminal to ask.
 */
async function askToWriteAgain(message: string, model: string): Promise<boolean | string> {
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
        await checkOut(folder, model);
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
    if (e.type === 'linear' || e.type === 'evaluation' || e.type === 'evaluationStep') process.stderr.write(`\r\x1b[2K${line}`);
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

/** "a, b and c". */
const listed = (items: string[]) => (items.length > 1 ? `${items.slice(0, -1).join(', ')} and ${items.at(-1)}` : items[0] ?? '');

/**
 * The perplexities a cancelled evaluation did not measure, in words ("the original, RTN and GPTQ
 * perplexities of eval.txt"), one phrase per text with any; empty when every one was measured.
 */
function unmeasuredText(evaluations: readonly PerplexityResult[]): string[] {
  const names = { original: 'original', rtn: 'RTN', gptq: 'GPTQ' } as const;
  return evaluations.flatMap((p) => {
    const missing = (['original', 'rtn', 'gptq'] as const).filter((v) => p[v] === null).map((v) => names[v]);
    return missing.length === 0 ? [] : [`the ${listed(missing)} perplexit${missing.length === 1 ? 'y' : 'ies'} of ${p.text}`];
  });
}

/** A memory budget as the plan line names it: "--gpu-memory 4096 MiB". */
const budgetText = (flag: string, bytes: number) => `${flag} ${Math.round(bytes / 2 ** 20)} MiB`;

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
  await checkOut(out, opts.model);
  const files = await folderSources(opts.model).catch((e: Error) => fail(`--model ${opts.model} cannot be read: ${e.message}`));
  const calibration = await readText('--calibration', opts.calibration);
  const evaluation = await readText('--eval', opts.eval);
  const gpuMemoryRaise = `--gpu-memory MIB (now ${opts.gpuMemoryBudget / 2 ** 20})`;
  const modelName = basename(opts.model);
  const evalWindowLimit = opts.evalWindows ?? undefined;
  const settings = { ...opts.settings, seqlen: opts.settings.seqlen ?? undefined };
  // Everything that needs no GPU is checked before the adapter is created (Dawn prints its own
  // notes as it creates one): the checkpoint, the texts' tokens and windows, the plan's refusals
  // but the GPU memory's, the GGUF asked for, the disk.
  const read = await readRunInputs({ files, calibration, evaluations: [evaluation], evalWindowLimit, settings });
  const summary = read.ckpt.summary();
  const sizes: PlanSizes = {
    model: { name: modelName, arch: summary.arch, blocks: summary.blocks },
    settings: read.settings,
    calibrationTokens: read.calibIds.length,
    evaluations: [{ name: evaluation.name, tokens: read.evalTokens[0] }],
    evalWindowLimit: opts.evalWindows,
  };
  if (opts.sweep) {
    const abort = new AbortController();
    const onSigint = () => abort.abort();
    const refused = sweepRefusals(read.ckpt, opts.sweep, read.settings, null, opts.gpuMemoryBudget, 1);
    if (refused.length > 0) throw new RunInputError(sweepRefusalText(refused[0]));
    process.stderr.write(`${sizesLine(sizes)}\n`);
    process.stderr.write('plan: a sweep\'s time and memory are not estimated yet; each strategy\'s pass is checked against --gpu-memory before the sweep starts\n');
    for (const n of evalWindowsNotes(sizes)) process.stderr.write(`note: ${n}\n`);
    const rt = await nodeRuntime();
    process.once('SIGINT', onSigint);
    try {
      const report = await runSweep(rt, {
        files, modelName, calibration, evaluations: [evaluation], evalWindowLimit, read,
        gpuMemoryBudget: opts.gpuMemoryBudget, gpuMemoryRaise,
        base: settings, strategies: opts.sweep, seeds: opts.seeds, sensitivity: opts.sensitivity,
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
  const gguf = writesGguf(opts.format);
  const hostMemoryBudget = {
    bytes: opts.hostMemoryBudget ?? totalmem(),
    raise: opts.hostMemoryBudget === null ? 'a machine with more memory' : 'give --host-memory MIB if the machine has more',
  };
  // Cancelled during the evaluation (Ctrl-C), the run comes back with the quantized model and the
  // perplexities not measured left null: it is written, and the exit code says it was cancelled.
  const runInputs = {
    files, modelName, calibration, evaluations: [evaluation], evalWindowLimit, read,
    settings, gpuMemoryBudget: opts.gpuMemoryBudget, gpuMemoryRaise, hostMemoryBudget, keepOnEvaluationCancel: true,
  };
  const freeAtStart = await freeBytes(out);
  const warned = new Set<string>();
  // What the plan refuses before the run (a GGUF that was asked for and cannot be exact, files that
  // will not fit the disk), and what the loaders will do with the GPTQ checkpoint, said once.
  const checkPlan = (plan: HostSidePlan, ckpt: Checkpoint, runSettings: RunSettings) => {
    const refusal = gguf ? ggufRefusal(plan, opts.format, runSettings) : null;
    if (refusal) throw new RunInputError(refusal);
    const need = estimateExportBytes({ ckpt, settings: runSettings, exportPlan: plan.export, ggufPlan: plan.gguf, output: { format: opts.format, ggufFloat: opts.ggufFloat } });
    if (freeAtStart !== null && need > freeAtStart) {
      throw new RunInputError(`the files will take about ${sizeText(need)} and the disk that holds ${out} has ${sizeText(freeAtStart)} free: ` +
        `free ${sizeText(need - freeAtStart)} more there or give another --out (nothing was run)`);
    }
  };
  const warn = (plan: HostSidePlan) => {
    for (const w of planWarnings(plan, opts.format)) {
      if (!warned.has(w)) process.stderr.write(`warning: ${w}\n`);
      warned.add(w);
    }
  };
  const hostPlan = planBeforeGpu(read.ckpt, read.settings, undefined, hostMemoryBudget);
  if (hostPlan.fitError) throw new RunInputError(hostPlan.fitError);
  checkPlan(hostPlan, read.ckpt, read.settings);

  const rt = await nodeRuntime();
  // What each Ctrl-C does depends on the phase (interrupts.ts): the run's progress says when the evaluation starts.
  const interrupts = new Interrupts(out);
  const onPress = () => {
    const { line, exitNow } = interrupts.press();
    process.stderr.write(`\n${line}\n`);
    if (exitNow) process.exit(CANCELLED_EXIT_CODE);
  };
  process.on('SIGINT', onPress);
  try {
    // The GPU's part of the plan (memory on this adapter) and the time the studio would estimate.
    const plan = planRun(read.ckpt, read.settings, rt, gpuBudgetOf(runInputs), undefined, hostMemoryBudget);
    if (plan.fitError) throw new RunInputError(plan.fitError);
    const speed = await measureAdapter(rt).catch(() => null);
    const shape = modelShape(read.ckpt, plan.export);
    const time = speed ? estimateRun(shape, sizes, speed) : null;
    process.stderr.write(`${sizesLine(sizes)}\n`);
    process.stderr.write(`${resourcesLine({
      gpu: { bytes: plan.memoryBytes, budget: budgetText('--gpu-memory', plan.budgetBytes) },
      host: { bytes: plan.hostBytes, budget: opts.hostMemoryBudget === null ? `of the machine's ${sizeText(hostMemoryBudget.bytes)}` : budgetText('--host-memory', hostMemoryBudget.bytes) },
      time, speed, mixed: opts.targetBpw !== null,
    })}\n`);
    for (const n of evalWindowsNotes(sizes)) process.stderr.write(`note: ${n}\n`);
    const long = speed ? longEvaluationWarning(shape, sizes, speed) : null;
    if (long) process.stderr.write(`warning: ${long}\n`);
    warn(plan);
    const progress = reporter();
    const runHooks = {
      onProgress: (e: ProgressEvent) => {
        if (e.type === 'stage' && e.stage === 'evaluation') interrupts.enter('evaluation');
        progress(e);
      },
      signal: interrupts.run.signal,
      // A --target-bpw run's plan has the widths the map chose: checked again, its new warnings said.
      onPlan: (p: RunPlan, ckpt: Checkpoint, runSettings: RunSettings) => {
        checkPlan(p, ckpt, runSettings);
        warn(p);
      },
    };
    const cancelledQuantization = () => new RunCancelledError(`cancelled before the quantization had finished (Ctrl-C): nothing was written to ${out}, ` +
      'since a checkpoint needs every linear quantized (Ctrl-C during the evaluation keeps the quantized model and writes it)');
    let run;
    try {
      run = opts.targetBpw === null
        ? await runModel(rt, runInputs, runHooks)
        : await runMixedPrecision(rt, runInputs, opts.targetBpw, runHooks);
    } catch (e) {
      throw e instanceof RunCancelledError && interrupts.cancelledIn === 'quantization' ? cancelledQuantization() : e;
    }
    // A press before the evaluation said that nothing would be written: so it is, even if the run
    // got past the last linear before it saw the cancel.
    if (interrupts.cancelledIn === 'quantization') throw cancelledQuantization();
    const { report, weights, ckpt, model } = run;
    const unmeasured = unmeasuredText(report.evaluations);
    const evaluationCancelled = interrupts.cancelledIn === 'evaluation' && unmeasured.length > 0;
    if (interrupts.cancelledIn === 'evaluation' && !evaluationCancelled) {
      process.stderr.write('Ctrl-C came after the evaluation had finished: the run is complete, and is written as usual\n');
    }
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
    interrupts.enter('writing');
    try {
      written = await writeExport(out, folder.files, { onFull: (m) => askToWriteAgain(m, opts.model), signal: interrupts.write.signal });
    } catch (e) {
      if (e instanceof WriteCancelledError) {
        throw new RunCancelledError(`the writing was stopped (Ctrl-C): nothing was written to ${out} (the files written so far were removed)`);
      }
      if (!(e instanceof DiskFullError)) throw e;
      // The run's numbers at least: report.json alone, if it fits, as --format report writes it
      // (no export, no GGUF, no quantized size: none of their files is there).
      const alone = textFile('report.json', reportJson({ ...writtenReport(report, REPORT_ONLY, ['report.json'], null), resources: resources() }));
      const kept = await writeAtomically(out, [alone]).then(() => true, () => false);
      throw new Error(`${e.message}${kept ? ` (report.json alone was written to ${out}: the run's numbers, without the model)` : ''}`);
    }
    const files = folder.report.files;
    if (evaluationCancelled) {
      const where = files.includes('README.md') ? 'null in report.json, "not measured" in README.md' : 'null in report.json';
      const noDivergence = report.evaluations.filter((p) => !report.divergence?.[p.text]?.rtn || !report.divergence?.[p.text]?.gptq).map((p) => p.text);
      process.stderr.write(`${process.stderr.isTTY ? '\r\x1b[2K' : ''}evaluation cancelled (Ctrl-C): ${files.length > 1 ? 'the quantized model' : 'the run\'s report'} was written to ${written} ` +
        `(${files.join(', ')}); not measured: ${unmeasured.join('; ')} (${where})` +
        `${noDivergence.length > 0 ? `, and the divergence from the original on ${listed(noDivergence)} (absent from report.json's "divergence")` : ''}\n`);
      return CANCELLED_EXIT_CODE;
    }
    process.stderr.write(`wrote ${files.join(', ')} to ${written}\n`);
    return 0;
  } finally {
    process.off('SIGINT', onPress);
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
