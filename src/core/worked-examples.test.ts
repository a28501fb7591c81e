import { describe, expect, it } from 'vitest';
import { gptqReference } from './gptq-reference';
import { HessianAccumulator } from './hessian';
import { outputMse } from './metrics';
import { rtnReference } from './rtn';
import { bruteForceBest, candidateErrors, roundToGrid, rowOutputs } from './worked-examples';

const close = 1e-12;

describe('the GPTQ notes, section 2: W = [0.80, −0.40], x1 = [2, 1], x2 = [1, 3], grid step 0.5', () => {
  const w = [0.8, -0.4];
  const inputs = [
    [2, 1],
    [1, 3],
  ];
  const grid = [-1, -0.5, 0, 0.5, 1];

  it('original outputs are 1.20 and −0.40', () => {
    const [y1, y2] = rowOutputs(w, inputs);
    expect(y1).toBeCloseTo(1.2, 12);
    expect(y2).toBeCloseTo(-0.4, 12);
  });

  it('blunt rounding gives [1.0, −0.5]: outputs 1.50, −0.50, errors 0.30, 0.10, squared sum 0.10', () => {
    const blunt = roundToGrid(w, grid);
    expect(blunt).toEqual([1, -0.5]);
    const e = candidateErrors(w, blunt, inputs);
    expect(e.outputs[0]).toBeCloseTo(1.5, 12);
    expect(e.outputs[1]).toBeCloseTo(-0.5, 12);
    expect(e.errors[0]).toBeCloseTo(0.3, 12);
    expect(e.errors[1]).toBeCloseTo(0.1, 12);
    expect(Math.abs(e.squaredSum - 0.1)).toBeLessThan(close);
  });

  it('[0.5, −0.5] gives outputs 0.5, −1.0 and errors 0.70, 0.60: much worse', () => {
    const e = candidateErrors(w, [0.5, -0.5], inputs);
    expect(e.outputs[0]).toBeCloseTo(0.5, 12);
    expect(e.outputs[1]).toBeCloseTo(-1.0, 12);
    expect(e.errors[0]).toBeCloseTo(0.7, 12);
    expect(e.errors[1]).toBeCloseTo(0.6, 12);
    expect(e.squaredSum).toBeGreaterThan(candidateErrors(w, [1, -0.5], inputs).squaredSum);
  });

  it('no candidate on the 0.5 grid beats [1.0, −0.5]', () => {
    expect(bruteForceBest(w, inputs, grid).candidate).toEqual([1, -0.5]);
  });
});

describe("the notes' exercise: W = [1.1, −0.7], inputs [1, 2] and [3, 1]", () => {
  const w = [1.1, -0.7];
  const inputs = [
    [1, 2],
    [3, 1],
  ];

  it('[1.0, −0.5] has the smaller output error than [1.0, −1.0]', () => {
    const a = candidateErrors(w, [1, -0.5], inputs);
    const b = candidateErrors(w, [1, -1], inputs);
    expect(a.squaredSum).toBeLessThan(b.squaredSum);
    expect(a.squaredSum).toBeCloseTo(0.1, 12);
    expect(b.squaredSum).toBeCloseTo(0.85, 12);
  });

  it('GPTQ on this 1-row layer picks a different grid point than RTN and has the lower output error', () => {
    const X = Float64Array.from(inputs.flat()); // [2 tokens, 2 cols]
    const W = Float64Array.from(w); // [1, 2]
    const acc = new HessianAccumulator(2);
    acc.addBatch(X, 2, 1);
    const gptq = gptqReference(W, acc.H, 1, 2, { bits: 4, sym: true });
    const rtn = rtnReference(W, 1, 2, { bits: 4, sym: true });
    expect(Array.from(gptq.scales)).toEqual(Array.from(rtn.scales)); // same grid
    expect(Array.from(gptq.codes)).not.toEqual(Array.from(rtn.codes));
    const gptqErr = outputMse(W, gptq.Q, X, 1, 2, 2);
    const rtnErr = outputMse(W, rtn.Q, X, 1, 2, 2);
    expect(gptqErr).toBeLessThan(rtnErr);
    // like the notes' choice, GPTQ moves −0.7 toward −0.5 to compensate the first weight's error
    expect(gptq.Q[1]).toBeGreaterThan(rtn.Q[1]);
  });
});
