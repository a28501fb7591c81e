/**
 * Bad inputs a whole-model run must refuse before any work, and values it must not let through:
 * NaN/Inf in any used tensor, token ids outside the vocabulary, runs that would quantize nothing,
 * models whose values do not fit the F16 export; and names of the user's machine kept out of the report.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { nodeRuntime } from '../testing/node-gpu';
import { folderSources } from '../testing/node-source';
import { readCorpus, sharedModelDir, STORIES_260K } from '../testing/shared-models';
import { editedModel, sourcesOf } from '../testing/model-variants';
import { CheckpointError } from '../core/model/checkpoint-error';
import { openCheckpoint } from '../core/model/checkpoint';
import { defaultRunSettings, type ProgressEvent, type RunSettings } from '../core/run';
import type { ByteSource } from '../core/model/byte-source';
import type { GpuRuntime } from '../gpu/runtime';
import { assertTextLongEnough, readRunInputs, runModel, RunInputError, type RunText } from './run-model';
import { shareableModelName } from '../core/shareable-name';
import { planBeforeGpu, planRun } from './run-plan';
import { runSweep, sweepRefusals } from './sweep';
import { parseStrategies } from '../core/sweep';
import { exportCheckpoint } from './export-checkpoint';

let rt: GpuRuntime;
beforeAll(async () => {
  rt = await nodeRuntime();
});
afterAll(() => rt?.destroy());

const calibration = { name: 'calib.txt', text: readCorpus('stories260K_generated_200_seed20251122.txt').slice(0, 20_000) };
const evaluation = { name: 'eval.txt', text: readCorpus('aesop_fables_body_reflowed.txt').slice(0, 600) };

function run(files: ByteSource[], settings: Partial<RunSettings> = {}, events: ProgressEvent[] = [], modelName = 'stories260K', texts = { calibration, evaluation }) {
  return runModel(rt, {
    files,
    modelName,
    calibration: texts.calibration,
    evaluations: [texts.evaluation],
    settings: { nsamples: 2, seqlen: 32, bits: 4, groupSize: 32, ...settings },
    gpuMemoryBudget: 2 ** 30,
  }, { onProgress: (e) => events.push(e) });
}

describe('shareable model names', () => {
  it('keep Hub ids and folder names, and cut paths to their last part', () => {
    expect(shareableModelName('stories260K')).toBe('stories260K');
    expect(shareableModelName('TinyLlama/TinyLlama-1.1B-Chat-v1.0')).toBe('TinyLlama/TinyLlama-1.1B-Chat-v1.0');
    expect(shareableModelName('/home/ada/models/stories260K/')).toBe('stories260K');
    expect(shareableModelName('C:\\Users\\ada\\models\\llama')).toBe('llama');
    expect(shareableModelName('~/models/x')).toBe('x');
    expect(shareableModelName('./stories260K')).toBe('stories260K');
    expect(shareableModelName('../a/b/c')).toBe('c');
    expect(shareableModelName('/')).toBe('model');
  });
});

describe('refused before any work', () => {
  it('a NaN in the final norm or in an unused embedding row: CheckpointError naming tensor and file, before calibration', async () => {
    for (const [tensor, index] of [['model.norm.weight', 5], ['model.embed_tokens.weight', 509 * 64 + 1]] as const) {
      const files = await editedModel(STORIES_260K, { tensor: (n, v) => { if (n === tensor) v[index] = Number.NaN; } });
      const events: ProgressEvent[] = [];
      const error = await run(sourcesOf(files), {}, events).then(() => null, (e: unknown) => e);
      expect(error).toBeInstanceOf(CheckpointError);
      expect((error as Error).message).toContain(`model.safetensors, tensor "${tensor}": 1 NaN value`);
      expect(events.every((e) => e.type === 'stage' && e.stage === 'checking')).toBe(true);
    }
  });

  it('a token id outside the vocabulary (an added token), naming the token, its id and the vocabulary size', async () => {
    const files = await editedModel(STORIES_260K, {
      tokenizer: (t) => {
        (t.added_tokens as unknown[]).push({ id: 512, content: '<|tool|>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
      },
    });
    const withToken = (text: string) => `${text.slice(0, 400)} <|tool|> ${text.slice(400)}`;
    const message = /the token "<\|tool\|>" \(id 512\) outside the model's vocabulary of 512 \(ids 0–511\)/;
    const calib = run(sourcesOf(files), {}, [], 'm', { calibration: { name: 'c.txt', text: withToken(calibration.text) }, evaluation });
    await expect(calib).rejects.toBeInstanceOf(RunInputError);
    await expect(calib).rejects.toThrow(/^the calibration text c\.txt has the token/);
    await expect(calib).rejects.toThrow(message);
    const evalRun = run(sourcesOf(files), {}, [], 'm', { calibration, evaluation: { name: 'e.txt', text: withToken(evaluation.text) } });
    await expect(evalRun).rejects.toThrow(/^the evaluation text e\.txt has the token/);
    await expect(evalRun).rejects.toThrow(message);
  });

  it('a run that would quantize nothing, in the run and in the plan the studio previews', async () => {
    const files = await folderSources(sharedModelDir(STORIES_260K));
    for (const groupSize of [128, 7, 100, 1000]) {
      await expect(run(files, { groupSize })).rejects.toThrow(new RegExp(`^with group size ${groupSize} no linear of this model can be exported quantized.*-1 \\(one group per row\\), 16, 32, 64$`));
    }
    const ckpt = await openCheckpoint(files);
    const settings = { ...defaultRunSettings, nsamples: 8, seqlen: 128 };
    expect(planRun(ckpt, { ...settings, groupSize: 100 }, rt, 2 ** 31).fitError).toMatch(/^with group size 100 no linear/);
    expect(planRun(ckpt, { ...settings, groupSize: 32 }, rt, 2 ** 31).fitError).toBeNull();
    // Nothing to quantize is said first, even when the memory would not fit either.
    expect(planRun(ckpt, { ...settings, groupSize: 100, nsamples: 1e9 }, rt, 2 ** 31).fitError).toMatch(/^with group size 100/);
  });

  it('the plan warns, for the CLI and the studio alike, of two RoPE bases that differ and of a calibration too small for the widest linear', async () => {
    const files = await editedModel(STORIES_260K, { config: (c) => { c.rope_parameters = { rope_type: 'default', rope_theta: 20000 }; } });
    const ckpt = await openCheckpoint(sourcesOf(files));
    const small = planRun(ckpt, { ...defaultRunSettings, nsamples: 2, seqlen: 32 }, rt, 2 ** 31);
    expect(small.warnings).toHaveLength(2);
    expect(small.warnings[0]).toMatch(/^config\.json gives rope_theta 10000 and rope_parameters\.rope_theta 20000: RoPE uses 20000/);
    expect(small.warnings[1]).toMatch(/^the calibration has 64 tokens \(2 × 32\), fewer than the 172 input columns of mlp\.down_proj/);
    // 4 × 64 = 256 tokens cover 172 columns; the stock config gives one base.
    const plain = await openCheckpoint(await folderSources(sharedModelDir(STORIES_260K)));
    expect(planRun(plain, { ...defaultRunSettings, nsamples: 4, seqlen: 64 }, rt, 2 ** 31).warnings).toEqual([]);
  });

  it('a sweep with a strategy that would quantize nothing: the same rule per pass (the studio\'s Compare check), refused before any work', async () => {
    const files = await folderSources(sharedModelDir(STORIES_260K));
    const ckpt = await openCheckpoint(files);
    const base = { ...defaultRunSettings, nsamples: 2, seqlen: 32 };
    const refused = sweepRefusals(ckpt, parseStrategies('4g32,4g999,rtn:4g999,awq:3g100,rtn:4g64'), base, rt, 2 ** 31, 1);
    expect(refused.map((r) => r.labels)).toEqual([['gptq:4g999', 'rtn:4g999'], ['awq:3g100']]);
    expect(refused[0].reason).toBe(planRun(ckpt, { ...base, bits: 4, groupSize: 999 }, rt, 2 ** 31).fitError);
    expect(refused[0].reason).toMatch(/^with group size 999 no linear of this model can be exported quantized.*-1 \(one group per row\), 16, 32, 64$/);
    expect(refused[1].reason).toMatch(/^with group size 100 no linear/);
    expect(sweepRefusals(ckpt, parseStrategies('4g32,rtn:4g64,awq:3'), base, rt, 2 ** 31, 1)).toEqual([]);
    // The sweep itself (the CLI's --sweep) refuses with the first, before scanning or loading anything.
    const events: unknown[] = [];
    const sweep = runSweep(rt, {
      files, modelName: 'stories260K', calibration, evaluations: [evaluation], gpuMemoryBudget: 2 ** 30,
      base: { nsamples: 2, seqlen: 32 }, strategies: parseStrategies('4g32,4g999,rtn:4g999'), seeds: 1,
    }, { onProgress: (e) => events.push(e) });
    await expect(sweep).rejects.toBeInstanceOf(RunInputError);
    await expect(sweep).rejects.toThrow(`gptq:4g999, rtn:4g999: ${refused[0].reason}`);
    expect(events).toEqual([]);
  });

  it('a window of one token, which scores nothing: refused by the plan the studio previews and by the run', async () => {
    const files = await folderSources(sharedModelDir(STORIES_260K));
    const ckpt = await openCheckpoint(files);
    const settings = { ...defaultRunSettings, nsamples: 8, seqlen: 1, groupSize: 32 };
    expect(planRun(ckpt, settings, rt, 2 ** 31).fitError).toMatch(/^seqlen must be a whole number of at least 2 tokens \(a window of one token has no next token to score\), got 1$/);
    expect(planRun(ckpt, { ...settings, seqlen: 2 }, rt, 2 ** 31).fitError).toBeNull();
    await expect(run(files, { groupSize: 32, seqlen: 1 })).rejects.toThrow(/at least 2 tokens/);
  });

  it('over the GPU budget: fewer or shorter windows, and raising the budget when the caller says how', async () => {
    const ckpt = await openCheckpoint(await folderSources(sharedModelDir(STORIES_260K)));
    const settings = { ...defaultRunSettings, nsamples: 8, seqlen: 128, groupSize: 32 };
    const plain = planRun(ckpt, settings, rt, 2 ** 20).fitError!;
    expect(plain).toMatch(/more than the 1 MiB allowed\. Use fewer calibration windows \(now 8\) or shorter ones \(now 128 tokens\): the activations grow with windows × length\.$/);
    const needed = Math.ceil(planRun(ckpt, settings, rt, 2 ** 31).memoryBytes / 2 ** 20);
    expect(planRun(ckpt, settings, rt, { bytes: 2 ** 20, raise: '--gpu-memory MIB (now 1)' }).fitError)
      .toBe(`${plain} Or, if the GPU has the memory, raise the budget to at least ${needed} MiB: --gpu-memory MIB (now 1).`);
    // That budget is enough.
    expect(planRun(ckpt, settings, rt, { bytes: needed * 2 ** 20, raise: '--gpu-memory MIB' }).fitError).toBeNull();
  });

  it('the plan without a GPU (the CLI\'s, before it creates the adapter): planRun\'s plan less the GPU memory, and every refusal but the GPU\'s', async () => {
    const files = await folderSources(sharedModelDir(STORIES_260K));
    const ckpt = await openCheckpoint(files);
    const settings = { ...defaultRunSettings, nsamples: 8, seqlen: 128, groupSize: 32 };
    const host = { bytes: 2 ** 40, raise: '--host-memory MIB' };
    const { memoryBytes, budgetBytes, ...rest } = planRun(ckpt, settings, rt, 2 ** 31, undefined, host);
    expect(memoryBytes).toBeGreaterThan(0);
    expect(budgetBytes).toBe(2 ** 31);
    expect(planBeforeGpu(ckpt, settings, undefined, host)).toEqual(rest);
    // Nothing to quantize, a window of one token, host memory: refused alike; over the GPU budget: only with the GPU.
    for (const s of [{ ...settings, groupSize: 100 }, { ...settings, seqlen: 1 }]) {
      expect(planBeforeGpu(ckpt, s).fitError).toBe(planRun(ckpt, s, rt, 2 ** 31).fitError);
      expect(planBeforeGpu(ckpt, s).fitError).not.toBeNull();
    }
    const tight = { bytes: 2 ** 20, raise: '--host-memory MIB' };
    expect(planBeforeGpu(ckpt, settings, undefined, tight).fitError).toMatch(/--host-memory MIB/);
    expect(planBeforeGpu(ckpt, settings, undefined, tight).fitError).toBe(planRun(ckpt, settings, rt, 2 ** 31, undefined, tight).fitError);
    expect(planRun(ckpt, settings, rt, 2 ** 20).fitError).toMatch(/more than the 1 MiB allowed/);
    expect(planBeforeGpu(ckpt, settings).fitError).toBeNull();
    // Over both budgets, the GPU's is said first, as before the split.
    expect(planRun(ckpt, settings, rt, 2 ** 20, undefined, tight).fitError).toMatch(/more than the 1 MiB allowed/);
    // A sweep's passes, checked without a GPU: the same refusals but memory.
    const base = { ...defaultRunSettings, nsamples: 2, seqlen: 32 };
    const strategies = parseStrategies('4g32,4g999,rtn:4g999,awq:3g100');
    expect(sweepRefusals(ckpt, strategies, base, null, 1, 1)).toEqual(sweepRefusals(ckpt, strategies, base, rt, 2 ** 31, 1));
  });

  it('reads the evaluation texts\' tokens with their windows (the CLI\'s plan says how many a text has beyond --eval-windows)', async () => {
    const files = await folderSources(sharedModelDir(STORIES_260K));
    const read = await readRunInputs({ files, calibration, evaluations: [evaluation], evalWindowLimit: 2, settings: { seqlen: 16 } });
    expect(read.evalWindows[0]).toHaveLength(2);
    expect(read.evalTokens[0]).toBeGreaterThanOrEqual(3 * 16);
    const all = await readRunInputs({ files, calibration, evaluations: [evaluation], settings: { seqlen: 16 } });
    expect(all.evalTokens).toEqual(read.evalTokens);
    expect(all.evalWindows[0]).toHaveLength(Math.floor(read.evalTokens[0] / 16));
  });

  it('a calibration or evaluation text too short for one window, named as the user gave it, with its tokens and the tokens needed', async () => {
    const files = await folderSources(sharedModelDir(STORIES_260K));
    const read = (calib: RunText, evaluation: RunText) => readRunInputs({ files, calibration: calib, evaluations: [evaluation], settings: { seqlen: 32 } });
    const empty = read({ name: 'empty.txt', path: 'texts/empty.txt', text: '' }, evaluation);
    await expect(empty).rejects.toBeInstanceOf(RunInputError);
    await expect(empty).rejects.toThrow(/^the calibration text texts\/empty\.txt is empty \(0 tokens\); a window of seqlen 32 needs at least 33: use a longer text$/);
    await expect(read({ name: 'short.txt', text: 'Once upon a time there was a cat.' }, evaluation))
      .rejects.toThrow(/^the calibration text short\.txt has 10 tokens; a window of seqlen 32 needs at least 33: use a longer text or seqlen 9 or less$/);
    await expect(read(calibration, { name: 'e.txt', path: '/data/e.txt', text: 'Once upon a time there was a cat.' }))
      .rejects.toThrow(/^the evaluation text \/data\/e\.txt has 10 tokens; a window of seqlen 32 needs at least 32: use a longer text or seqlen 10 or less$/);
    expect(() => assertTextLongEnough('calibration', 'c.txt', 1, 3, 2)).toThrow(/has 1 token; a window of seqlen 2 needs at least 3: use a longer text$/);
  });
});

describe('values that do not fit the float16 export', () => {
  it('a BF16 model with an outlier beyond ±65504: the export is refused before the run, the run still compares', async () => {
    const files = await editedModel(STORIES_260K, {
      dtype: 'BF16',
      tensor: (n, v) => { if (n === 'model.layers.1.mlp.down_proj.weight') v[7 * 172 + 3] = 1.5e6; },
    });
    // Given as a path (the worker passes names, the CLI folder names; a path must not reach the report either).
    const { report, weights, ckpt } = await run(sourcesOf(files), { bits: 4, groupSize: 32 }, [], '/home/ada/models/stories260K-bf16/');
    expect(report.model.name).toBe('stories260K-bf16');
    expect(JSON.stringify(report)).not.toContain('/home/ada');
    expect(report.export.f16).toBe(false);
    expect(report.export.refusal).toMatch(/^1 tensor holds values beyond ±65504, the float16 range: model\.layers\.1\.mlp\.down_proj\.weight \(largest \|value\| 1\.50e\+6\)/);
    expect(report.size.quantizedBytes).toBeNull();
    expect(() => exportCheckpoint({ ckpt, gptq: weights.gptq, report, plan: report.export, folder: 'x' })).toThrow(/beyond ±65504/);
    // The quantized models are evaluated as computed (no F16 rounding that would turn them into Inf).
    const scales = weights.gptq.get('1.mlp.down_proj')!.scales;
    expect(Math.max(...scales)).toBeGreaterThan(65504);
    expect(Number.isFinite(report.perplexity.gptq)).toBe(true);
  });
});
