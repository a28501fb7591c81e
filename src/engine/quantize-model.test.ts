/**
 * Whole-model GPTQ on the test models of ../shared/models: GPTQ must leave less output error
 * than RTN on the same grid, summed over the linears, and a lower perplexity on held-out text.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { nodeRuntime } from '../testing/node-gpu';
import { openSharedCheckpoint, readCorpus } from '../testing/shared-models';
import { loadTokenizer } from '../core/model/tokenizer';
import { calibrationWindows, evaluationWindows, textToIds } from '../core/model/calibration';
import { loadModel } from './model/load-model';
import { quantizeModel } from './quantize-model';
import { perplexities } from './evaluate';
import { defaultRunSettings, RunCancelledError, type ProgressEvent, type RunSettings } from '../core/run';
import { assertRunFits, estimateRunMemory } from './memory-estimate';
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
  it('estimates the peak GPU bytes of a run from above, and refuses a run over budget', async () => {
    const s = await setup('stories260K', 'stories260K_generated_200_seed20251122.txt');
    const settings: RunSettings = { ...defaultRunSettings, bits: 4, groupSize: 32, nsamples: 8, seqlen: 128 };
    const windows = Uint32Array.from(calibrationWindows(s.calib, settings.nsamples, settings.seqlen, 0).flat());
    rt.pool.trim();
    rt.pool.resetPeaks();
    const base = rt.pool.stats.bytesAllocated;
    await quantizeModel(rt, s.model, windows, settings);
    const peak = rt.pool.stats.peakBytesAllocated - base;
    const estimate = estimateRunMemory(s.model.spec, windows.length, rt.bindingLimit);
    console.log(`peak ${peak} bytes, estimate ${estimate.totalBytes}`);
    expect(estimate.totalBytes).toBeGreaterThanOrEqual(peak);
    expect(estimate.totalBytes).toBeLessThan(4 * peak);
    expect(() => assertRunFits(s.model.spec, 8, 128, rt.summary, peak / 2, rt.bindingLimit)).toThrow(
      /needs about \d+ MiB of GPU memory.*fewer calibration windows \(now 8\) or shorter ones \(now 128 tokens\)/,
    );
    const tinyAdapter = { ...rt.summary, limits: { ...rt.summary.limits, maxBufferSize: 1024 } };
    expect(() => assertRunFits(s.model.spec, 8, 128, tinyAdapter, Infinity, rt.bindingLimit)).toThrow(/maxBufferSize/);
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
