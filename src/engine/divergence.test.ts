/**
 * The divergence measured during evaluation (src/engine/divergence.ts): the original against
 * itself gives KLD 0 and agreement 1; the perplexities are exactly those perplexities() gives (the
 * divergence changes no number); the RTN model's statistics agree with the f64 forward pass's on
 * the same weights; with the F16 globals the original keeps its own head; families whose head
 * reads a projected input (OPT's project_out) or whose logits are soft-capped (Gemma 3) give KLD 0
 * against themselves too; the sweep's DivergenceReference gives the streamed run's numbers (stored
 * and F16 globals: fails when the run scores a quantized model with the original's head values).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeRuntime } from '../testing/node-gpu';
import { openSharedCheckpoint, readCorpus, STORIES_260K } from '../testing/shared-models';
import { loadTokenizer } from '../core/model/tokenizer';
import { calibrationWindows, evaluationWindows, textToIds } from '../core/model/calibration';
import { defaultRunSettings, type RunSettings } from '../core/run';
import { divergenceOfWindows, divergenceStats } from '../core/divergence';
import { forwardLogits, loadReferenceModel, setLinearWeight } from '../core/model/forward-reference';
import { loadModel, type LoadedModel } from './model/load-model';
import { quantizeModel, weightKey, type QuantizedWeights } from './quantize-model';
import type { RtnModel } from './rtn-weights';
import { perplexities, storedBlocks } from './evaluate';
import { DivergenceReference, OriginalHead, perplexitiesWithDivergence } from './divergence';
import { GpuGlobals } from './model/model-forward';
import type { GpuRuntime } from '../gpu/runtime';
import type { Checkpoint } from '../core/model/checkpoint';
import { rtnReference } from '../core/rtn';
import { PackedGptq, PackedQuant } from '../core/packed-quant';
import { openCheckpoint } from '../core/model/checkpoint';
import { randomGemma3, randomOptPostLn, sourcesOf, type ModelFiles } from '../testing/family-models';
import { seededRandom } from '../testing/random';

let rt: GpuRuntime;
let ckpt: Checkpoint;
let model: LoadedModel;
let q: QuantizedWeights;
let evalIds: number[][];
const seqlen = 32;
const settings: RunSettings = { ...defaultRunSettings, bits: 3, groupSize: 32, nsamples: 4, seqlen };

beforeAll(async () => {
  rt = await nodeRuntime();
  ckpt = await openSharedCheckpoint(STORIES_260K);
  model = await loadModel(ckpt);
  const tok = loadTokenizer(ckpt.tokenizerJson!, ckpt.tokenizerConfigJson);
  const calib = textToIds(tok, readCorpus('stories260K_generated_200_seed20251122.txt').slice(0, 20_000));
  evalIds = evaluationWindows(textToIds(tok, readCorpus('aesop_fables_body_reflowed.txt').slice(0, 3000)), seqlen).slice(0, 5);
  q = await quantizeModel(rt, model, Uint32Array.from(calibrationWindows(calib, 4, seqlen, 0).flat()), settings);
});
afterAll(() => rt?.destroy());

/**
 * The model with every linear's weights moved onto an 8-bit grid (RTN per row), and those codes as
 * its "RTN" and "GPTQ" results: the quantized models the run makes from the codes are the original.
 */
async function onGrid(m: LoadedModel): Promise<{ model: LoadedModel; same: QuantizedWeights }> {
  const codes = new Map<string, PackedQuant>();
  // Those codes kept as they are (a run's RTN model makes its codes again from the weights).
  const rtn: RtnModel = {
    has: (key) => codes.has(key),
    linear: async (_rt, b, name) => codes.get(weightKey(b, name)),
    block: async (_rt, b, host) => new Map([...host.linears.keys()].map((n) => [n, codes.get(weightKey(b, n))!])),
  };
  const same: QuantizedWeights = {
    layers: [], rtn, gptq: new Map(), hessianDiag: new Map(), awq: new Map(), seconds: 0,
    stages: { embedding: 0, capture: 0, gptq: 0, rtn: 0, outputMse: 0, forward: 0 },
  };
  for (let b = 0; b < m.spec.layers; b++) {
    for (const [name, l] of (await m.block(b)).linears) {
      const r = rtnReference(l.W, l.out, l.in, { bits: 8 });
      codes.set(weightKey(b, name), PackedQuant.of(r, 8));
      same.gptq.set(weightKey(b, name), PackedGptq.of({ ...r, perm: null, loss: 0, percDampUsed: 0, damp: 0, fellBackToRtn: false, deadColumns: [] }, 8));
    }
  }
  return { model: { ...m, block: storedBlocks(m.block, (b, n) => codes.get(weightKey(b, n))?.Q, false) }, same };
}

