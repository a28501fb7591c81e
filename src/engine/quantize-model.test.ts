/**
 * Whole-model GPTQ on the test models of ../shared/models: GPTQ must leave less output error
 * than RTN on the same grid, summed over the linears, and a lower perplexity on held-out text.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { nodeRuntime } from '../testing/node-gpu';
import { openSharedCheckpoint, readCorpus, sharedModelDir, STORIES_260K } from '../testing/shared-models';
import { loadTokenizer } from '../core/model/tokenizer';
import { calibrationWindows, evaluationWindows, textToIds } from '../core/model/calibration';
import { loadModel } from './model/load-model';
import { quantizeModel } from './quantize-model';
import { perplexities } from './evaluate';
import { defaultRunSettings, RunCancelledError, type ProgressEvent, type RunSettings } from '../core/run';
import { assertRunFits, estimateRunMemory, F32_GLOBALS, globalsHeldOf } from './memory-estimate';
import { runModel } from './run-model';
import { folderSources } from '../testing/node-source';
import { randomWideVocab, sourcesOf } from '../testing/family-models';
import type { GpuRuntime } from '../gpu/runtime';

/** Opened and tokenized once per model for the whole file. */
const setups = new Map<string, ReturnType<typeof openAndTokenize>>();
function setup(model: string, corpus: string) {
  if (!setups.has(model)) setups.set(model, openAndTokenize(model, corpus));
  return setups.get(model)!;
}

async function openAndTokenize(model: string, corpus: string) {
  const ckpt = await openSharedCheckpoint(model);
  const tok = loadTokenizer(ckpt.tokenizerJson!, ckpt.tokenizerConfigJson);
  const ids = textToIds(tok, readCorpus(corpus));
  const half = Math.floor(ids.length / 2);
  return { ckpt, model: await loadModel(ckpt), calib: ids.slice(0, half), evalIds: ids.slice(half) };
}

/** Evaluation windows are capped to keep the suite quick on software GPUs. */
async function run(rt: GpuRuntime, s: Awaited<ReturnType<typeof openAndTokenize>>, settings: RunSettings, evalWindowCap: number) {
  const windows = Uint32Array.from(calibrationWindows(s.calib, settings.nsamples, settings.seqlen, settings.seed).flat());
  const events: ProgressEvent[] = [];
  const q = await quantizeModel(rt, s.model, windows, settings, { onProgress: (e) => events.push(e) });
  const evalWindows = Uint32Array.from(evaluationWindows(s.evalIds, settings.seqlen).slice(0, evalWindowCap).flat());
  const result = {
    layers: q.layers,
    events,
    msesGptq: q.layers.reduce((a, l) => a + l.gptq.mse, 0),
    msesRtn: q.layers.reduce((a, l) => a + l.rtn.mse, 0),
    ...(await perplexities(rt, s.model, q, evalWindows, settings.seqlen, evalWindowCap)),
  };
  console.log(
    `${JSON.stringify({ bits: settings.bits, g: settings.groupSize, sym: settings.sym })}: ` +
      `ppl original ${result.original.toFixed(3)} rtn ${result.rtn.toFixed(3)} gptq ${result.gptq.toFixed(3)}; ` +
      `Σ MSE gptq/rtn ${(result.msesGptq / result.msesRtn).toFixed(3)}`,
  );
  return result;
}

let rt: GpuRuntime;
beforeAll(async () => {
  rt = await nodeRuntime();
});
afterAll(() => rt?.destroy());

describe('whole-model GPTQ', () => {
  // Each case is its own test (its own time limit); calibration and evaluation are as small as
  // keeps GPTQ's advantage clear, so that the suite holds on a busy 2-core machine.
  it.each([
    { bits: 4, groupSize: 32, sym: true },
    { bits: 3, groupSize: 32, sym: false },
  ])('stories260K at $bits bits, group 32, sym $sym: GPTQ beats RTN on output error and perplexity', async (o) => {
    const s = await setup('stories260K', 'stories260K_generated_200_seed20251122.txt');
    const r = await run(rt, s, { ...defaultRunSettings, ...o, nsamples: 16, seqlen: 128 }, 8);
    expect(r.layers).toHaveLength(5 * 7);
    expect(r.layers.every((l) => !l.gptq.fellBackToRtn && Number.isFinite(l.gptq.loss))).toBe(true);
    expect(r.msesGptq).toBeLessThan(0.9 * r.msesRtn);
    expect(r.gptq).toBeLessThan(r.rtn);
    expect(r.original).toBeLessThan(r.gptq);
    // Progress: one event per linear, counted up to the total, with a time estimate.
    const linearEvents = r.events.filter((e) => e.type === 'linear');
    expect(linearEvents.map((e) => e.done)).toEqual(Array.from({ length: 35 }, (_, i) => i + 1));
    expect(linearEvents.at(-1)!.etaSeconds).toBeCloseTo(0, 6);
  });

  it('makemore-names-gpt2 at 3 bits, group 32, asymmetric: GPTQ beats RTN', async () => {
    const s = await setup('makemore-names-gpt2', 'names_eot.txt');
    const r = await run(rt, s, { ...defaultRunSettings, bits: 3, groupSize: 32, sym: false, nsamples: 64, seqlen: 16 }, 128);
    expect(r.layers.map((l) => l.name)).toEqual(Array.from({ length: 4 }, () => ['attn.c_attn', 'attn.c_proj', 'mlp.c_fc', 'mlp.c_proj']).flat());
    expect(r.msesGptq).toBeLessThan(0.9 * r.msesRtn);
    expect(r.gptq).toBeLessThan(r.rtn);
  });
});

