/** The quantize command: flags, and real runs as a subprocess on the shared test model. */
import { describe, it, expect } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HELP, parseArgs, UsageError } from './args';
import { planWarnings } from './plan-warnings';
import { kvValue, readGguf } from '../testing/gguf-reader';
import { Heartbeat, LineThrottle, seconds, pipedProgress, pipedSweepProgress, progressLine, sweepProgressLine } from './progress';
import type { ProgressEvent } from '../core/run';
import { parseStrategy, type SweepProgressEvent, type SweepRunReport } from '../core/sweep';
import { defaultRunSettings } from '../core/run';
import { sweepOutput } from './sweep-output';
import { editedModel, writeModelFolder } from '../testing/model-variants';
import { randomOptPostLn, writeModelDir } from '../testing/family-models';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SHARED = fileURLToPath(new URL('../../../shared/', import.meta.url));
const base = ['--model', 'm', '--calibration', 'c.txt', '--eval', 'e.txt', '--out', 'o'];

describe('flags', () => {
  it('takes defaults and every option', () => {
    const d = parseArgs(base)!;
    expect(d.settings).toMatchObject({ bits: 4, groupSize: -1, sym: true, actOrder: false, trueSequential: true, nsamples: 128, seqlen: null, seed: 0, percDamp: 0.01, mse: false });
    const o = parseArgs([...base, '--bits', '3', '--group-size=32', '--asym', '--act-order', '--static-groups', '--damp', '0.05', '--no-true-sequential', '--mse', '--nsamples', '8', '--seqlen', '64', '--seed', '7'])!;
    expect(o.settings).toMatchObject({ bits: 3, groupSize: 32, sym: false, actOrder: true, staticGroups: true, percDamp: 0.05, trueSequential: false, mse: true, nsamples: 8, seqlen: 64, seed: 7 });
    expect(d.evalWindows).toBeNull();
    expect(parseArgs([...base, '--eval-windows', '8'])!.evalWindows).toBe(8);
    // A percent, as the studio's field takes it.
    expect(parseArgs([...base, '--damp', '2.5%'])!.settings.percDamp).toBeCloseTo(0.025, 12);
    expect(parseArgs(['--help'])).toBeNull();
    expect(d).toMatchObject({ format: 'gptq', ggufFloat: 'F16' });
    expect(parseArgs([...base, '--format', 'both', '--gguf-float', 'f32'])).toMatchObject({ format: 'both', ggufFloat: 'F32' });
    // Either case, as --gguf-float.
    expect(parseArgs([...base, '--format', 'GGUF', '--gguf-float', 'F16'])).toMatchObject({ format: 'gguf', ggufFloat: 'F16' });
  });

  it.each([
    [['--model', 'm'], /--calibration is required/],
    [['--model', 'm', '--calibration', 'c', '--eval', 'e', '--out', ''], /--out needs a path, got an empty value/],
    [[...base, '--bits', '9'], /--bits needs an integer from 2 to 8/],
    [[...base, '--group-size', '0'], /-1 or a positive integer/],
    [[...base, '--sym', '--asym'], /exclude each other/],
    [[...base, '--eval-windows', '0'], /--eval-windows/],
    [[...base, '--damp', 'x'], /--damp: damping must be a number/],
    [[...base, '--damp', '0'], /--damp: damping must be more than 0 \(H needs it to be invertible\)/],
    [[...base, '--damp', '1.5'], /--damp: damping must be at most 1 \(100 %\) of the mean of diag\(H\), got "1.5"/],
    [[...base, '--damp', '1%x'], /--damp: damping must be a number \(a fraction of the mean of diag\(H\) such as 0\.01, or a percent such as 1%\)/],
    [[...base, '--frobnicate'], /unknown argument "--frobnicate"/],
    [[...base, '--nsamples'], /--nsamples needs a value/],
    [[...base, '--bits', '4', '--bits', '3'], /given twice/],
    [[...base, '--format', 'onnx'], /--format needs gptq, gguf, both or report/],
    [[...base, '--gguf-float', 'bf16'], /--gguf-float needs f16 or f32/],
    [[...base, '--gguf-float', 'f32'], /^--gguf-float sets the GGUF's float type, and --format gptq writes no GGUF: give --format gguf or both, or drop --gguf-float$/],
    [[...base, '--format', 'report', '--gguf-float', 'f16'], /--format report writes no GGUF/],
    // A width the chosen format cannot write, before any work, with the widths each format writes.
    [[...base, '--bits', '5'], /^--bits 5 cannot be written as --format gptq: --format gptq writes 2, 3, 4 or 8 bits, --format gguf 4 \(Q4_0 symmetric, Q4_1 asymmetric\) or 8 \(Q8_0 symmetric\), --format both 4 or 8, and --format report \(report\.json alone\) any width from 2 to 8\. Choose one of those widths, or --format report/],
    [[...base, '--bits', '7', '--format', 'both'], /^--bits 7 cannot be written as --format both: /],
    // With --target-bpw, --bits is the width of the sensitivity map's pass, one of the widths the plan gives.
    [[...base, '--bits', '6', '--target-bpw', '4'], /^with --target-bpw, --bits is the width the sensitivity map's pass quantizes each block at .*the file's widths are the plan's\. Give --bits 2, 3, 4 or 8, got 6$/],
    [[...base, '--bits', '5', '--target-bpw', '4', '--format', 'report'], /^with --target-bpw, --bits is the width/],
    // Static groups with one group per row would change nothing, with or without act-order.
    [[...base, '--static-groups'], /^--static-groups .*with --group-size -1 \(one grid per row, the default\) there are no groups, so it would change nothing: give --group-size G or drop --static-groups$/],
    [[...base, '--act-order', '--static-groups', '--group-size', '-1'], /there are no groups, so it would change nothing/],
    [[...base, '--sweep', '4g32,,rtn:4g32'], /^--sweep: entry 2 of 3 is empty \(between "4g32" and "rtn:4g32"\): remove the extra comma$/],
    [[...base, '--sweep', '4g32,4+act+static'], /^--sweep: strategy "4\+act\+static": \+static fixes .*one group per row \(no g\) there are no groups/],
    [[...base, '--sweep', 'rtn:4g32,RTN:4G32'], /^--sweep: strategy rtn:4g32 is listed twice$/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseArgs(argv as string[])).toThrow(UsageError);
    expect(() => parseArgs(argv as string[])).toThrow(message);
  });

  it('--help anywhere wins over every other flag, a bad one included', () => {
    for (const argv of [['--help', '--foo'], ['--foo', '--help'], [...base, '--bits', '9', '--help'], ['--model', '--help']]) {
      expect(parseArgs(argv), argv.join(' ')).toBeNull();
    }
  });

  it('takes the widths and settings each format can write: --format report takes any width, static groups with groups', () => {
    expect(parseArgs([...base, '--bits', '6', '--format', 'report'])).toMatchObject({ format: 'report', settings: { bits: 6 } });
    // A GGUF's width is refused by its plan once the model is open (it names the nearest setting for the model).
    expect(parseArgs([...base, '--bits', '5', '--format', 'gguf'])).toMatchObject({ format: 'gguf', settings: { bits: 5 } });
    for (const bits of ['2', '3', '4', '8']) expect(parseArgs([...base, '--bits', bits])!.settings.bits).toBe(Number(bits));
    // Static groups without act-order fix the grids on the weights before GPTQ updates them: a setting of its own.
    expect(parseArgs([...base, '--static-groups', '--group-size', '32'])!.settings).toMatchObject({ staticGroups: true, actOrder: false, groupSize: 32 });
    expect(parseArgs([...base, '--target-bpw', '4', '--format', 'report'])).toMatchObject({ format: 'report', targetBpw: 4 });
    // --bits with --target-bpw: the map's width, taken (and said in --help), not a width of the file.
    expect(parseArgs([...base, '--target-bpw', '3.5', '--bits', '3'])).toMatchObject({ targetBpw: 3.5, settings: { bits: 3 } });
    expect(HELP).toMatch(/--bits \(2, 3, 4 or 8\) then sets no width of the file: it is the width the map's\s+pass quantizes each block at/);
    expect(() => parseArgs([...base, '--target-bpw', '4', '--format', 'both'])).toThrow(/mixed-precision run has no GGUF/);
    // Sweep strategies in either case, as lower-case labels.
    expect(parseArgs([...base, '--sweep', 'RTN:4G32,Awq:4g32'])!.sweep!.map((s) => [s.method, s.groupSize])).toEqual([['rtn', 32], ['awq', 32]]);
  });

  it('takes a sweep: strategies, seeds, sensitivity; refuses what a sweep does not use', () => {
    const o = parseArgs([...base, '--sweep', '4g128, rtn:4g128,awq:3g32+asym', '--seeds', '3', '--sensitivity'])!;
    expect(o.sweep!.map((s) => [s.method, s.bits, s.groupSize, s.sym])).toEqual([['gptq', 4, 128, true], ['rtn', 4, 128, true], ['awq', 3, 32, false]]);
    expect(o).toMatchObject({ seeds: 3, sensitivity: true, targetBpw: null });
    expect(parseArgs([...base, '--target-bpw', '3.5'])).toMatchObject({ sweep: null, targetBpw: 3.5 });
    for (const [argv, message] of [
      [['--sweep', '5g128'], /--sweep: strategy "5g128": bits must be 2, 3, 4 or 8/],
      [['--sweep', '4g128', '--bits', '3'], /carry their own settings: drop --bits/],
      [['--sweep', '4g128', '--format', 'gguf'], /report\.json only/],
      [['--seeds', '2'], /--seeds belongs to a sweep/],
      [['--sensitivity'], /--sensitivity belongs to a sweep/],
      [['--sweep', '4g128', '--seeds', '0'], /--seeds needs an integer from 1 to 16/],
      [['--target-bpw', '1.5'], /--target-bpw needs bits per weight above 2/],
      [['--target-bpw', '4', '--sweep', '4g128'], /give it without --sweep/],
    ] as [string[], RegExp][]) {
      expect(() => parseArgs([...base, ...argv])).toThrow(UsageError);
      expect(() => parseArgs([...base, ...argv])).toThrow(message);
    }
    expect(sweepProgressLine({ type: 'step', step: 1, steps: 4, seed: 6, labels: ['gptq:4g32', 'rtn:4g32'], phase: 'evaluating', elapsed: 2 }))
      .toBe('step 2/4 seed 6: evaluating gptq:4g32, rtn:4g32 (2.0s)');
  });

  it('prints the run\'s warnings for every format, and the loader warnings for the formats that write a GPTQ checkpoint', () => {
    const plan = { export: { warnings: ['Asymmetric grids are stored as gptq_v2'] }, warnings: [] } as unknown as Parameters<typeof planWarnings>[0];
    expect(planWarnings(plan, 'gptq')).toEqual(['Asymmetric grids are stored as gptq_v2']);
    expect(planWarnings(plan, 'both')).toEqual(['Asymmetric grids are stored as gptq_v2']);
    expect(planWarnings(plan, 'gguf')).toEqual([]);
    expect(planWarnings(plan, 'report')).toEqual([]);
    const run = { ...plan, warnings: ['the calibration has 64 tokens'] };
    expect(planWarnings(run, 'gptq')).toEqual(['the calibration has 64 tokens', 'Asymmetric grids are stored as gptq_v2']);
    expect(planWarnings(run, 'gguf')).toEqual(['the calibration has 64 tokens']);
  });

  it('draws a progress line', () => {
    const line = progressLine({
      type: 'linear',
      done: 7,
      total: 35,
      blocks: 5,
      elapsed: 3,
      etaSeconds: 12,
      report: { block: 0, name: 'mlp.down_proj', rows: 64, cols: 172, gptq: { mse: 1, loss: 2, damp: 0.01, dampAttempts: 1, fellBackToRtn: false, seconds: 0.1 }, rtn: { mse: 2 } },
    });
    // Blocks count from 1 in every line a user reads, as the block lines do ("block 1/5 done").
    expect(line).toMatch(/^\[#####\.{19}\] 7\/35 block 1\/5 mlp\.down_proj mse gptq\/rtn 0\.50 +3\.0s elapsed, ~12\.0s left$/);
  });
});

describe('progress for a log or pipe', () => {
  it('LineThrottle: a new stage prints, then one line per 5 % or 10 s, whichever is rarer, at least one a minute, and always the last', () => {
    const t = new LineThrottle();
    const tick = (stage: string, fraction: number | null, now: number, last = false) => t.admit({ stage, fraction, last, now });
    expect(tick('a', 0.01, 0)).toBe(true); // a new stage
    expect(tick('a', 0.5, 9.9)).toBe(false); // far along, but under 10 s
    expect(tick('a', 0.52, 10)).toBe(true); // 10 s and 51 %: the rarer of the two has come
    expect(tick('a', 0.55, 30)).toBe(false); // 30 s, but only 3 %
    expect(tick('a', 0.57, 31)).toBe(true); // 5 % since the last line printed (0.57 − 0.52 in floats), and over 10 s
    expect(tick('a', 0.58, 90)).toBe(false); // 1 %, 59 s
    expect(tick('a', 0.58, 91)).toBe(true); // 1 %, but a minute without a line
    expect(tick('a', 0.59, 91.5, true)).toBe(true); // the stage's last line
    expect(tick('b', null, 92)).toBe(true); // another stage
    expect(tick('b', null, 101)).toBe(false); // no measure: time alone
    expect(tick('b', null, 102)).toBe(true);
    expect(tick('a', 0, 102.1)).toBe(true); // back to a: a stage change again
  });

  it('seconds: tenths below 90 s, then minutes and whole seconds, never 60 of them', () => {
    expect([12.34, 89.96, 90, 3839.6, 3599.5].map(seconds)).toEqual(['12.3s', '90.0s', '1m30s', '64m00s', '60m00s']);
  });

  it('Heartbeat: after a minute with no line, one line naming the last step seen, then one a minute', () => {
    const h = new Heartbeat(100);
    expect(h.tick(159)).toBeNull();
    h.saw('[#...] 47/154 block 7/22 mlp.up_proj mse gptq/rtn 0.04  39m57s elapsed, ~100m58s left');
    expect(h.tick(160)).toBe('still working, 60.0s in all; the last step: [#...] 47/154 block 7/22 mlp.up_proj mse gptq/rtn 0.04');
    expect(h.tick(219)).toBeNull();
    h.printed(230); // a line of the run itself
    h.saw('block 8/22 done (45m02s)');
    expect(h.tick(289)).toBeNull();
    expect(h.tick(290)).toBe('still working, 3m10s in all; the last step: block 8/22 done');
  });

  /** A run's events as the engine sends them: checking, calibration, 35 linears in 5 blocks, three models over 120 windows. */
  function runEvents(secondsPerPass: number, secondsPerLinear = 0.5): { e: ProgressEvent; now: number }[] {
    const out: { e: ProgressEvent; now: number }[] = [];
    let now = 0;
    const at = (e: ProgressEvent, dt = 0) => out.push({ e, now: (now += dt) });
    for (let mib = 0; mib <= 30; mib++) at({ type: 'stage', stage: 'checking', detail: `${mib} of 30 MiB`, elapsed: now, done: mib, total: 30 }, 1);
    at({ type: 'stage', stage: 'calibration', detail: '32 windows', elapsed: now });
    at({ type: 'stage', stage: 'quantization', detail: '5 blocks', elapsed: now });
    const report = { block: 0, name: 'mlp.down_proj', rows: 64, cols: 172, gptq: { mse: 1, loss: 2, damp: 0.01, dampAttempts: 1, fellBackToRtn: false, seconds: 0.1 }, rtn: { mse: 2 } };
    for (let b = 0; b < 5; b++) {
      for (let l = 0; l < 7; l++) at({ type: 'linear', report: { ...report, block: b }, done: b * 7 + l + 1, total: 35, blocks: 5, elapsed: now, etaSeconds: 1 }, secondsPerLinear);
      at({ type: 'block', block: b, blocks: 5, elapsed: now });
    }
    at({ type: 'stage', stage: 'evaluation', detail: 'eval.txt: 120 windows', elapsed: now });
    for (let w = 4; w <= 120; w += 4) {
      now += secondsPerPass;
      for (const variant of ['original', 'rtn', 'gptq'] as const) {
        at({ type: 'evaluation', text: 'eval.txt', variant, windowsDone: w, windows: 120, done: 0, total: 360, elapsed: now });
      }
    }
    for (const variant of ['original', 'rtn', 'gptq'] as const) at({ type: 'perplexity', text: 'eval.txt', variant, value: 20, elapsed: now });
    return out;
  }

  function piped(events: { e: ProgressEvent; now: number }[]): string[] {
    let now = 0;
    const line = pipedProgress(() => now);
    return events.flatMap(({ e, now: t }) => {
      now = t;
      const l = line(e);
      return l === null ? [] : [l];
    });
  }

  it('a fast evaluation: one line per 10 s and each stage\'s first and last line, the three models of a pass as one line', () => {
    const lines = piped(runEvents(1)); // 30 passes of 1 s: 10 s is the rarer
    const evaluating = lines.filter((l) => l.startsWith('evaluating'));
    expect(evaluating.map((l) => l.match(/: (\d+) of 120 windows/)![1])).toEqual(['40', '80', '120']);
    expect(evaluating.at(-1)).toMatch(/^evaluating eval\.txt: 120 of 120 windows, each scored by the original, RTN and GPTQ models \(\d+\.\ds\)$/);
    // checking: its first line, one at 10 s, at 20 s, and its last. The linears (0.5 s each) and
    // the blocks (3.5 s each) share the quantization's throttle: the bar 10 s into the stage, the
    // third block's line 0.5 s later is held back, then the bar's last line and the last block's.
    expect(lines.filter((l) => l.startsWith('checking')).map((l) => l.split(':')[1].trim())).toEqual(['0 of 30 MiB (0.0s)', '10 of 30 MiB (10.0s)', '20 of 30 MiB (20.0s)', '30 of 30 MiB (30.0s)']);
    expect(lines.filter((l) => l.startsWith('[')).map((l) => l.split(' ')[1])).toEqual(['20/35', '35/35']);
    expect(lines.filter((l) => l.startsWith('block')).map((l) => l.slice(0, 9))).toEqual(['block 5/5']);
    expect(lines.filter((l) => l.startsWith('perplexity'))).toHaveLength(3);
    expect(lines.length).toBeLessThan(20);
    expect(runEvents(1).length).toBeGreaterThan(150);
    // One window is one window.
    expect(pipedProgress(() => 0)({ type: 'evaluation', text: 'e.txt', variant: 'original', windowsDone: 1, windows: 1, done: 1, total: 3, elapsed: 0 }))
      .toMatch(/^evaluating e\.txt: 1 of 1 window, each scored/);
    // The steps within a pass: redrawn at a terminal, left out of a log.
    const step: ProgressEvent = { type: 'evaluationStep', text: 'e.txt', from: 8, to: 16, windows: 30, step: 3, steps: 25, done: 26.9, total: 90, elapsed: 4 };
    expect(progressLine(step)).toBe('evaluating e.txt: windows 9–16 of 30, block 3 of 24 run by the three models (4.0s)');
    expect(pipedProgress(() => 0)(step)).toBeNull();
  });

  it('a long block: the linears\' bar every 10 s inside it, not only at the end of the quantization', () => {
    // Linears of 3 s, blocks of 21 s: a line at the 4th linear (12 s), then every 4th (the next
    // past 10 s), the block lines in between held back while the bar has just spoken, and the last.
    const events = runEvents(1, 3);
    const start = events.find(({ e }) => e.type === 'stage' && e.stage === 'quantization')!.now;
    let now = 0;
    const line = pipedProgress(() => now);
    const printed: { l: string; t: number }[] = [];
    for (const { e, now: t } of events) {
      now = t;
      const l = line(e);
      if (l !== null && (e.type === 'linear' || e.type === 'block')) printed.push({ l, t: t - start });
    }
    expect(printed.filter(({ l }) => l.startsWith('[')).map(({ l }) => l.split(' ')[1])).toEqual(['4/35', '8/35', '12/35', '16/35', '20/35', '24/35', '28/35', '32/35', '35/35']);
    expect(printed.at(-1)!.l).toMatch(/^block 5\/5 done/);
    // Never more than 10 s and one linear without a line while the blocks run.
    const gaps = printed.map(({ t }, i) => t - (i === 0 ? 0 : printed[i - 1].t));
    expect(Math.max(...gaps)).toBeLessThanOrEqual(13);
  });

  it('a slow evaluation: one line per 5 % when 10 s come sooner', () => {
    const evaluating = piped(runEvents(20)).filter((l) => l.startsWith('evaluating'));
    // 5 % of 120 windows is 6: passes of 4 windows print every other one (8, 16, …), then the last.
    expect(evaluating.map((l) => Number(l.match(/: (\d+) of/)![1]))).toEqual([8, 16, 24, 32, 40, 48, 56, 64, 72, 80, 88, 96, 104, 112, 120]);
  });

  it('a sweep: steps and results always, the bar and checking throttled', () => {
    let now = 0;
    const line = pipedSweepProgress(() => now);
    const events: SweepProgressEvent[] = [
      ...Array.from({ length: 21 }, (_, i): SweepProgressEvent => ({ type: 'stage', stage: 'checking', detail: `${i} of 20`, elapsed: i, done: i, total: 20 })),
      { type: 'stage', stage: 'reference', detail: 'the original model', elapsed: 21 },
      { type: 'step', step: 0, steps: 1, seed: 0, labels: ['gptq:4g32'], phase: 'quantizing', elapsed: 22 },
      // Linears of 1 s: the bar every 10 s of the step, and its last.
      ...Array.from({ length: 35 }, (_, i): SweepProgressEvent => ({ type: 'linear', step: 0, done: i + 1, total: 35, elapsed: 23 + i })),
    ];
    const lines = events.flatMap((e) => {
      now = e.elapsed;
      const l = line(e);
      return l === null ? [] : [l];
    });
    expect(lines.map((l) => (l.startsWith('[') ? 'bar' : l.slice(0, 14)))).toEqual(['checking: 0 of', 'checking: 10 o', 'checking: 20 o', 'reference: the', 'step 1/1 seed ', 'bar', 'bar', 'bar', 'bar']);
    expect(lines.filter((l) => l.startsWith('[')).map((l) => l.split(' ')[1])).toEqual(['10/35', '20/35', '30/35', '35/35']);
  });

  it('a sweep\'s evaluations: each model\'s blocks throttled alike, the second as the first', () => {
    let now = 0;
    const line = pipedSweepProgress(() => now);
    // Two models in turn, 40 blocks each, one a second.
    const lines: string[] = [];
    for (const model of ['gptq', 'rtn']) {
      for (let done = 0; done <= 40; done++) {
        now += 1;
        const l = line({ type: 'stage', stage: 'evaluating', detail: `${model} ${done}`, elapsed: now, done, total: 40 });
        if (l !== null) lines.push(l.split(' (')[0]);
      }
    }
    const each = ['0', '10', '20', '30', '40'];
    expect(lines).toEqual([...each.map((d) => `evaluating: gptq ${d}`), ...each.map((d) => `evaluating: rtn ${d}`)]);
  });
});

describe('a sweep\'s output', () => {
  const strategy = (label: string, bpw: number, ppl: number) => ({
    label, strategy: parseStrategy(label), bpw, notExportable: null,
    seeds: [{ seed: 0, perplexity: { 'e.txt': ppl }, divergence: { 'e.txt': null }, layers: [] }],
    summary: { perplexity: { mean: ppl, sd: 0, min: ppl, max: ppl, n: 1 }, kld: null },
  });
  const report = (labels: string[], cancelled?: SweepRunReport['cancelled']): SweepRunReport => ({
    kind: 'sweep', warnings: [], model: { name: 'm', arch: 'llama', blocks: 1, hiddenSize: 64, parameters: 1, dtype: 'F32' }, adapter: {},
    settings: { ...defaultRunSettings, seqlen: 32 }, output: { format: 'report', ggufFloat: null }, calibration: { text: 'c.txt', tokens: 100 },
    evaluations: [{ text: 'e.txt', seqlen: 32, windows: 1 }],
    sweep: { strategies: labels.map((l, i) => strategy(l, 4.5 - i, 12 + i)), seeds: [0], original: { 'e.txt': 10 }, front: labels, bpwCovers: '', plans: {} },
    sensitivity: null, ...(cancelled ? { cancelled } : {}), seconds: 1,
  });

  it('a finished sweep: report.json, the front, exit 0', () => {
    const o = sweepOutput(report(['gptq:4g32', 'gptq:3g32']), 'vulkan', 'e.txt', '/tmp/o');
    expect(o.code).toBe(0);
    expect(o.message).toBe('Pareto front on e.txt: gptq:4g32 (4.500 bits per weight, perplexity 12.000), gptq:3g32 (3.500 bits per weight, perplexity 13.000)\nwrote report.json to /tmp/o\n');
    const r = JSON.parse(o.reportJson);
    expect(r).toMatchObject({ files: ['report.json'], adapter: { backend: 'vulkan' } });
    expect(r.cancelled).toBeUndefined();
  });

  it('a cancelled sweep with strategies kept: their report.json with "cancelled", what was kept and not, exit 130', () => {
    const o = sweepOutput(report(['gptq:4g32'], { after: 1, of: 3, strategies: ['rtn:4g32', 'gptq:2g32'] }), 'opengles', 'e.txt', '/tmp/o');
    expect(o.code).toBe(130);
    expect(o.message.split('\n')).toEqual([
      '',
      'The sweep was cancelled after 1 of 3 strategies; not measured: rtn:4g32, gptq:2g32.',
      'Kept: gptq:4g32 (every seed measured).',
      'Pareto front of the strategies kept on e.txt: gptq:4g32 (4.500 bits per weight, perplexity 12.000)',
      'wrote report.json (the strategies kept, and "cancelled") to /tmp/o',
      '',
    ]);
    const r = JSON.parse(o.reportJson);
    expect(r.cancelled).toEqual({ after: 1, of: 3, strategies: ['rtn:4g32', 'gptq:2g32'] });
    expect(r.sweep.strategies.map((s: { label: string }) => s.label)).toEqual(['gptq:4g32']);
    expect(r.files).toEqual(['report.json']);
  });
});

function cli(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', './tools/register-raw.mjs', '--import', 'tsx', 'src/cli/quantize.ts', ...args],
      { cwd: ROOT, env: { ...process.env, EGL_PLATFORM: 'surfaceless' } },
      (error, _stdout, stderr) => resolve({ code: error ? (error.code as number) : 0, stderr }),
    );
  });
}

describe('runs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gptq-cli-'));
  const evalFile = join(dir, 'eval.txt');
  writeFileSync(evalFile, readFileSync(join(SHARED, 'corpus/aesop_fables_body_reflowed.txt'), 'utf8').slice(0, 2500));
  const model = join(SHARED, 'models/stories260K');
  const calibration = join(SHARED, 'corpus/stories260K_generated_200_seed20251122.txt');
  /** A small run; a flag in `extra` replaces the default given here (else the CLI would refuse it as given twice). */
  const run = (out: string, extra: string[] = []) => {
    const defaults = { '--calibration': calibration, '--nsamples': '4', '--seqlen': '64', '--group-size': '32' };
    const kept = Object.entries(defaults).filter(([flag]) => !extra.includes(flag)).flat();
    return cli(['--model', model, '--eval', evalFile, '--out', out, ...kept, ...extra]);
  };
  const emptyText = join(dir, 'empty.txt');
  writeFileSync(emptyText, '');

  it('writes report.json with every setting, the windows, each linear and the perplexities; --format both adds the GGUF and imatrix, which report.json and the card list', async () => {
    const out = join(dir, 'run');
    const { code, stderr } = await run(out, ['--bits', '4', '--asym', '--format', 'both', '--eval-windows', '99999999']);
    expect(stderr).toContain('wrote');
    expect(code).toBe(0);
    // The plan before the run: sizes, then memory and the studio's time estimate on this adapter;
    // --eval-windows beyond the text's windows is said, not capped silently.
    const windows = Number(/^plan: stories260K \(llama, 5 blocks\), calibration 4 windows of 64 tokens from a text of \d+ tokens, evaluation eval\.txt (\d+) windows of 64 tokens, each scored by the original, RTN and GPTQ models$/m.exec(stderr)?.[1]);
    expect(windows).toBeGreaterThan(1);
    expect(stderr).toMatch(/^plan: GPU memory about \d+ (KiB|MiB) \(--gpu-memory 4096 MiB\), host memory about \d+ MiB \(of the machine's [\d.]+ GiB\); time about \S+ \(quantization \S+, evaluation \S+\) on this adapter, its GEMM measured at [\d.]+ GFLOP\/s$/m);
    expect(stderr).toMatch(new RegExp(`^note: --eval-windows 99999999: eval\\.txt has ${windows} windows of 64 tokens; evaluating all ${windows}$`, 'm'));
    expect(stderr.indexOf('plan: ')).toBeLessThan(stderr.indexOf('checking: '));
    // The plan's loader warnings, before the run starts.
    expect(stderr).toMatch(/^warning: Asymmetric grids are stored as gptq_v2 .*AutoGPTQ does not\.$/m);
    expect(stderr.indexOf('warning: ')).toBeLessThan(stderr.indexOf('calibration: '));
    // Piped (not a terminal): the evaluation's passes as one line for the three models, throttled, the last always.
    expect(stderr).not.toMatch(/\((original|rtn|gptq)\): window/);
    expect(stderr).toMatch(/^evaluating eval\.txt: (\d+) of \1 windows, each scored by the original, RTN and GPTQ models/m);
    const r = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(r.evaluations[0].windows).toBe(windows);
    const files = ['report.json', 'model.safetensors', 'config.json', 'quantize_config.json', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json', 'README.md', 'stories260K-Q4_1.gguf', 'imatrix.gguf'];
    expect(r.files).toEqual(files);
    expect(readdirSync(out).sort()).toEqual([...files].sort());
    const gguf = readGguf(readFileSync(join(out, 'stories260K-Q4_1.gguf')));
    expect(kvValue(gguf, 'general.name')).toBe('stories260K');
    expect(kvValue(gguf, 'general.file_type')).toBe(3);
    expect(kvValue(readGguf(readFileSync(join(out, 'imatrix.gguf'))), 'imatrix.chunk_count')).toBe(4);
    expect(r.gguf).toMatchObject({ type: 'Q4_1', refusal: null });
    // What was asked for (--format, --gguf-float's default), and the GPTQ plan of the checkpoint written.
    expect(r.output).toEqual({ format: 'both', ggufFloat: 'F16' });
    expect(r.export).toMatchObject({ refusal: null, format: 'gptq_v2' });
    // The model card lists every file of the folder, the GGUF with its block type.
    const card = readFileSync(join(out, 'README.md'), 'utf8');
    for (const f of files) expect(card).toContain(`\n- \`${f}\`: `);
    expect(card).toMatch(/^- `stories260K-Q4_1\.gguf`: the same quantized model as a GGUF for llama\.cpp: linears in Q4_1 blocks/m);
    expect(r.settings).toMatchObject({ bits: 4, groupSize: 32, sym: false, nsamples: 4, seqlen: 64, seed: 0, trueSequential: true });
    expect(r.calibration.windows).toHaveLength(4);
    expect(r.calibration.windows[0]).toHaveLength(64);
    expect(r.layers).toHaveLength(35);
    expect(r.layers[0]).toMatchObject({ block: 0, name: 'self_attn.k_proj', rows: 32, cols: 64 });
    for (const l of r.layers) expect(l.gptq.mse).toBeGreaterThan(0);
    expect(r.perplexity).toMatchObject({ text: 'eval.txt', seqlen: 64 });
    expect(r.perplexity.original).toBeLessThan(r.perplexity.rtn);
    expect(r.adapter.featureLevel).toBeDefined();
    // The kernels the adapter was timed to run: the GEMM's, and the forward's attention with the probe's times.
    expect(typeof r.adapter.kernels.gemm).toBe('string');
    expect(['per-query', 'tiled']).toContain(r.adapter.kernels.attention.kernel);
    expect(r.adapter.kernels.attention.margin).toBe(1.25);
    expect(r.adapter.kernels.attention.probe.perQueryMs).toBeGreaterThan(0);
    expect(r.adapter.kernels.attention.probe.tiledMs).toBeGreaterThan(0);
    expect(r.seconds.total).toBeGreaterThan(0);
    // The process's peak RSS (more than node itself holds at start) and the pool's peak GPU bytes.
    expect(r.resources.peak_rss_bytes).toBeGreaterThan(20 * 2 ** 20);
    expect(r.resources.peak_gpu_bytes).toBeGreaterThan(0);
    // Shared files name the model by its folder, never by the absolute path it was given.
    expect(r.model.name).toBe('stories260K');
    for (const file of ['report.json', 'README.md', 'config.json', 'quantize_config.json']) {
      const text = readFileSync(join(out, file), 'utf8');
      expect(text, file).not.toContain(SHARED);
      expect(text, file).not.toContain(dir);
    }
    expect(readFileSync(join(out, 'README.md'), 'utf8')).toMatch(/^# stories260K, GPTQ 4-bit/);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect([config.torch_dtype, config.dtype]).toEqual(['float16', 'float16']);
  });

  it('defaults the window length to the model context (GPT-2 names model: 16)', async () => {
    const names = join(dir, 'names.txt');
    const namesEval = join(dir, 'names-eval.txt');
    const text = readFileSync(join(SHARED, 'corpus/names_eot.txt'), 'utf8');
    writeFileSync(names, text.slice(0, 20000));
    writeFileSync(namesEval, text.slice(20000, 22000));
    const out = join(dir, 'names-run');
    const { code, stderr } = await cli(['--model', join(SHARED, 'models/makemore-names-gpt2'), '--calibration', names, '--eval', namesEval, '--nsamples', '4', '--out', out]);
    expect(code).toBe(0);
    // 4 windows of 16 tokens for mlp.c_proj's 256 columns: said before the run, with what to change
    // (longer windows are not offered: the context is 16).
    expect(stderr).toMatch(/^warning: the calibration has 64 tokens \(4 × 16\), fewer than the 256 input columns of mlp\.c_proj: .*\(nsamples, now 4; at least 16 at this length\)$/m);
    const r = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(r.settings.seqlen).toBe(16);
    // --format gptq (the default) asks for no GGUF: its plan is null, as export is for --format gguf.
    expect(r).toMatchObject({ output: { format: 'gptq', ggufFloat: null }, gguf: null, export: { refusal: null } });
    expect(r.layers.map((l: { name: string }) => l.name).slice(0, 4)).toEqual(['attn.c_attn', 'attn.c_proj', 'mlp.c_fc', 'mlp.c_proj']);
  });

  it('--format gguf writes the GGUF, imatrix and their card only, and report.json gives the GGUF\'s size and no GPTQ plan', async () => {
    const out = join(dir, 'gguf-only');
    const { code, stderr } = await run(out, ['--format', 'gguf', '--eval-windows', '2']);
    expect(stderr).toContain('wrote');
    expect(code).toBe(0);
    const r = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    // --eval-windows: the first 2 windows of the text were evaluated.
    expect(r.evaluations.map((e: { windows: number }) => e.windows)).toEqual([2]);
    expect(r.files).toEqual(['report.json', 'stories260K-Q4_0.gguf', 'imatrix.gguf', 'README.md']);
    expect(readdirSync(out).sort()).toEqual(['README.md', 'imatrix.gguf', 'report.json', 'stories260K-Q4_0.gguf']);
    expect(readFileSync(join(out, 'README.md'), 'utf8')).toMatch(/^# stories260K, GPTQ 4-bit as GGUF Q4_0\n/);
    expect(r.size.quantizedBytes).toBe(statSync(join(out, 'stories260K-Q4_0.gguf')).size);
    // No GPTQ checkpoint was written, so no GPTQ plan; the GGUF's type is under gguf.
    expect(r.output).toEqual({ format: 'gguf', ggufFloat: 'F16' });
    expect(r.export).toBeNull();
    expect(r.gguf).toMatchObject({ type: 'Q4_0', refusal: null });
    expect(stderr).toContain('wrote report.json, stories260K-Q4_0.gguf, imatrix.gguf, README.md to');
  });

  // Input that needs no GPU to check is refused before the adapter is created: Dawn's own notes
  // ("Warning: maxDynamic… artificially reduced", printed as it creates the adapter) do not come first.
  it.each([
    [['--bits', '1'], /--bits/, false],
    [['--seqlen', '4096'], /seqlen 4096 is longer than the model's context of 512 tokens: the longest window it takes is 512, so use seqlen 512 or less/, false],
    [['--calibration', emptyText, '--seqlen', '32'], new RegExp(`^error: the calibration text ${emptyText.replace(/[.\\/]/g, '\\$&')} is empty \\(0 tokens\\); a window of seqlen 32 needs at least 33: use a longer text$`, 'm'), false],
    [['--group-size', '48'], /with group size 48 no linear of this model can be exported quantized/, false],
    [['--gpu-memory', '1'], /more than the 1 MiB allowed\. Use fewer calibration windows \(now 4\) or shorter ones \(now 64 tokens\).* Or, if the GPU has the memory, raise the budget to at least \d+ MiB: --gpu-memory MIB \(now 1\)\.$/m, true],
    [['--bits', '3', '--format', 'gguf'], /^error: no GGUF for these settings: 3-bit symmetric weights have no exact GGUF block type.*nearest setting with an exact type: 4-bit symmetric, groups of 32 \(Q4_0\)\. To go on, give --bits 4 for Q4_0, or --format gptq to write the GPTQ checkpoint instead \(nothing was run\)$/m, false],
    [['--bits', '3', '--format', 'both'], /^error: no GGUF for these settings: .*\. To go on, give --bits 4 for Q4_0, or --format gptq to write the GPTQ checkpoint alone \(nothing was run\)$/m, false],
  ])('exits 2 on bad input %j and leaves --out untouched', async (extra, message, needsGpu) => {
    const out = join(dir, `bad${extra.join('')}`);
    const { code, stderr } = await run(out, extra);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    if (!needsGpu) expect(stderr).not.toMatch(/^Warning: /m);
    expect(stderr).not.toMatch(/^plan: /m);
    expect(existsSync(out)).toBe(false);
  });

  it('exits 2 on --format gguf or both for a tokenizer with no GGUF form (a BPE without byte fallback), before the GPU, saying which --format to give', async () => {
    const names = join(dir, 'names-gguf.txt');
    writeFileSync(names, readFileSync(join(SHARED, 'corpus/names_eot.txt'), 'utf8').slice(0, 4000));
    for (const [format, instead] of [['gguf', 'instead'], ['both', 'alone']]) {
      const out = join(dir, `names-${format}`);
      const { code, stderr } = await cli(['--model', join(SHARED, 'models/makemore-names-gpt2'), '--calibration', names, '--eval', names, '--nsamples', '4', '--out', out, '--format', format]);
      expect(code).toBe(2);
      expect(stderr).toMatch(new RegExp(`^error: no GGUF for this run: tokenizer\\.json: a BPE without byte fallback and without a ByteLevel pre-tokenizer has no GGUF equivalent .*\\. To go on, give --format gptq to write the GPTQ checkpoint ${instead} \\(nothing was run\\)$`, 'm'));
      expect(stderr).not.toMatch(/^Warning: /m);
      expect(existsSync(out)).toBe(false);
    }
  });

  it('--sweep writes one report.json with every strategy over the seeds, the front and the sensitivity map; a bad strategy exits 2', async () => {
    const sweep = (out: string, list: string) => cli(['--model', model, '--calibration', calibration, '--eval', evalFile, '--out', out,
      '--nsamples', '2', '--seqlen', '32', '--seed', '3', '--sweep', list, '--seeds', '2', '--sensitivity']);
    const bad = join(dir, 'sweep-bad');
    const refused = await sweep(bad, '4g32,q4');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--sweep: strategy "q4": write \[gptq:\|rtn:\|awq:\]BITS/);
    expect(existsSync(bad)).toBe(false);

    const out = join(dir, 'sweep');
    const { code, stderr } = await sweep(out, '4g32,rtn:4g32,2g32');
    expect(stderr).toMatch(/^Pareto front on eval\.txt: gptq:2g32 \(\d\.\d{3} bits per weight, perplexity \d+\.\d{3}\), /m);
    // A sweep's plan: its sizes, and its time and memory said not estimated yet.
    expect(stderr).toMatch(/^plan: stories260K \(llama, 5 blocks\), calibration 2 windows of 32 tokens from a text of \d+ tokens, evaluation eval\.txt \d+ windows of 32 tokens/m);
    expect(stderr).toMatch(/^plan: a sweep's time and memory are not estimated yet/m);
    // What a single run would warn of, the sweep does too, before its work.
    expect(stderr).toMatch(/^warning: the calibration has 64 tokens \(2 × 32\), fewer than the 172 input columns of mlp\.down_proj/m);
    expect(stderr.indexOf('warning: ')).toBeLessThan(stderr.indexOf('reference: '));
    expect(code).toBe(0);
    expect(readdirSync(out)).toEqual(['report.json']);
    const r = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(r).toMatchObject({ kind: 'sweep', files: ['report.json'], model: { name: 'stories260K' }, settings: { nsamples: 2, seqlen: 32, seed: 3 } });
    // What was written, in the shape of a run's report.json: report.json alone.
    expect(r.output).toEqual({ format: 'report', ggufFloat: null });
    expect(r.sweep.seeds).toEqual([3, 4]);
    expect(r.sweep.strategies.map((s: { label: string }) => s.label)).toEqual(['gptq:4g32', 'rtn:4g32', 'gptq:2g32']);
    for (const s of r.sweep.strategies) {
      expect(s.seeds).toHaveLength(2);
      expect(s.summary.perplexity.n).toBe(2);
      expect(s.summary.perplexity.mean).toBeGreaterThan(r.sweep.original['eval.txt']);
      expect(s.seeds[0].divergence['eval.txt'].kld_mean).toBeGreaterThan(0);
      expect(s.seeds[0].layers).toHaveLength(35);
    }
    const [g4, rtn4, g2] = r.sweep.strategies;
    expect(rtn4.bpw).toBe(g4.bpw);
    expect(g2.bpw).toBeLessThan(g4.bpw);
    // The front holds the 2-bit point (nothing is cheaper) and the better of the 4-bit pair.
    expect(r.sweep.front).toEqual(['gptq:2g32', g4.summary.perplexity.mean <= rtn4.summary.perplexity.mean ? 'gptq:4g32' : 'rtn:4g32']);
    for (const l of r.sweep.front) expect(stderr).toContain(`${l} (`);
    expect(r.sensitivity.label).toBe('gptq:4g32');
    expect(r.sensitivity.linears).toHaveLength(35);
    const text = readFileSync(join(out, 'report.json'), 'utf8');
    expect(text).not.toMatch(/NaN|Infinity/);
    expect(text).not.toContain(SHARED);
    expect(text).not.toContain(dir);
  }, 300_000);

  it('--target-bpw runs the planned widths and writes them as dynamic rules in the checkpoint', async () => {
    const out = join(dir, 'mixed');
    const { code, stderr } = await cli(['--model', model, '--calibration', calibration, '--eval', evalFile, '--out', out,
      '--nsamples', '2', '--seqlen', '32', '--group-size', '32', '--target-bpw', '4.6']);
    expect(stderr).toMatch(/mixed precision: 4\.\d{3} bits per weight \(target 4\.6\), \d+ weights at 2 bits/);
    // The plan's estimate is the run's after the map's pass, which it says it does not estimate.
    expect(stderr).toMatch(/^plan: GPU memory .*; time about \S+ \(quantization \S+, evaluation \S+\) for the run after the sensitivity map's pass, which is not estimated/m);
    expect(code).toBe(0);
    const r = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(r.mixedPrecision.bpw).toBeLessThanOrEqual(4.6);
    expect(r.mixedPrecision.sensitivityFrom).toBe('gptq:4g32');
    const q = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).quantization_config;
    expect(q.bits).toBe(r.mixedPrecision.baseBits);
    const widths = Object.entries(q.dynamic as Record<string, { bits?: number }>).filter(([k]) => k.startsWith('+:')).map(([, v]) => v.bits);
    expect(widths.length).toBeGreaterThan(0);
    expect(widths.every((b) => b !== q.bits && [2, 3, 4, 8].includes(b!))).toBe(true);
  }, 300_000);

  it('exits 2 before any work on a NaN in model.norm.weight, naming the tensor and the file, and writes nothing', async () => {
    const bad = writeModelFolder(join(dir, 'nan-model'), await editedModel('stories260K', {
      tensor: (name, values) => {
        if (name === 'model.norm.weight') values[17] = Number.NaN;
      },
    }));
    const out = join(dir, 'nan-run');
    const { code, stderr } = await cli(['--model', bad, '--calibration', calibration, '--eval', evalFile, '--out', out, '--nsamples', '4', '--seqlen', '64', '--group-size', '32']);
    expect(stderr).toMatch(/model\.safetensors, tensor "model\.norm\.weight": 1 NaN value \(the first at \[17\] of \[64\]\)/);
    expect(stderr).not.toMatch(/quantization:/);
    expect(code).toBe(2);
    expect(existsSync(out)).toBe(false);
  });

  it('exits 2 on a run that would quantize nothing (group size 128 on 64 inputs), saying which group sizes fit', async () => {
    const out = join(dir, 'g128');
    const { code, stderr } = await cli(['--model', model, '--calibration', calibration, '--eval', evalFile, '--out', out, '--nsamples', '4', '--seqlen', '64', '--group-size', '128']);
    expect(stderr).toMatch(/with group size 128 no linear of this model can be exported quantized/);
    expect(stderr).toMatch(/group sizes that quantize every linear of this model: -1 \(one group per row\), 16, 32, 64/);
    expect(code).toBe(2);
    expect(existsSync(out)).toBe(false);
  });

  it('exits 2 on a folder that is not a checkpoint, and before any work on an --out that is not empty or cannot be made', async () => {
    const notModel = join(dir, 'empty-model');
    mkdirSync(notModel);
    const a = await cli(['--model', notModel, '--calibration', calibration, '--eval', evalFile, '--out', join(dir, 'x')]);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/config\.json/);
    const full = join(dir, 'full');
    mkdirSync(full);
    writeFileSync(join(full, 'keep.txt'), 'mine');
    const b = await run(full);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/not empty/);
    expect(readdirSync(full)).toEqual(['keep.txt']);
    // An --out the end of the run could not write is refused before any work: under a file, or
    // where no folder can be made (Linux's /proc refuses new entries).
    const file = join(dir, 'a-file');
    writeFileSync(file, 'mine');
    const c = await run(join(file, 'sub'));
    expect(c.code).toBe(2);
    expect(c.stderr).toMatch(/cannot be made: .*a-file is not a folder/);
    expect(c.stderr).not.toMatch(/perplexity/);
    expect(readFileSync(file, 'utf8')).toBe('mine');
    // An --out that is a file: --out is a folder, and which one to give.
    const e = await run(file);
    expect(e.code).toBe(2);
    expect(e.stderr).toMatch(/^error: --out .*a-file is an existing file: --out is the folder the run writes report\.json and the model's files into, .*give a new folder, e\.g\. --out .*a-file-out \(nothing was run/m);
    expect(readFileSync(file, 'utf8')).toBe('mine');
    if (process.platform === 'linux') {
      const d = await run('/proc/gptq-studio-out');
      expect(d.code).toBe(2);
      expect(d.stderr).toMatch(/cannot be written: no folder can be created in \/proc/);
    }
  });
});

describe('families', () => {
  it('quantizes a post-LN opt with project_in/out (built in a temp folder): report.json names it, the export keeps its names and keys', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gptq-cli-opt-'));
    const model = join(dir, 'opt');
    await writeModelDir(randomOptPostLn(), model);
    const text = join(dir, 'text.txt');
    writeFileSync(text, readFileSync(join(SHARED, 'corpus/stories260K_generated_200_seed20251122.txt'), 'utf8').slice(0, 8000));
    const out = join(dir, 'out');
    const { code, stderr } = await cli(['--model', model, '--calibration', text, '--eval', text, '--out', out, '--nsamples', '4', '--seqlen', '32', '--group-size', '32']);
    expect(stderr).toContain('wrote');
    expect(code).toBe(0);
    const r = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(r.model.arch).toBe('opt');
    expect(r.layers.slice(0, 6).map((l: { name: string }) => l.name)).toEqual(['self_attn.k_proj', 'self_attn.v_proj', 'self_attn.q_proj', 'self_attn.out_proj', 'fc1', 'fc2']);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ model_type: 'opt', do_layer_norm_before: false, word_embed_proj_dim: 32 });
    const header = readFileSync(join(out, 'model.safetensors'));
    const names = Object.keys(JSON.parse(header.subarray(8, 8 + header.readUInt32LE(0)).toString('utf8')));
    expect(names).toEqual(expect.arrayContaining(['model.decoder.project_in.weight', 'model.decoder.project_out.weight', 'model.decoder.embed_positions.weight', 'model.decoder.layers.1.fc2.qweight', 'model.decoder.layers.1.fc2.bias']));
  });

  it('exits 2 on an architecture it does not run, naming the supported ones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gptq-cli-mamba-'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'mamba', hidden_size: 64 }));
    const text = join(SHARED, 'corpus/names_eot.txt');
    const { code, stderr } = await cli(['--model', dir, '--calibration', text, '--eval', text, '--out', join(dir, 'out')]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/model_type "mamba" is not supported; supported model types: llama, .*opt/);
  });
});