describe('divergence during evaluation', () => {
  for (const [name, files] of [['gemma3_text (final softcap 5)', randomGemma3], ['post-LN opt (project_out to 32 < hidden 64)', randomOptPostLn]] as [string, () => ModelFiles][]) {
    it(`${name}: the original against itself gives KLD 0 and agreement 1`, async () => {
      const { model: m, same } = await onGrid(await loadModel(await openCheckpoint(sourcesOf(files()))));
      const rand = seededRandom(7);
      const windows = Uint32Array.from({ length: 3 * 16 }, () => Math.floor(rand() * m.spec.vocab));
      const r = await perplexitiesWithDivergence(rt, m, same, windows, 16, 2);
      expect(r.perplexity.gptq).toBe(r.perplexity.original);
      for (const v of ['rtn', 'gptq'] as const) expect(r.divergence[v]).toEqual({ kld_mean: 0, kld_p99: 0, kld_max: 0, top1_agree: 1, dp_rms: 0 });
    }, 120_000);
  }

  it('the original against itself: KLD 0, agreement 1, Δp 0, the same perplexity', async () => {
    // The original on an 8-bit grid, its codes as "RTN" and "GPTQ".
    const { model: m, same } = await onGrid(model);
    // Passes of 2 windows: the last pass is short.
    const r = await perplexitiesWithDivergence(rt, m, same, Uint32Array.from(evalIds.flat()), seqlen, 2);
    expect(r.perplexity.rtn).toBe(r.perplexity.original);
    expect(r.perplexity.gptq).toBe(r.perplexity.original);
    for (const v of ['rtn', 'gptq'] as const) expect(r.divergence[v]).toEqual({ kld_mean: 0, kld_p99: 0, kld_max: 0, top1_agree: 1, dp_rms: 0 });
  });

  it('changes no perplexity, and agrees with the f64 forward pass on the RTN model', async () => {
    const windows = Uint32Array.from(evalIds.flat());
    const plain = await perplexities(rt, model, q, windows, seqlen, 2);
    const passes: string[] = [];
    const r = await perplexitiesWithDivergence(rt, model, q, windows, seqlen, 2, { onPass: (v, done, all) => passes.push(`${v} ${done}/${all}`) });
    expect(r.perplexity).toEqual(plain);
    // The three models advance pass by pass side by side (streamed).
    expect(passes).toEqual(['2/5', '4/5', '5/5'].flatMap((d) => ['original', 'rtn', 'gptq'].map((v) => `${v} ${d}`)));

    const ref = await loadReferenceModel(ckpt);
    const original = evalIds.map((w) => forwardLogits(ref, w));
    for (let b = 0; b < model.spec.layers; b++) {
      const host = await model.block(b);
      for (const l of ckpt.layout.block.linears) {
        // stories260K's MLP is not padded in this run (quantizeModel on the model as loaded).
        setLinearWeight(ref, b, l.name, (await q.rtn.linear(rt, b, l.name, host.linears.get(l.name)!))!.Q);
      }
    }
    const quantized = evalIds.map((w) => forwardLogits(ref, w));
    const cat = (a: Float64Array[]) => {
      const out = new Float64Array(a.reduce((s, x) => s + x.length, 0));
      a.reduce((at, x) => (out.set(x, at), at + x.length), 0);
      return out;
    };
    const want = divergenceStats(divergenceOfWindows(cat(original), cat(quantized), evalIds.flat(), seqlen, ckpt.config.vocabSize));
    const got = r.divergence.rtn;
    console.log(`stories260K RTN 3-bit g32 on ${evalIds.length} windows: f64 forward ${JSON.stringify(want)}; GPU ${JSON.stringify(got)}`);
    // The GPU forward's logits are the f64 forward's to about 1e-4.
    expect(Math.abs(got.kld_mean - want.kld_mean)).toBeLessThan(1e-3 * want.kld_mean + 1e-5);
    expect(Math.abs(got.kld_max - want.kld_max)).toBeLessThan(1e-3 * want.kld_max + 1e-5);
    expect(Math.abs(got.dp_rms - want.dp_rms)).toBeLessThan(1e-3 * want.dp_rms + 1e-5);
    expect(Math.abs(got.top1_agree - want.top1_agree)).toBeLessThanOrEqual(1 / (evalIds.length * (seqlen - 1))); // at most one near tie
    expect(r.divergence.gptq.kld_mean).toBeGreaterThan(0);
  });

  it('with the F16 globals, the original is scored with its own head (KLD > 0 only from F16 values)', async () => {
    const { model: m, same } = await onGrid(model);
    const r = await perplexitiesWithDivergence(rt, m, same, Uint32Array.from(evalIds.slice(0, 2).flat()), seqlen, 2, { half: true });
    // Every value rounded to F16 moves the distributions only a little.
    expect(r.divergence.rtn.kld_mean).toBeGreaterThan(0);
    expect(r.divergence.rtn.kld_mean).toBeLessThan(1e-4);
    expect(r.divergence.rtn.top1_agree).toBeGreaterThan(0.95);
    expect(r.divergence.rtn).toEqual(r.divergence.gptq);
  });

  it('references of several texts given one OriginalHead score against one copy of the head, released by its maker', async () => {
    const stored = await GpuGlobals.load(rt, model.spec, model.globals);
    const half = await GpuGlobals.load(rt, model.spec, model.globals, { half: true });
    const head = new OriginalHead(rt, model);
    try {
      const texts = [evalIds.slice(0, 2), evalIds.slice(2, 4)].map((w) => Uint32Array.from(w.flat()));
      const refs = await Promise.all(texts.map((w) => DivergenceReference.measure(rt, model, stored, model.block, w, seqlen, 2, {}, head)));
      const blocks = storedBlocks(model.block, (b, n) => q.gptq.get(weightKey(b, n))?.Q, true);
      const copy = await head.beside(half);
      expect(copy).not.toBe(half.head);
      expect(await head.beside(stored)).toBe(stored.head);
      for (const r of refs) expect((await r.score(half, blocks)).divergence.kld_mean).toBeGreaterThan(0);
      expect(await head.beside(half)).toBe(copy);
      for (const r of refs) r.release();
      // Still the same copy: the references did not release what they were given.
      expect(await head.beside(half)).toBe(copy);
    } finally {
      head.release();
      stored.release();
      half.release();
    }
  });

  for (const half of [false, true]) {
    it(`the sweep's DivergenceReference gives the streamed run's numbers${half ? ' (F16 globals)' : ''}`, async () => {
      const windows = Uint32Array.from(evalIds.slice(0, 3).flat());
      const run = await perplexitiesWithDivergence(rt, model, q, windows, seqlen, 2, { half });
      const stored = await GpuGlobals.load(rt, model.spec, model.globals);
      const globals = half ? await GpuGlobals.load(rt, model.spec, model.globals, { half: true }) : stored;
      const ref = await DivergenceReference.measure(rt, model, stored, model.block, windows, seqlen, 2);
      try {
        expect(ref.perplexity).toBeCloseTo(run.perplexity.original, 4);
        for (const v of ['rtn', 'gptq'] as const) {
          const s = await ref.score(globals, storedBlocks(model.block, async (b, n, l) =>
            (v === 'rtn' ? await q.rtn.linear(rt, b, n, l) : q.gptq.get(weightKey(b, n)))?.Q, half));
          expect(s.perplexity).toBeCloseTo(run.perplexity[v], 4);
          const got = run.divergence[v];
          for (const k of ['kld_mean', 'kld_p99', 'kld_max', 'dp_rms'] as const) expect(Math.abs(got[k] - s.divergence[k])).toBeLessThan(1e-4 * s.divergence[k] + 1e-7);
          expect(got.top1_agree).toBe(s.divergence.top1_agree);
        }
      } finally {
        ref.release();
        stored.release();
        if (half) globals.release();
      }
    });
  }
});