describe('memory and cancellation', () => {
  // Whole runs (quantization, then the evaluation with the divergence) as the CLI and the studio
  // make them, small: the estimate bounds what the buffer pool allocated at the run's peak (the
  // report's peak_gpu_bytes), and stays close to it.
  it.each([
    // Two texts of 6 windows each, 4 a pass: the second's passes come after the first's shorter last one.
    { name: 'stories260K (F32, vocabulary 512)', files: async () => folderSources(sharedModelDir(STORIES_260K)), texts: 2, windows: 6 },
    // One pass: the LM head's logits of 4 × 64 tokens (48 MiB) made in chunks dominate the run.
    { name: 'a random BF16 llama with a 49152-token vocabulary', files: async () => sourcesOf(randomWideVocab()), texts: 1, windows: 4 },
  ])('estimates the peak GPU bytes of a whole run of $name from above, within 1.3×', async ({ files, texts, windows }) => {
    const base = rt.pool.stats.bytesInUse;
    const aesop = readCorpus('aesop_fables_body_reflowed.txt');
    const out = await runModel(rt, {
      files: await files(),
      modelName: 'model',
      calibration: { name: 'calib', text: readCorpus('stories260K_generated_200_seed20251122.txt').slice(0, 20_000) },
      evaluations: Array.from({ length: texts }, (_, i) => ({ name: `aesop-${i}`, text: aesop.slice(4000 * i, 4000 * i + 3000) })),
      evalWindowLimit: windows,
      settings: { bits: 4, groupSize: 32, nsamples: 4, seqlen: 64 },
      gpuMemoryBudget: 2 ** 30,
    });
    const peak = out.report.resources!.peak_gpu_bytes - base;
    const estimate = estimateRunMemory(out.model.spec, out.report.settings, rt.bindingLimit, globalsHeldOf(out.ckpt, out.report.export.f16));
    console.log(`peak ${peak} bytes, estimate ${estimate.totalBytes} (${JSON.stringify(estimate.phases)})`);
    expect(out.report.evaluations.map((e) => e.windows)).toEqual(Array(texts).fill(windows));
    expect(estimate.totalBytes).toBeGreaterThanOrEqual(peak);
    expect(estimate.totalBytes).toBeLessThanOrEqual(1.3 * peak);
  });

  it('refuses a run over the budget or with a buffer over maxBufferSize, saying what to change', async () => {
    const s = await setup('stories260K', 'stories260K_generated_200_seed20251122.txt');
    const settings: RunSettings = { ...defaultRunSettings, bits: 4, groupSize: 32, nsamples: 8, seqlen: 128 };
    const estimate = estimateRunMemory(s.model.spec, settings, rt.bindingLimit, F32_GLOBALS);
    expect(assertRunFits(s.model.spec, settings, rt.summary, estimate.totalBytes, rt.bindingLimit, F32_GLOBALS).totalBytes).toBe(estimate.totalBytes);
    expect(() => assertRunFits(s.model.spec, settings, rt.summary, estimate.totalBytes - 1, rt.bindingLimit, F32_GLOBALS)).toThrow(
      /needs about \d+ MiB of GPU memory \(while evaluating: .*fewer calibration windows \(now 8\) or shorter ones \(now 128 tokens\)/,
    );
    const tinyAdapter = { ...rt.summary, limits: { ...rt.summary.limits, maxBufferSize: 1024 } };
    expect(() => assertRunFits(s.model.spec, settings, tinyAdapter, Infinity, rt.bindingLimit, F32_GLOBALS)).toThrow(/maxBufferSize/);
  });

  it('stops when cancelled, frees what it held, and runs again afterwards', async () => {
    const s = await setup('stories260K', 'stories260K_generated_200_seed20251122.txt');
    const settings: RunSettings = { ...defaultRunSettings, bits: 4, groupSize: 32, nsamples: 4, seqlen: 64 };
    const windows = Uint32Array.from(calibrationWindows(s.calib, settings.nsamples, settings.seqlen, 0).flat());
    const inUse = rt.pool.stats.bytesInUse;
    const abort = new AbortController();
    let linears = 0;
    const run = quantizeModel(rt, s.model, windows, settings, {
      signal: abort.signal,
      onProgress: (e) => {
        if (e.type === 'linear' && ++linears === 3) abort.abort();
      },
    });
    await expect(run).rejects.toBeInstanceOf(RunCancelledError);
    expect(linears).toBe(3);
    expect(rt.pool.stats.bytesInUse).toBe(inUse);
    const again = await quantizeModel(rt, s.model, windows, settings);
    expect(again.layers).toHaveLength(35);
  });
});
