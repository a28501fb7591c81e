import { describe, expect, it } from 'vitest';
import { gptqReference } from '../gptq-reference';
import { HessianAccumulator } from '../hessian';
import { gaussian, seededRandom } from '../random';
import { gptqTrace, permuteColumns, unpermuteColumns } from './trace';

function randomLayer(seed: number, rows: number, cols: number, tokens: number) {
  const randn = ((u) => () => gaussian(u))(seededRandom(seed));
  const W = Float64Array.from({ length: rows * cols }, () => randn());
  const X = new Float64Array(tokens * cols);
  for (let t = 0; t < tokens; t++) {
    const z = randn();
    for (let c = 0; c < cols; c++) X[t * cols + c] = (1 + c) * (randn() + z);
  }
  const acc = new HessianAccumulator(cols);
  acc.addBatch(X, tokens, tokens);
  return { W, H: acc.H };
}

describe('gptqTrace against gptqReference', () => {
  const cases = [2, 3, 4, 8].flatMap((bits) =>
    [true, false].flatMap((sym) => [true, false].map((actOrder) => ({ bits, sym, actOrder }))),
  );

  it.each(cases)('bits $bits, sym $sym, act-order $actOrder: the same Q, codes, order and loss', (o) => {
    for (let seed = 1; seed <= 6; seed++) {
      const { W, H } = randomLayer(seed * 31 + o.bits, 5, 9, 20);
      const ref = gptqReference(W, H, 5, 9, o);
      const trace = gptqTrace(W, H, 5, 9, { ...o, percDamp: 0.01 });
      expect(Array.from(trace.codes)).toEqual(Array.from(ref.codes));
      expect(Array.from(trace.Q)).toEqual(Array.from(ref.Q)); // one block: the very same operations
      expect(trace.loss).toBe(ref.loss);
      expect(trace.damp).toBe(ref.damp);
      if (o.actOrder) expect(Array.from(trace.order)).toEqual(Array.from(ref.perm!));
    }
  });

  it('a layer wider than the block (lazy updates in the reference): the same codes', () => {
    const { W, H } = randomLayer(99, 6, 12, 30);
    for (const blockSize of [2, 3, 5]) {
      const ref = gptqReference(W, H, 6, 12, { bits: 3, blockSize });
      const trace = gptqTrace(W, H, 6, 12, { bits: 3 });
      expect(Array.from(trace.codes)).toEqual(Array.from(ref.codes));
      for (let i = 0; i < ref.Q.length; i++) expect(Math.abs(trace.Q[i] - ref.Q[i])).toBeLessThan(1e-12);
      expect(Math.abs(trace.loss - ref.loss) / ref.loss).toBeLessThan(1e-12);
    }
  });

  it('a dead input column is zeroed and skipped like the reference does', () => {
    const { W, H } = randomLayer(7, 3, 5, 12);
    for (let i = 0; i < 5; i++) {
      H[2 * 5 + i] = 0;
      H[i * 5 + 2] = 0;
    }
    const ref = gptqReference(W, H, 3, 5, { bits: 4 });
    const trace = gptqTrace(W, H, 3, 5, { bits: 4 });
    expect(trace.deadColumns).toEqual([2]);
    expect(Array.from(trace.Q)).toEqual(Array.from(ref.Q));
  });

  it('each step records the column before and after, and the update it pushed into later columns', () => {
    const { W, H } = randomLayer(3, 4, 8, 16);
    const trace = gptqTrace(W, H, 4, 8, { bits: 3, actOrder: true });
    let prev = trace.start;
    for (const s of trace.steps) {
      expect(s.column).toBe(trace.order[s.index]);
      for (let r = 0; r < 4; r++) {
        expect(s.w[r]).toBe(prev[r * 8 + s.index]);
        expect(s.err[r]).toBe(s.w[r] - s.q[r]);
        expect(s.W[r * 8 + s.index]).toBe(s.q[r]);
        for (let k = 0; k < 8; k++) {
          if (k <= s.index) expect(s.update[r * 8 + k]).toBe(0);
          else expect(s.W[r * 8 + k]).toBe(prev[r * 8 + k] + s.update[r * 8 + k]);
        }
      }
      prev = s.W;
    }
    expect(Array.from(unpermuteColumns(prev, 4, 8, trace.order))).toEqual(Array.from(trace.Q));
  });

  it('permuteColumns and unpermuteColumns undo each other', () => {
    const M = Float64Array.from({ length: 6 }, (_, i) => i);
    const order = Int32Array.of(2, 0, 1);
    expect(Array.from(permuteColumns(M, 2, 3, order))).toEqual([2, 0, 1, 5, 3, 4]);
    expect(Array.from(unpermuteColumns(permuteColumns(M, 2, 3, order), 2, 3, order))).toEqual(Array.from(M));
  });
});
