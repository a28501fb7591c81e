/**
 * The f64 sequential driver: order of the layers, the Hessian's normalisation, true-sequential
 * inputs inside a block, quantized blocks feeding the next block, and the caller's model left as is.
 * Each check rebuilds the expected Hessian by an independent route (window by window running
 * mean, forward passes of explicitly modified models) and compares GPTQ's result on it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { embed, forwardBlock, loadReferenceModel, setLinearWeight, type ReferenceModel } from './forward-reference';
import { calibrationWindows, textToIds } from './calibration';
import { loadTokenizer } from './tokenizer';
import { sequentialReference, type SequentialReferenceLayer } from './sequential-reference';
import { gptqReference } from '../gptq-reference';
import { HessianAccumulator } from '../hessian';
import { hessianLoss } from '../metrics';
import { rtnReference } from '../rtn';
import { defaultRunSettings, type RunSettings } from '../run';
import { MAKEMORE_NAMES, readCorpus, STORIES_260K, openSharedCheckpoint } from '../../testing/shared-models';

async function setup(name: string, corpus: string, nsamples: number, seqlen: number) {
  const ckpt = await openSharedCheckpoint(name);
  const tok = loadTokenizer(ckpt.tokenizerJson!, ckpt.tokenizerConfigJson);
  const ids = textToIds(tok, readCorpus(corpus));
  return { model: await loadReferenceModel(ckpt), windows: calibrationWindows(ids, nsamples, seqlen, 0) };
}

/** A copy of the model's weight map, so a test can modify weights freely. */
const clone = (m: ReferenceModel): ReferenceModel => ({ ...m, weights: new Map(m.weights) });

/**
 * Hessian of `linear`'s inputs in block b over all windows, as one batch of N sequences (the
 * driver's and the GPU engine's normalisation), captured by running the block on `model`.
 * The batching must match bit for bit: GPTQ meets exact rounding ties (a symmetric group's most
 * negative weight sits at code −½ when its column opens a group), so a last-ulp change in H can
 * flip a code and move the loss by 1e-3 (seen on down_proj with window-by-window running means).
 */
function hessianOf(model: ReferenceModel, inputs: Float64Array[], b: number, linear: string, T: number): Float64Array {
  const parts: Float64Array[] = [];
  for (const x of inputs) {
    forwardBlock(model, b, x, T, {
      onLinearInput(name, X) {
        if (name === linear) parts.push(Float64Array.from(X));
      },
    });
  }
  const cols = parts[0].length / T;
  const all = new Float64Array(parts.length * T * cols);
  parts.forEach((p, s) => all.set(p, s * T * cols));
  const H = new HessianAccumulator(cols);
  H.addBatch(all, parts.length * T, parts.length);
  return H.H;
}

