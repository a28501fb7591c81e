import { describe, expect, it } from 'vitest';
import { randomMatrix, seededRandom } from '../testing/random';
import { HessianAccumulator } from './hessian';
import { hessianLoss, outputMse } from './metrics';

describe('metrics', () => {
  it('outputMse is ‖(W − Q̂)Xᵀ‖² / (rows·tokens)', () => {
    const W = Float64Array.from([1, 2, 3, 4]); // [2, 2]
    const Q = Float64Array.from([1, 1, 3, 5]); // W − Q = [[0, 1], [0, −1]]
    const X = Float64Array.from([1, 2, 3, 4, 5, 6]); // [3, 2]
    // (W − Q)Xᵀ = [[2, 4, 6], [−2, −4, −6]] → Σ² = 112
    expect(outputMse(W, Q, X, 2, 2, 3)).toBeCloseTo(112 / 6, 14);
    expect(outputMse(W, W, X, 2, 2, 3)).toBe(0);
  });

  it('hessianLoss with H = (2/N)·Σ x xᵀ is the output squared error per sequence', () => {
    const rand = seededRandom(3);
    const rows = 3;
    const cols = 5;
    const tokens = 12;
    const W = randomMatrix(rows, cols, rand);
    const Q = W.map((v) => Math.round(v * 2) / 2);
    const X = randomMatrix(tokens, cols, rand);
    const acc = new HessianAccumulator(cols);
    acc.addBatch(X, tokens, 4);
    const perSequence = (outputMse(W, Q, X, rows, cols, tokens) * rows * tokens) / 4;
    expect(hessianLoss(W, Q, acc.H, rows, cols) / perSequence).toBeCloseTo(1, 12);
  });
});
