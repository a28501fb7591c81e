/**
 * The divergence kernel against the f64 reference (src/core/divergence.ts, llama.cpp's
 * definitions): on edge-case rows (ties, a vocabulary that is no multiple of the workgroup, equal
 * rows, a uniform shift, far-apart rows, no target), and on the logits of stories260K computed by
 * the f64 forward pass for the original model and an RTN-quantized one. Identical models give
 * KLD exactly 0, agreement 1 and Δp 0.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeRuntime } from '../../testing/node-gpu';
import { seededRandom } from '../../testing/random';
import { openSharedCheckpoint, readCorpus, STORIES_260K } from '../../testing/shared-models';
import type { GpuRuntime } from '../runtime';
import { DIVERGENCE_FIELDS, encodeDivergence } from './divergence';
import { NO_TARGET } from './forward';
import { DivergenceAccumulator, divergenceOfWindows, divergenceStats, percentile, tokenDivergence, type TokenDivergence } from '../../core/divergence';
import { forwardLogits, loadReferenceModel, setLinearWeight } from '../../core/model/forward-reference';
import { rtnReference } from '../../core/rtn';
import { loadTokenizer } from '../../core/model/tokenizer';
import { textToIds } from '../../core/model/calibration';

let rt: GpuRuntime;
beforeAll(async () => {
  rt = await nodeRuntime();
});
afterAll(() => rt?.destroy());

/** Runs the kernel on two [rows, vocab] logits arrays; returns the 4 values of each row. */
async function gpuDivergence(z: Float32Array, y: Float32Array, targets: Uint32Array, vocab: number, outBase = 0): Promise<Float32Array> {
  const rows = targets.length;
  const Z = rt.matrix(rows, vocab, 'test.z');
  const Y = rt.matrix(rows, vocab, 'test.y');
  rt.uploadMatrix(Z, z);
  rt.uploadMatrix(Y, y);
  const t = rt.storage((outBase + rows) * 4, 'test.targets');
  rt.upload(t, outBase * 4, targets);
  const out = rt.storage((outBase + rows) * DIVERGENCE_FIELDS * 4, 'test.out');
  const rec = rt.recorder('test.divergence');
  encodeDivergence(rec, Z, Y, t, out, outBase);
  rec.finish();
  const values = await rt.readF32(out, outBase * DIVERGENCE_FIELDS * 4, rows * DIVERGENCE_FIELDS);
  rt.release(Z, Y, t, out);
  return values;
}

const row = (a: Float32Array | Float64Array, r: number, vocab: number) => Array.from(a.subarray(r * vocab, (r + 1) * vocab));

function expectClose(gpu: Float32Array, r: number, ref: TokenDivergence, tol: { kld: number; p: number }, what: string) {
  const [kld, agree, pO, pQ] = gpu.subarray(r * 4, r * 4 + 4);
  expect(Math.abs(kld - ref.kld), `${what}: KLD ${kld} vs ${ref.kld}`).toBeLessThanOrEqual(tol.kld + 1e-4 * Math.abs(ref.kld));
  expect(agree, `${what}: top-1 agreement`).toBe(ref.agree ? 1 : 0);
  expect(Math.abs(pO - ref.pOriginal), `${what}: P(target)`).toBeLessThanOrEqual(tol.p);
  expect(Math.abs(pQ - ref.pQuantized), `${what}: Q(target)`).toBeLessThanOrEqual(tol.p);
}

