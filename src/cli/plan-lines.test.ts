/** What the CLI prints before a run (plan-lines.ts) and its GGUF refusal (gguf-refusal.ts): pure, no GPU. */
import { describe, expect, it } from 'vitest';
import { DEMO_SHAPE } from '../testing/demo-shape';
import { estimateTime, evaluationWindowCounts, runWork, type AdapterSpeed, type TimeEstimate } from '../core/time-model';
import {
  estimateRun, evalWindowsNotes, longEvaluationWarning, resourcesLine, sizesLine, type PlanSizes,
} from './plan-lines';
import { LONG_EVALUATION_SECONDS, SHORT_EVALUATION_SECONDS } from '../core/long-evaluation';
import { ggufRefusal, suggestionFlags } from './gguf-refusal';

/** The demo model's shape (Llama, hidden 128, MLP 256, 4 blocks, 4/2 heads, vocabulary 1024). */
const demo = DEMO_SHAPE;

/** 14259 windows of 128 tokens and 5 tokens more (the last, partial window is not scored). */
const sizes = (evalWindowLimit: number | null): PlanSizes => ({
  model: { name: 'demo', arch: 'llama', blocks: 4 },
  settings: { nsamples: 16, seqlen: 128, trueSequential: true },
  calibrationTokens: 30000,
  evaluations: [{ name: 'eval.txt', tokens: 14259 * 128 + 5 }],
  evalWindowLimit,
});
const slow: AdapterSpeed = { gflops: 2, syncSeconds: 0.002 };

