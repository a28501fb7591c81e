import { describe, expect, it } from 'vitest';
import { randomMatrix, seededRandom } from '../testing/random';
import { HessianAccumulator } from './hessian';

const cols = 6;
const rand = seededRandom(7);
const X1 = randomMatrix(10, cols, rand); // [10, cols]: 2 sequences of 5 tokens
const X2 = randomMatrix(15, cols, rand); // [15, cols]: 3 sequences of 5 tokens

function gram(X: Float64Array, tokens: number): Float64Array {
  const G = new Float64Array(cols * cols);
  for (let t = 0; t < tokens; t++) {
    for (let i = 0; i < cols; i++) for (let j = 0; j < cols; j++) G[i * cols + j] += X[t * cols + i] * X[t * cols + j];
  }
  return G;
}

function expectAllClose(A: Float64Array, B: Float64Array, tol: number): void {
  for (let i = 0; i < A.length; i++) expect(Math.abs(A[i] - B[i])).toBeLessThanOrEqual(tol * (1 + Math.abs(B[i])));
}

describe('HessianAccumulator', () => {
  it('one batch of one sequence gives H = 2·XᵀX, symmetric', () => {
    const acc = new HessianAccumulator(cols);
    acc.addBatch(X1, 10, 1);
    expect(acc.nsamples).toBe(1);
    const G = gram(X1, 10);
    expectAllClose(acc.H, G.map((v) => 2 * v), 1e-14);
    const H = acc.H;
    for (let i = 0; i < cols; i++) for (let j = 0; j < cols; j++) expect(H[i * cols + j]).toBe(H[j * cols + i]);
  });

  it('two batches equal one concatenated batch with the summed sequence count', () => {
    const a = new HessianAccumulator(cols);
    a.addBatch(X1, 10, 2);
    a.addBatch(X2, 15, 3);
    const both = new Float64Array(25 * cols);
    both.set(X1);
    both.set(X2, X1.length);
    const b = new HessianAccumulator(cols);
    b.addBatch(both, 25, 5);
    expect(a.nsamples).toBe(5);
    expect(b.nsamples).toBe(5);
    expectAllClose(a.H, b.H, 1e-13);
    // = (2/N)·Σ x xᵀ with N = 5 sequences
    expectAllClose(b.H, gram(both, 25).map((v) => (2 / 5) * v), 1e-13);
  });

  it('is a running mean: a batch of zeros halves H', () => {
    const acc = new HessianAccumulator(cols);
    acc.addBatch(Float32Array.from(X1), 10, 1);
    const H1 = acc.H;
    acc.addBatch(new Float32Array(10 * cols), 10, 1);
    expectAllClose(acc.H, H1.map((v) => v / 2), 1e-15);
    acc.addBatch(new Float32Array(10 * cols), 10, 2);
    expectAllClose(acc.H, H1.map((v) => v / 4), 1e-15);
  });

  it('throws on NaN or Infinity in X, naming the token and column', () => {
    const acc = new HessianAccumulator(3);
    const X = Float32Array.from([1, 2, 3, 4, NaN, 6]);
    expect(() => acc.addBatch(X, 2)).toThrow(/X \(calibration inputs\) contains NaN at token 1, column 1/);
    X[4] = Infinity;
    expect(() => acc.addBatch(X, 2)).toThrow(/\+Infinity at token 1, column 1/);
    expect(acc.nsamples).toBe(0);
  });
});
