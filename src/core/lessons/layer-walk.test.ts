import { describe, expect, it } from 'vitest';
import { gptqReference } from '../gptq-reference';
import { outputMse } from '../metrics';
import { rtnReference } from '../rtn';
import { makeWalkLayer, walkLayer, WALK_SHAPE } from './layer-walk';

describe('lesson 3: the walked layer', () => {
  it('is 4 × 8 with 16 inputs, the same for the same seed and different for another', () => {
    const a = makeWalkLayer(1);
    expect([a.rows, a.cols, a.tokens]).toEqual([4, 8, 16]);
    expect(Array.from(makeWalkLayer(1).W)).toEqual(Array.from(a.W));
    expect(Array.from(makeWalkLayer(2).W)).not.toEqual(Array.from(a.W));
  });

  it('has uneven input scales, so act-order has something to sort', () => {
    const { H, cols } = makeWalkLayer(1);
    const diag = Array.from({ length: cols }, (_, i) => H[i * cols + i]);
    expect(Math.max(...diag) / Math.min(...diag)).toBeGreaterThan(3);
  });

  const seeds = [1, 2, 3, 4, 5, 6, 7, 8];
  const options = [2, 3, 4].flatMap((bits) => [false, true].flatMap((actOrder) => [true, false].map((sym) => ({ bits, actOrder, sym }))));

  it.each(options)("the trace's final Q equals gptqReference's (bits $bits, act-order $actOrder, sym $sym)", (o) => {
    for (const seed of seeds) {
      const walk = walkLayer({ seed, ...o });
      const { W, H, rows, cols, X, tokens } = walk.layer;
      const ref = gptqReference(W, H, rows, cols, o); // reference defaults: blockSize 128, percDamp 0.01
      expect(Array.from(walk.trace.Q)).toEqual(Array.from(ref.Q));
      expect(Array.from(walk.trace.codes)).toEqual(Array.from(ref.codes));
      expect(walk.mseGptq).toHaveLength(cols + 1);
      expect(walk.mseGptq[0]).toBe(0);
      expect(walk.mseRtn[0]).toBe(0);
      expect(walk.mseGptq[cols]).toBeCloseTo(outputMse(W, ref.Q, X, rows, cols, tokens), 12);
      expect(walk.mseRtn[cols]).toBeCloseTo(outputMse(W, rtnReference(W, rows, cols, o).Q, X, rows, cols, tokens), 12);
    }
  });

  it('GPTQ ends with a lower output error than RTN on most seeds', () => {
    let wins = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const w = walkLayer({ seed, bits: 3, sym: true, actOrder: false });
      if (w.mseGptq[WALK_SHAPE.cols] < w.mseRtn[WALK_SHAPE.cols]) wins++;
    }
    expect(wins).toBeGreaterThanOrEqual(16);
  });
});