describe('the plan the CLI prints before a run', () => {
  it('names the model, its blocks, the calibration and each text\'s windows (the first N of all when --eval-windows cuts them)', () => {
    expect(sizesLine(sizes(null))).toBe('plan: demo (llama, 4 blocks), calibration 16 windows of 128 tokens from a text of 30000 tokens, ' +
      'evaluation eval.txt 14259 windows of 128 tokens, each scored by the original, RTN and GPTQ models');
    expect(sizesLine(sizes(8))).toContain('evaluation eval.txt the first 8 of its 14259 windows of 128 tokens, each scored');
    expect(sizesLine(sizes(99999999))).toContain('evaluation eval.txt 14259 windows of 128 tokens, each scored');
  });

  it('says when --eval-windows asks for more windows than the text has, and only then', () => {
    expect(evalWindowsNotes(sizes(99999999))).toEqual(['--eval-windows 99999999: eval.txt has 14259 windows of 128 tokens; evaluating all 14259']);
    expect(evalWindowsNotes(sizes(14260))).toHaveLength(1);
    expect(evalWindowsNotes(sizes(14259))).toEqual([]);
    expect(evalWindowsNotes(sizes(8))).toEqual([]);
    expect(evalWindowsNotes(sizes(null))).toEqual([]);
  });

  it('estimates the time as the studio does (runWork, estimateTime, evaluationWindowCounts), a capped --eval-windows as every window', () => {
    const studio = (limit: number | null) => {
      const windows = evaluationWindowCounts([14259 * 128 + 5], 128, limit).reduce((a, b) => a + b, 0);
      return estimateTime(runWork(demo, { nsamples: 16, seqlen: 128, trueSequential: true, evalWindows: windows }), slow);
    };
    expect(estimateRun(demo, sizes(null), slow)).toEqual(studio(null));
    expect(estimateRun(demo, sizes(8), slow)).toEqual(studio(8));
    expect(estimateRun(demo, sizes(99999999), slow)).toEqual(studio(null));
    expect(estimateRun(demo, sizes(8), slow).evaluation).toBeLessThan(studio(null).evaluation);
  });

  it('gives memory against its budgets and the time per stage and in all on this adapter', () => {
    const time: TimeEstimate = { quantization: 100, evaluation: 25, total: 125 };
    const line = resourcesLine({ gpu: { bytes: 3.2 * 2 ** 20, budget: '--gpu-memory 4096 MiB' }, host: { bytes: 120 * 2 ** 20, budget: 'of the machine\'s 15.6 GiB' }, time, speed: { gflops: 4.712, syncSeconds: 0 } });
    expect(line).toBe('plan: GPU memory about 4 MiB (--gpu-memory 4096 MiB), host memory about 120 MiB (of the machine\'s 15.6 GiB); ' +
      'time about 2m05s (quantization 1m40s, evaluation 25.0s) on this adapter, its GEMM measured at 4.71 GFLOP/s');
    expect(resourcesLine({ gpu: { bytes: 1, budget: 'b' }, host: { bytes: 1, budget: 'h' }, time: null, speed: null })).toMatch(/; time not estimated \(the adapter could not be timed\)$/);
    expect(resourcesLine({ gpu: { bytes: 1, budget: 'b' }, host: { bytes: 1, budget: 'h' }, time, speed: slow, mixed: true }))
      .toMatch(/time about 2m05s .* for the run after the sensitivity map's pass, which is not estimated/);
  });

  it('warns of a long evaluation with the largest --eval-windows that keeps it short, and says nothing of a short one', () => {
    const all = estimateRun(demo, sizes(99999999), slow);
    expect(all.evaluation).toBeGreaterThan(LONG_EVALUATION_SECONDS);
    const warning = longEvaluationWarning(demo, sizes(99999999), slow)!;
    const k = Number(/--eval-windows (\d+)/.exec(warning)![1]);
    const target = Math.max(SHORT_EVALUATION_SECONDS, all.quantization);
    expect(estimateRun(demo, sizes(k), slow).evaluation).toBeLessThanOrEqual(target);
    expect(estimateRun(demo, sizes(k + 1), slow).evaluation).toBeGreaterThan(target);
    expect(warning).toMatch(new RegExp(`^the evaluation of 14259 windows is estimated at \\S+ of the run's \\S+; --eval-windows ${k} would evaluate the first ${k} of each text in about \\S+ \\(\\S+ in all\\)$`));
    expect(longEvaluationWarning(demo, sizes(k), slow)).toBeNull();
    // A long evaluation on a fast adapter is not long: no warning.
    const fast = { gflops: 1e4, syncSeconds: 0 };
    expect(longEvaluationWarning(demo, sizes(null), fast)).toBeNull();
  });
});

describe('the GGUF refusal', () => {
  const grid = { bits: 3, sym: true, groupSize: 48, actOrder: false, staticGroups: false, seqlen: 64 };
  const suggestion = { settings: { ...grid, bits: 4, groupSize: 32 }, type: 'Q4_0' as const, text: '4-bit symmetric, groups of 32 (Q4_0)' };
  const tokenizer = { refusal: 'tokenizer.json: a BPE without byte fallback has no GGUF equivalent', suggestion: null };

  it('names a next step for every format that asks for a GGUF: the GPTQ checkpoint instead or alone, or report.json', () => {
    const ok = { refusal: null };
    expect(ggufRefusal({ gguf: tokenizer, export: ok }, 'gguf', { ...grid, bits: 4 }))
      .toBe('no GGUF for this run: tokenizer.json: a BPE without byte fallback has no GGUF equivalent. To go on, give --format gptq to write the GPTQ checkpoint instead (nothing was run)');
    expect(ggufRefusal({ gguf: tokenizer, export: ok }, 'both', { ...grid, bits: 4 })).toMatch(/To go on, give --format gptq to write the GPTQ checkpoint alone \(nothing was run\)$/);
    // No checkpoint either (a width GPTQ does not pack, or an export refused): report.json alone.
    expect(ggufRefusal({ gguf: tokenizer, export: ok }, 'gguf', { ...grid, bits: 5 })).toMatch(/give --format report to write report\.json alone/);
    expect(ggufRefusal({ gguf: tokenizer, export: { refusal: 'no' } }, 'gguf', { ...grid, bits: 4 })).toMatch(/give --format report/);
    // A grid with no GGUF type: the nearest setting's flags, or the other format.
    expect(ggufRefusal({ gguf: { refusal: 'no type. The nearest setting with an exact type: 4-bit symmetric, groups of 32 (Q4_0)', suggestion }, export: ok }, 'both', grid))
      .toBe('no GGUF for these settings: no type. The nearest setting with an exact type: 4-bit symmetric, groups of 32 (Q4_0). ' +
        'To go on, give --bits 4 --group-size 32 for Q4_0, or --format gptq to write the GPTQ checkpoint alone (nothing was run)');
    expect(ggufRefusal({ gguf: tokenizer, export: ok }, 'gptq', grid)).toBeNull();
    expect(ggufRefusal({ gguf: { refusal: null, suggestion: null }, export: ok }, 'gguf', grid)).toBeNull();
  });

  it('gives the suggestion as the flags that change', () => {
    expect(suggestionFlags({ ...grid, sym: false, bits: 8 }, { ...grid, sym: true, bits: 8 })).toBe('--sym');
    expect(suggestionFlags({ ...grid, actOrder: true }, { ...grid, bits: 4, groupSize: 32, actOrder: true, staticGroups: true })).toBe('--bits 4 --group-size 32 --static-groups');
  });
});
