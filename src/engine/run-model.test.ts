/**
 * runModel as the studio drives it: evaluation progress window by window, a cancel during the
 * evaluation that keeps the quantized model (the studio) or throws (the CLI), and an MLP width
 * padded for the export left out of every statistic (stories260K: 172 → 192 with group 32).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeRuntime } from '../testing/node-gpu';
import { folderSources } from '../testing/node-source';
import { readCorpus, sharedModelDir, STORIES_260K } from '../testing/shared-models';
import { runModel, type RunInputs } from './run-model';
import { RunCancelledError, type ProgressEvent } from '../core/run';
import type { LayerDetail } from '../core/layer-detail';
import type { GpuRuntime } from '../gpu/runtime';

let rt: GpuRuntime;
beforeAll(async () => {
  rt = await nodeRuntime();
});
afterAll(() => rt?.destroy());

async function inputs(over: Partial<RunInputs> = {}): Promise<RunInputs> {
  return {
    files: await folderSources(sharedModelDir(STORIES_260K)),
    modelName: 'stories260K',
    calibration: { name: 'calib', text: readCorpus('stories260K_generated_200_seed20251122.txt').slice(0, 20_000) },
    evaluations: [
      { name: 'aesop', text: readCorpus('aesop_fables_body_reflowed.txt').slice(0, 4000) },
      { name: 'aesop-2', text: readCorpus('aesop_fables_body_reflowed.txt').slice(4000, 8000) },
    ],
    evalWindowLimit: 4,
    settings: { bits: 4, groupSize: 32, nsamples: 2, seqlen: 32 },
    gpuMemoryBudget: 2 ** 30,
    ...over,
  };
}

describe('runModel for the studio', () => {
  it('reports evaluation window by window, keeps the model when cancelled during evaluation, and leaves the MLP padding out', async () => {
    const abort = new AbortController();
    const events: ProgressEvent[] = [];
    const details = new Map<string, LayerDetail>();
    const out = await runModel(rt, await inputs({ keepOnEvaluationCancel: true }), {
      signal: abort.signal,
      details: true,
      onProgress: (e) => {
        events.push(e);
        if (e.type === 'linear' && e.detail) details.set(`${e.report.block}.${e.report.name}`, e.detail);
        // Cancel once the RTN model of the second text has scored its first pass.
        if (e.type === 'evaluation' && e.text === 'aesop-2' && e.variant === 'rtn') abort.abort();
      },
    });
    const evals = events.filter((e): e is Extract<ProgressEvent, { type: 'evaluation' }> => e.type === 'evaluation');
    expect(evals.length).toBeGreaterThan(3);
    // Windows done count up over every text and model, to the total planned (2 texts × 4 windows × 3 models).
    expect(evals[0].total).toBe(24);
    // A pass ends for the three models at once (they run it side by side): its three events say the same.
    for (let i = 1; i < evals.length; i++) expect(evals[i].done).toBe(evals[i - 1].done + (i % 3 === 0 ? 6 : 0));
    expect(evals.every((e) => e.windowsDone >= 1 && e.windowsDone <= e.windows)).toBe(true);
    // Within each pass, a step after each block run by the three models: done counts up between
    // the passes' events, never past the pass's end.
    const progress = events.filter((e): e is Extract<ProgressEvent, { type: 'evaluation' | 'evaluationStep' }> => e.type === 'evaluation' || e.type === 'evaluationStep');
    const steps = progress.filter((e): e is Extract<ProgressEvent, { type: 'evaluationStep' }> => e.type === 'evaluationStep');
    const blocks = out.model.spec.layers;
    expect(steps.filter((e) => e.text === 'aesop').map((e) => e.step)).toEqual(
      Array.from({ length: Math.ceil(4 / 2) }, () => Array.from({ length: blocks }, (_, b) => b + 1)).flat());
    expect(steps.every((e) => e.steps === blocks + 1 && e.to > e.from && e.to <= e.windows)).toBe(true);
    for (let i = 1; i < progress.length; i++) expect(progress[i].done).toBeGreaterThanOrEqual(progress[i - 1].done);
    expect(steps.every((e) => e.done < e.total)).toBe(true);
    // The run came back: the first text measured in full; the second, whose three models run
    // pass by pass side by side (streamed), not measured for any of them.
    const [first, second] = out.report.evaluations;
    expect([first.original, first.rtn, first.gptq].every((v) => typeof v === 'number' && v > 1)).toBe(true);
    expect([second.original, second.rtn, second.gptq]).toEqual([null, null, null]);
    // The divergence of the models measured in full; none for the text the cancel cut short.
    const div = out.report.divergence!;
    expect(Object.keys(div)).toEqual(['aesop']);
    for (const v of ['rtn', 'gptq'] as const) {
      const d = div.aesop[v]!;
      expect(Object.keys(d).sort()).toEqual(['dp_rms', 'kld_max', 'kld_mean', 'kld_p99', 'top1_agree']);
      expect(d.kld_mean).toBeGreaterThan(0);
      expect(d.kld_mean).toBeLessThanOrEqual(d.kld_p99);
      expect(d.kld_p99).toBeLessThanOrEqual(d.kld_max);
      expect(d.top1_agree).toBeGreaterThan(0);
      expect(d.top1_agree).toBeLessThanOrEqual(1);
    }
    expect(out.weights.gptq.size).toBe(35);
    expect(out.report.size.quantizedBytes).toBeGreaterThan(0);
    expect(JSON.stringify(out.report)).not.toMatch(/NaN|Infinity/);

    // The export padded the MLP 172 → 192; the reports and details are of the model's 172.
    expect(out.report.export.intermediate).toEqual({ from: 172, to: 192 });
    const up = out.report.layers.find((l) => l.name === 'mlp.up_proj')!;
    const down = out.report.layers.find((l) => l.name === 'mlp.down_proj')!;
    expect([up.rows, up.cols, down.rows, down.cols]).toEqual([172, 64, 64, 172]);
    const downDetail = details.get('0.mlp.down_proj')!;
    expect(downDetail.cols).toBe(172);
    expect(downDetail.paddedCols).toBe(20);
    expect(Math.min(...downDetail.diag)).toBeGreaterThan(0); // no "inputs that never fire" from padding
    const counted = (d: LayerDetail) => d.errors.gptq.reduce((a, b) => a + b, 0);
    expect(counted(downDetail)).toBe(64 * 172);
    expect(counted(details.get('0.mlp.gate_proj')!)).toBe(172 * 64);
  });

  it('throws when cancelled during evaluation unless asked to keep the model (the CLI writes nothing)', async () => {
    const abort = new AbortController();
    const run = runModel(rt, await inputs({ evaluations: [{ name: 'aesop', text: readCorpus('aesop_fables_body_reflowed.txt').slice(0, 4000) }] }), {
      signal: abort.signal,
      onProgress: (e) => {
        if (e.type === 'evaluation') abort.abort();
      },
    });
    await expect(run).rejects.toBeInstanceOf(RunCancelledError);
  });
});