const W0 = (m: ReferenceModel, b: number, name: string) => m.weights.get(`${m.layout.blockPrefix(b)}${name}.weight`)!;
const find = (layers: SequentialReferenceLayer[], b: number, name: string) => layers.find((l) => l.block === b && l.name === name)!;
const relDiff = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe('sequentialReference on stories260K (llama)', () => {
  const nsamples = 4;
  const seqlen = 32;
  const settings: RunSettings = { ...defaultRunSettings, bits: 4, groupSize: 32, nsamples, seqlen };
  let model: ReferenceModel;
  let windows: number[][];
  let run: ReturnType<typeof sequentialReference>;
  let before: Map<string, Float32Array>;

  beforeAll(async () => {
    ({ model, windows } = await setup(STORIES_260K, 'stories260K_generated_200_seed20251122.txt', nsamples, seqlen));
    before = new Map(model.weights);
    run = sequentialReference(model, windows, settings);
  });

  it('quantizes every linear once, block by block, in the true-sequential order', () => {
    const order = model.layout.block.sequentialGroups.flat();
    expect(run.layers.map((l) => `${l.block}.${l.name}`)).toEqual(
      Array.from({ length: 5 }, (_, b) => order.map((n) => `${b}.${n}`)).flat(),
    );
    for (const l of run.layers) {
      expect(l.fellBackToRtn).toBe(false);
      expect(Number.isFinite(l.loss) && l.loss > 0).toBe(true);
      expect(l.percDampUsed).toBe(0.01);
      expect(l.Q.length).toBe(l.rows * l.cols);
      // The returned model holds Q; the caller's model still holds the original weights.
      expect(W0(run.model, l.block, l.name)).toBe(l.Q);
      expect(W0(model, l.block, l.name)).toBe(before.get(`${model.layout.blockPrefix(l.block)}${l.name}.weight`));
    }
    expect(model.weights.size).toBe(before.size);
  });

  it("block 0's first group: H = 2/N·Σ x xᵀ over all windows (N windows, not tokens)", () => {
    const T = seqlen;
    const X = windows.map((w) => embed(model, w));
    for (const name of ['self_attn.k_proj', 'self_attn.v_proj', 'self_attn.q_proj']) {
      const l = find(run.layers, 0, name);
      const H = hessianOf(model, X, 0, name, T);
      const ref = gptqReference(W0(model, 0, name), H, l.rows, l.cols, settings);
      expect(relDiff(l.loss, ref.loss)).toBeLessThan(1e-12);
      expect(Array.from(l.codes)).toEqual(Array.from(ref.codes));
      // The same H as window-by-window running means (to rounding), and as 2/N·Σ x xᵀ directly.
      const running = new HessianAccumulator(l.cols);
      let direct00 = 0;
      for (const x of X) {
        forwardBlock(model, 0, x, T, {
          onLinearInput(n, I) {
            if (n !== name) return;
            running.addBatch(I, T, 1);
            for (let t = 0; t < T; t++) direct00 += I[t * l.cols] ** 2;
          },
        });
      }
      const R = running.H;
      let maxRel = 0;
      for (let i = 0; i < H.length; i++) maxRel = Math.max(maxRel, Math.abs(R[i] - H[i]) / Math.max(Math.abs(H[i]), 1e-300));
      expect(maxRel).toBeLessThan(1e-10);
      expect(relDiff(H[0], (2 / nsamples) * direct00)).toBeLessThan(1e-12);
    }
  });

  it("o_proj sees q, k, v already quantized; down_proj sees gate and up quantized", () => {
    const T = seqlen;
    const X = windows.map((w) => embed(model, w));
    const m = clone(model);
    for (const n of ['self_attn.k_proj', 'self_attn.v_proj', 'self_attn.q_proj']) setLinearWeight(m, 0, n, find(run.layers, 0, n).Q);
    const o = find(run.layers, 0, 'self_attn.o_proj');
    const refO = gptqReference(W0(model, 0, 'self_attn.o_proj'), hessianOf(m, X, 0, 'self_attn.o_proj', T), o.rows, o.cols, settings);
    expect(relDiff(o.loss, refO.loss)).toBeLessThan(1e-12);
    // On the original block's inputs the loss is a different number: the order matters.
    const onOriginal = gptqReference(W0(model, 0, 'self_attn.o_proj'), hessianOf(model, X, 0, 'self_attn.o_proj', T), o.rows, o.cols, settings);
    expect(relDiff(o.loss, onOriginal.loss)).toBeGreaterThan(1e-6);

    for (const n of ['self_attn.o_proj', 'mlp.up_proj', 'mlp.gate_proj']) setLinearWeight(m, 0, n, find(run.layers, 0, n).Q);
    const d = find(run.layers, 0, 'mlp.down_proj');
    const refD = gptqReference(W0(model, 0, 'mlp.down_proj'), hessianOf(m, X, 0, 'mlp.down_proj', T), d.rows, d.cols, settings);
    expect(relDiff(d.loss, refD.loss)).toBeLessThan(1e-12);
  });

  it("block 1's inputs come from the fully quantized block 0", () => {
    const T = seqlen;
    const X1 = windows.map((w) => forwardBlock(run.model, 0, embed(model, w), T));
    const l = find(run.layers, 1, 'self_attn.q_proj');
    // q_proj's input is norm(X): block 1's own (quantized) weights do not touch it.
    const ref = gptqReference(W0(model, 1, 'self_attn.q_proj'), hessianOf(run.model, X1, 1, 'self_attn.q_proj', T), l.rows, l.cols, settings);
    expect(relDiff(l.loss, ref.loss)).toBeLessThan(1e-12);
  });

  it("GPTQ's loss is below RTN's on the same H for every linear of block 0", () => {
    const X = windows.map((w) => embed(model, w));
    const m = clone(model);
    for (const group of model.layout.block.sequentialGroups) {
      for (const n of group) {
        const l = find(run.layers, 0, n);
        const H = hessianOf(m, X, 0, n, seqlen);
        const rtn = rtnReference(W0(model, 0, n), l.rows, l.cols, settings);
        expect(l.loss).toBeLessThan(hessianLoss(W0(model, 0, n), rtn.Q, H, l.rows, l.cols));
      }
      for (const n of group) setLinearWeight(m, 0, n, find(run.layers, 0, n).Q);
    }
  });

  it('without true-sequential, every linear of block 0 sees the original block', () => {
    const flat = sequentialReference(model, windows, { ...settings, trueSequential: false });
    expect(flat.layers.map((l) => l.name).slice(0, 7)).toEqual(model.layout.block.linears.map((l) => l.name));
    const X = windows.map((w) => embed(model, w));
    for (const name of ['self_attn.o_proj', 'mlp.down_proj']) {
      const l = find(flat.layers, 0, name);
      const ref = gptqReference(W0(model, 0, name), hessianOf(model, X, 0, name, seqlen), l.rows, l.cols, settings);
      expect(relDiff(l.loss, ref.loss)).toBeLessThan(1e-12);
    }
  });

  it('refuses windows that do not match the settings', () => {
    expect(() => sequentialReference(model, windows.slice(1), settings)).toThrow(/expected 4 windows/);
    expect(() => sequentialReference(model, windows.map((w) => w.slice(1)), settings)).toThrow(/seqlen 32/);
  });
});