describe('divergence kernel on edge-case rows', () => {
  const V = 70; // no multiple of the 64-wide workgroup
  const rand = seededRandom(11);
  const base = Float32Array.from({ length: V }, () => 4 * (rand() * 2 - 1));
  const cases: { name: string; z: number[]; y: number[]; target: number }[] = [
    { name: 'equal rows', z: [...base], y: [...base], target: 3 },
    { name: 'small perturbation', z: [...base], y: Array.from(base, (x) => Math.fround(x + 0.01 * Math.sin(x * 7))), target: 69 },
    { name: 'large perturbation', z: [...base], y: Array.from(base, (x, i) => Math.fround(x + (i % 5 === 0 ? 3 : -1.5))), target: 0 },
    { name: 'uniform shift (same distribution)', z: [...base], y: Array.from(base, (x) => Math.fround(x + 5)), target: 10 },
    { name: 'far apart', z: [...base], y: Array.from(base, (x) => Math.fround(-3 * x)), target: 20 },
    // Two equal maxima: both sides take the first index.
    { name: 'tied maxima', z: base.map((x, i) => (i === 5 || i === 40 ? 9 : x)) as unknown as number[], y: base.map((x, i) => (i === 5 || i === 40 ? 9 : x)) as unknown as number[], target: 40 },
    { name: 'tie broken differently', z: base.map((x, i) => (i === 5 || i === 40 ? 9 : x)) as unknown as number[], y: base.map((x, i) => (i === 5 ? 9 : i === 40 ? 9.5 : x)) as unknown as number[], target: 5 },
  ];

  it('gives the f64 values of every case, KLD exactly 0 for equal rows, probabilities 0 without a target', async () => {
    const rows = cases.length + 1;
    const z = new Float32Array(rows * V);
    const y = new Float32Array(rows * V);
    cases.forEach((c, r) => {
      z.set(c.z, r * V);
      y.set(c.y, r * V);
    });
    z.set(base, cases.length * V);
    y.set(base.map((x) => x * 1.1), cases.length * V);
    const targets = Uint32Array.from([...cases.map((c) => c.target), NO_TARGET]);
    // Written at an offset: row r is token outBase + r.
    const gpu = await gpuDivergence(z, y, targets, V, 5);
    cases.forEach((c, r) => expectClose(gpu, r, tokenDivergence(row(z, r, V), row(y, r, V), c.target), { kld: 1e-6, p: 1e-6 }, c.name));
    expect(Array.from(gpu.subarray(0, 4))).toEqual([0, 1, gpu[2], gpu[2]]);
    expect(Math.abs(gpu[3 * 4])).toBeLessThan(1e-6); // the uniform shift: the same distribution
    const last = cases.length * 4;
    expect([gpu[last + 2], gpu[last + 3]]).toEqual([0, 0]);
    expect(gpu[last]).toBeGreaterThan(0);
  });
});

