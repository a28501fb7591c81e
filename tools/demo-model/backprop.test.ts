/**
 * The trainer's model against finite differences (every parameter tensor, f64 storage) and
 * against the project's f64 reference forward (the same function, to rounding).
 */
import { describe, expect, it } from 'vitest';
import { modelLayout } from '../../src/core/model/architecture';
import { normalizeModelConfig } from '../../src/core/model/config';
import { nextTokenNll, forwardLogits, type ReferenceModel } from '../../src/core/model/forward-reference';
import { llamaConfigJson } from './hf-files';
import { createParams, initParams, view, Workspace, type ModelShape, type Params } from './model';
import { Rng } from './rng';

const tiny: ModelShape = {
  vocab: 32, hidden: 16, inter: 24, layers: 2, heads: 4, kvHeads: 2, headDim: 4,
  ropeTheta: 10000, eps: 1e-5, maxPositions: 16,
};
const B = 2;
const T = 8;

function tinyParams(seed: number): Params {
  const rng = new Rng(seed);
  const params = createParams(tiny, 'f64');
  initParams(params, rng, 0.3);
  // norm gains away from 1 so their gradients are exercised
  for (const s of params.specs) {
    if (s.shape.length === 1) for (let i = 0; i < s.size; i++) params.data[s.offset + i] = 1 + 0.2 * rng.normal();
  }
  return params;
}

function batch(seed: number): { ids: number[]; targets: number[] } {
  const rng = new Rng(seed);
  const ids = Array.from({ length: B * T }, () => rng.int(tiny.vocab));
  const targets = ids.map((_, i) => (i % T === T - 1 ? -1 : rng.int(tiny.vocab))); // last row of each sequence: none
  return { ids, targets };
}

describe('demo-model trainer: hand-written backward', () => {
  it('matches central finite differences for every parameter tensor', () => {
    const params = tinyParams(1);
    const ws = new Workspace(params, B, T);
    const { ids, targets } = batch(2);
    const loss = () => {
      const r = ws.forward(ids, targets);
      return r.sum / r.count;
    };
    loss();
    const grads = new Float64Array(params.data.length);
    ws.backward(grads);
    const rng = new Rng(3);
    const h = 1e-5;
    for (const s of params.specs) {
      for (let k = 0; k < 6; k++) {
        const i = s.offset + rng.int(s.size);
        const keep = params.data[i];
        params.data[i] = keep + h;
        const up = loss();
        params.data[i] = keep - h;
        const down = loss();
        params.data[i] = keep;
        const numeric = (up - down) / (2 * h);
        const err = Math.abs(numeric - grads[i]);
        expect(err, `${s.name}[${i - s.offset}]: analytic ${grads[i]}, numeric ${numeric}`)
          .toBeLessThan(1e-7 + 1e-5 * Math.abs(numeric));
      }
    }
  });

  it('the gradient is not trivially zero anywhere', () => {
    const params = tinyParams(4);
    const ws = new Workspace(params, B, T);
    const { ids, targets } = batch(5);
    ws.forward(ids, targets);
    const grads = new Float64Array(params.data.length);
    ws.backward(grads);
    for (const s of params.specs) {
      const g = view(params, grads, s.name);
      expect(g.some((x) => x !== 0), s.name).toBe(true);
    }
  });

  it('forward equals the project f64 reference forward (forward-reference.ts)', () => {
    const params = tinyParams(6);
    const config = normalizeModelConfig(llamaConfigJson(tiny));
    const weights = new Map<string, Float32Array>();
    for (const s of params.specs) weights.set(s.name, Float32Array.from(view(params, params.data, s.name)));
    // the same weights rounded to f32 on both sides
    for (const s of params.specs) params.data.set(weights.get(s.name)!, s.offset);
    const reference: ReferenceModel = { config, layout: modelLayout(config), weights };
    const ws = new Workspace(params, 1, T);
    const ids = batch(7).ids.slice(0, T);
    const ours = ws.forward(ids, ids.map((_, t) => (t + 1 < T ? ids[t + 1] : -1)));
    const ref = nextTokenNll(forwardLogits(reference, ids), ids, tiny.vocab);
    expect(ours.count).toBe(ref.count);
    expect(Math.abs(ours.sum - ref.sum)).toBeLessThan(1e-9 * ref.sum);
  });
});
