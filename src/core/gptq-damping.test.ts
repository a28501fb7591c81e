import { describe, expect, it } from 'vitest';
import { gptqReference } from './gptq-reference';
import { HessianAccumulator } from './hessian';
import { hessianLoss } from './metrics';
import { rtnReference } from './rtn';
import { DAMP_RETRY } from './types';

// X [8 tokens, 3 cols]: columns 0 and 1 identical (0.5 each), column 2 alternating ±1.
// H = 2·XᵀX = [[4, 4, 0], [4, 4, 0], [0, 0, 16]]: Cholesky pivot 1 is 4 − 2² = 0 exactly.
const tokens = 8;
const cols = 3;
const X = Float64Array.from({ length: tokens * cols }, (_, i) => (i % 3 === 2 ? (Math.floor(i / 3) % 2 ? -1 : 1) : 0.5));
const acc = new HessianAccumulator(cols);
acc.addBatch(X, tokens, 1);
const H = acc.H;
const rows = 2;
const W = Float64Array.from([0.31, -0.72, 0.55, -0.18, 0.64, 0.9]); // [2, 3]

describe('damping retry', () => {
  it('the fixture H has the exact zero pivot', () => {
    expect(Array.from(H)).toEqual([4, 4, 0, 4, 4, 0, 0, 0, 16]);
  });

  it('fails at percDamp 0 and succeeds after one retry (percDampUsed = 0.01)', () => {
    const res = gptqReference(W, H, rows, cols, { percDamp: 0, bits: 4 });
    expect(res.fellBackToRtn).toBe(false);
    expect(res.percDampUsed).toBe(0.01);
    expect(res.damp).toBeCloseTo(0.01 * (24 / 3), 15);
  });

  it('falls back to RTN when every retry fails, with loss = ½ Σ (w − q)ᵀ H (w − q)', () => {
    const res = gptqReference(W, H, rows, cols, { percDamp: 0, bits: 4, maxDampRetries: 0 });
    const rtn = rtnReference(W, rows, cols, { bits: 4 });
    expect(res.fellBackToRtn).toBe(true);
    expect(res.percDampUsed).toBe(0);
    expect(res.perm).toBeNull();
    expect(Array.from(res.Q)).toEqual(Array.from(rtn.Q));
    expect(Array.from(res.codes)).toEqual(Array.from(rtn.codes));
    expect(res.loss).toBe(hessianLoss(W, rtn.Q, H, rows, cols));
    expect(Number.isFinite(res.loss)).toBe(true);
    expect(res.loss).toBeGreaterThan(0);
  });

  it(`gives up after ${DAMP_RETRY.retries} retries on an indefinite H`, () => {
    const Hbad = Float64Array.from([1, 2, 0, 2, 1, 0, 0, 0, 1]); // eigenvalue −1
    const res = gptqReference(W, Hbad, rows, cols, { percDamp: 0.01, actOrder: true });
    expect(res.fellBackToRtn).toBe(true);
    expect(res.percDampUsed).toBeCloseTo(0.01 + DAMP_RETRY.retries * DAMP_RETRY.step, 12);
    expect(res.perm).toBeNull();
    expect(Array.from(res.gIdx)).toEqual([0, 0, 0]);
  });
});

describe('non-finite input', () => {
  it('NaN in W throws naming W, the row and the column', () => {
    const bad = W.slice();
    bad[5] = NaN;
    expect(() => gptqReference(bad, H, rows, cols)).toThrow(/W \(weights\) contains NaN at row 1, column 2/);
    expect(() => rtnReference(bad, rows, cols)).toThrow(/W \(weights\) contains NaN/);
  });

  it('Infinity in H throws naming H', () => {
    const bad = H.slice();
    bad[4] = -Infinity;
    expect(() => gptqReference(W, bad, rows, cols)).toThrow(/H \(Hessian\) contains -Infinity at row 1, column 1/);
  });

  it('NaN in X throws when it is accumulated', () => {
    const bad = X.slice();
    bad[7] = NaN;
    expect(() => new HessianAccumulator(cols).addBatch(bad, tokens)).toThrow(/X \(calibration inputs\) contains NaN at token 2, column 1/);
  });

  it('invalid options throw RangeError', () => {
    expect(() => gptqReference(W, H, rows, cols, { bits: 9 })).toThrow(RangeError);
    expect(() => gptqReference(W, H, rows, cols, { maxDampRetries: -1 })).toThrow(RangeError);
  });
});