describe('divergence kernel on the f64 forward pass of stories260K', () => {
  it('matches the f64 reference token by token and in its statistics; the original against itself gives KLD 0 and agreement 1', async () => {
    const ckpt = await openSharedCheckpoint(STORIES_260K);
    const model = await loadReferenceModel(ckpt);
    const V = ckpt.config.vocabSize;
    const seqlen = 24;
    const ids = textToIds(loadTokenizer(ckpt.tokenizerJson!, ckpt.tokenizerConfigJson), readCorpus('aesop_fables_body_reflowed.txt').slice(0, 600)).slice(0, 2 * seqlen);
    const windows = [ids.slice(0, seqlen), ids.slice(seqlen)];
    const logitsOf = () => {
      const out = new Float64Array(ids.length * V);
      windows.forEach((w, i) => out.set(forwardLogits(model, w), i * seqlen * V));
      return out;
    };
    const original = logitsOf();
    for (let b = 0; b < ckpt.config.numLayers; b++) {
      for (const l of ckpt.layout.block.linears) {
        const W = model.weights.get(`${ckpt.layout.blockPrefix(b)}${l.name}.weight`)!;
        setLinearWeight(model, b, l.name, Float32Array.from(rtnReference(W, l.out, l.in, { bits: 3, groupSize: 32 }).Q));
      }
    }
    const quantized = logitsOf();
    const reference = divergenceOfWindows(original, quantized, ids, seqlen, V);
    expect(reference.length).toBe(2 * (seqlen - 1));

    const targets = Uint32Array.from(ids, (_, t) => ((t + 1) % seqlen === 0 ? NO_TARGET : ids[t + 1]));
    const gpu = await gpuDivergence(Float32Array.from(original), Float32Array.from(quantized), targets, V);
    const acc = new DivergenceAccumulator();
    let k = 0;
    for (let t = 0; t < ids.length; t++) {
      if ((t + 1) % seqlen === 0) continue;
      // f32 logits and sums: a KLD that is the small difference of two terms near |z − y| (up to
      // about 5 here) keeps a few f32 ulps of them, so 5e-6 absolute.
      expectClose(gpu, t, reference[k], { kld: 5e-6, p: 1e-5 }, `token ${t}`);
      acc.add(gpu[t * 4], gpu[t * 4 + 1] === 1, gpu[t * 4 + 2], gpu[t * 4 + 3]);
      k++;
    }
    const want = divergenceStats(reference);
    const got = acc.stats();
    console.log(`stories260K RTN 3-bit g32, ${acc.count} tokens: f64 ${JSON.stringify(want)}; GPU ${JSON.stringify(got)}`);
    expect(want.kld_mean).toBeGreaterThan(1e-3); // a real difference, not a trivial case
    expect(want.top1_agree).toBeLessThan(1);
    for (const key of ['kld_mean', 'kld_p99', 'kld_max', 'dp_rms'] as const) expect(Math.abs(got[key] - want[key]), key).toBeLessThan(1e-5 + 1e-4 * want[key]);
    expect(got.top1_agree).toBe(want.top1_agree);

    const self = await gpuDivergence(Float32Array.from(original), Float32Array.from(original), targets, V);
    const same = new DivergenceAccumulator();
    for (let t = 0; t < ids.length; t++) if ((t + 1) % seqlen !== 0) same.add(self[t * 4], self[t * 4 + 1] === 1, self[t * 4 + 2], self[t * 4 + 3]);
    expect(same.stats()).toEqual({ kld_mean: 0, kld_p99: 0, kld_max: 0, top1_agree: 1, dp_rms: 0 });
    expect(divergenceStats(divergenceOfWindows(original, original, ids, seqlen, V))).toEqual({ kld_mean: 0, kld_p99: 0, kld_max: 0, top1_agree: 1, dp_rms: 0 });
  });
});

describe('statistics', () => {
  it('percentile interpolates as llama.cpp; the accumulator gives the reference statistics', () => {
    expect(percentile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(percentile([0, 10], 0.99)).toBeCloseTo(9.9, 12);
    expect(percentile([7], 0.99)).toBe(7);
    const tokens: TokenDivergence[] = Array.from({ length: 250 }, (_, i) => ({ kld: ((i * 37) % 250) / 1000, agree: i % 3 !== 0, pOriginal: 0.5, pQuantized: 0.5 + ((i % 5) - 2) / 100 }));
    const acc = new DivergenceAccumulator();
    tokens.forEach((t) => acc.addToken(t));
    const a = acc.stats();
    const b = divergenceStats(tokens);
    expect(b.kld_max).toBe(0.249);
    expect(b.kld_p99).toBeCloseTo(0.24651, 12); // 0.99·249 = 246.51 → between 0.246 and 0.247
    expect(b.top1_agree).toBeCloseTo(166 / 250, 12);
    expect(b.dp_rms).toBeCloseTo(Math.sqrt(0.0002), 12);
    for (const key of Object.keys(b) as (keyof typeof b)[]) expect(a[key]).toBeCloseTo(b[key], 6);
    expect(() => new DivergenceAccumulator().stats()).toThrow(/no tokens/);
    expect(() => acc.add(Number.NaN, true, 0, 0)).toThrow(/not finite/);
    expect(() => tokenDivergence([1, 2], [1, 2], 2)).toThrow(/outside the vocabulary/);
  });
});
