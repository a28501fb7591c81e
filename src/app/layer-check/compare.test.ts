import { describe, expect, it } from 'vitest';
import { parseRoute } from '../route';
import { compareLayer, DEFAULT_LAYER_CHECK, parseLayerCheckSpec } from './compare';
import type { GpuSide, LayerCheckSpec, ReferenceSide } from './compare';
import { makeRandomLayer } from './layer';
import { seededRandom } from '../../core/random';
import { runReference } from './reference';
import { rtnReference } from '../../core/rtn';
import { outputMse } from '../../core/metrics';

/** A "GPU" side made from the reference itself, in f32, as a correct engine would return it. */
function gpuFromReference(spec: LayerCheckSpec, ref: ReferenceSide): GpuSide {
  const layer = makeRandomLayer(spec);
  const rtn = rtnReference(layer.W, spec.rows, spec.cols, spec.options);
  return {
    gptq: {
      ...ref.gptq,
      Q: Float32Array.from(ref.gptq.Q),
      codes: ref.gptq.codes.slice(),
      scales: Float32Array.from(ref.gptq.scales),
      seconds: { hessian: 0, prepare: 0, inverse: 0, sweep: 0, finalize: 0, total: 0 },
      dampAttempts: 1,
    },
    rtn,
    mse: { gptq: ref.mse, rtn: outputMse(layer.W, rtn.Q, layer.X, spec.rows, spec.cols, spec.tokens) },
  };
}

describe('layer check inputs', () => {
  it('the PRNG and the layer are deterministic per seed', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    for (let i = 0; i < 5; i++) expect(a()).toBe(b());
    const l1 = makeRandomLayer({ seed: 1, rows: 4, cols: 5, tokens: 6 });
    const l2 = makeRandomLayer({ seed: 1, rows: 4, cols: 5, tokens: 6 });
    const l3 = makeRandomLayer({ seed: 2, rows: 4, cols: 5, tokens: 6 });
    expect(l1.W).toEqual(l2.W);
    expect(l1.X).toEqual(l2.X);
    expect(l1.W).not.toEqual(l3.W);
    expect(l1.W.length).toBe(20);
    expect(l1.X.length).toBe(30);
  });

  it('reads the case from the query string, defaults for what is left out', () => {
    expect(parseLayerCheckSpec('?check=layer')).toEqual(DEFAULT_LAYER_CHECK);
    const s = parseLayerCheckSpec('?check=layer&seed=7&bits=3&sym=0&actorder=1&static=true&group=-1&damp=0.05');
    expect(s.seed).toBe(7);
    expect(s.options).toMatchObject({ bits: 3, sym: false, actOrder: true, staticGroups: true, groupSize: -1, percDamp: 0.05 });
    expect(() => parseLayerCheckSpec('?bits=four')).toThrow(/bits/);
    expect(() => parseLayerCheckSpec('?rows=0')).toThrow(/rows/);
  });

  it('routes / to the studio and ?check=layer to the check, bad input to an error', () => {
    expect(parseRoute('')).toEqual({ page: 'studio' });
    expect(parseRoute('?check=layer')).toMatchObject({ page: 'layer-check', spec: DEFAULT_LAYER_CHECK });
    expect(parseRoute('?check=layer&block=x')).toMatchObject({ page: 'layer-check', invalid: expect.stringMatching(/block/) });
  });
});

describe('compareLayer', () => {
  const spec = DEFAULT_LAYER_CHECK;
  const ref = runReference(spec, makeRandomLayer(spec));

  it('passes a result equal to the reference up to f32 rounding, and GPTQ beats RTN on this layer', () => {
    const r = compareLayer(spec, gpuFromReference(spec, ref), ref);
    expect(r.failures).toEqual([]);
    expect(r.pass).toBe(true);
    expect(r.codeAgreement).toBe(1);
    expect(r.maxSameGridDqOverScale).toBeLessThan(1e-5);
    expect(r.sameGridEntries).toBe(spec.rows * spec.cols);
    expect(r.scaleAgreement).toBe(1);
    expect(r.mse.gptq).toBeLessThan(r.mse.rtn);
  });

  it('fails when too many codes differ, and says so', () => {
    const gpu = gpuFromReference(spec, ref);
    const { rows, cols } = spec;
    // Move 2% of the codes one step (and Q with them): agreement 98% < 99%.
    const n = Math.ceil(0.02 * rows * cols);
    for (let k = 0; k < n; k++) {
      const i = k * 37 % (rows * cols);
      const c = gpu.gptq.codes[i];
      const step = c > 0 ? -1 : 1;
      gpu.gptq.codes[i] = c + step;
      gpu.gptq.Q[i] += step * ref.gptq.scales[ref.gptq.gIdx[i % cols] * rows + Math.floor(i / cols)];
    }
    const r = compareLayer(spec, gpu, ref);
    expect(r.pass).toBe(false);
    expect(r.codeAgreement).toBeLessThan(0.99);
    expect(r.maxCodeStep).toBe(1);
    expect(r.maxDqOverScale).toBeCloseTo(1, 5);
    expect(r.failures.join('\n')).toMatch(/codes agree on/);
  });

  it('fails when the same grid point dequantizes differently, or GPTQ does not beat RTN', () => {
    const gpu = gpuFromReference(spec, ref);
    gpu.gptq.Q[5] += 0.01 * ref.gptq.scales[ref.gptq.gIdx[5] * spec.rows];
    gpu.mse = { gptq: 2, rtn: 1 };
    const r = compareLayer(spec, gpu, ref);
    expect(r.pass).toBe(false);
    expect(r.failures.join('\n')).toMatch(/same grid point/);
    expect(r.failures.join('\n')).toMatch(/not below RTN/);
  });
});