describe('sequentialReference on makemore-names-gpt2 (gpt2)', () => {
  it('quantizes c_attn → attn.c_proj → c_fc → mlp.c_proj per block, c_proj on quantized c_attn', async () => {
    const nsamples = 8;
    const seqlen = 16;
    const settings: RunSettings = { ...defaultRunSettings, bits: 3, groupSize: 32, sym: false, actOrder: true, nsamples, seqlen };
    const { model, windows } = await setup(MAKEMORE_NAMES, 'names_eot.txt', nsamples, seqlen);
    const run = sequentialReference(model, windows, settings);
    expect(run.layers.map((l) => l.name)).toEqual(Array.from({ length: 4 }, () => ['attn.c_attn', 'attn.c_proj', 'mlp.c_fc', 'mlp.c_proj']).flat());
    expect(run.layers.map((l) => [l.rows, l.cols]).slice(0, 4)).toEqual([[192, 64], [64, 64], [256, 64], [64, 256]]);
    const X = windows.map((w) => embed(model, w));
    const m = clone(model);
    setLinearWeight(m, 0, 'attn.c_attn', find(run.layers, 0, 'attn.c_attn').Q);
    const l = find(run.layers, 0, 'attn.c_proj');
    const ref = gptqReference(W0(model, 0, 'attn.c_proj'), hessianOf(m, X, 0, 'attn.c_proj', seqlen), l.rows, l.cols, settings);
    expect(relDiff(l.loss, ref.loss)).toBeLessThan(1e-12);
    expect(l.result.perm).not.toBeNull();
  });
});
