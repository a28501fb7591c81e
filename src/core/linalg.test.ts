import { describe, expect, it } from 'vitest';
import { randomSpd, seededRandom } from '../testing/random';
import {
  cholesky,
  choleskyInverse,
  lowerTriangularInverse,
  NotPositiveDefiniteError,
  transpose,
  tryCholesky,
  upperCholesky,
  upperCholeskyOfInverseByReversal,
} from './linalg';

/** C = A·B, all [n, n]. */
function matmul(A: Float64Array, B: Float64Array, n: number): Float64Array {
  const C = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const a = A[i * n + k];
      for (let j = 0; j < n; j++) C[i * n + j] += a * B[k * n + j];
    }
  }
  return C;
}

function maxAbsDiff(A: ArrayLike<number>, B: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < A.length; i++) m = Math.max(m, Math.abs(A[i] - B[i]));
  return m;
}

function maxAbs(A: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < A.length; i++) m = Math.max(m, Math.abs(A[i]));
  return m;
}

function identity(n: number): Float64Array {
  const I = new Float64Array(n * n);
  for (let i = 0; i < n; i++) I[i * n + i] = 1;
  return I;
}

const rand = seededRandom(1234);
const sizes = [1, 5, 64, 130];
const spd = new Map(sizes.map((n) => [n, randomSpd(n, rand)]));

describe('cholesky', () => {
  it.each(sizes)('L Lᵀ = A, L lower (n = %i)', (n) => {
    const A = spd.get(n)!;
    const L = cholesky(A, n);
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) expect(L[i * n + j]).toBe(0);
    expect(maxAbsDiff(matmul(L, transpose(L, n), n), A)).toBeLessThan(1e-12 * maxAbs(A));
  });

  it('throws NotPositiveDefiniteError (pivot and value) on an indefinite or singular matrix', () => {
    const indefinite = Float64Array.from([1, 2, 2, 1]);
    expect(() => cholesky(indefinite, 2)).toThrow(NotPositiveDefiniteError);
    try {
      cholesky(indefinite, 2);
    } catch (e) {
      expect((e as NotPositiveDefiniteError).pivot).toBe(1);
      expect((e as NotPositiveDefiniteError).value).toBe(-3);
    }
    expect(tryCholesky(Float64Array.from([4, 4, 4, 4]), 2)).toBeNull(); // pivot exactly 0
    expect(tryCholesky(Float64Array.from([NaN]), 1)).toBeNull();
    expect(tryCholesky(Float64Array.from([Infinity]), 1)).toBeNull();
    expect(tryCholesky(Float64Array.from([4, 2, 2, 3]), 2)).not.toBeNull();
  });
});

describe('inverses', () => {
  it.each(sizes)('lowerTriangularInverse and choleskyInverse invert (n = %i)', (n) => {
    const A = spd.get(n)!;
    const L = cholesky(A, n);
    expect(maxAbsDiff(matmul(lowerTriangularInverse(L, n), L, n), identity(n))).toBeLessThan(1e-10);
    const Ainv = choleskyInverse(L, n);
    expect(maxAbsDiff(Ainv, transpose(Ainv, n))).toBe(0);
    expect(maxAbsDiff(matmul(Ainv, A, n), identity(n))).toBeLessThan(1e-10);
  });

  it.each(sizes)('upperCholesky: UᵀU = A, U upper (n = %i)', (n) => {
    const A = spd.get(n)!;
    const U = upperCholesky(A, n);
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) expect(U[i * n + j]).toBe(0);
    expect(maxAbsDiff(matmul(transpose(U, n), U, n), A)).toBeLessThan(1e-12 * maxAbs(A));
  });

  it.each(sizes)('J·inv(chol(J H J))·J = upperCholesky(choleskyInverse(chol(H))) (n = %i)', (n) => {
    const H = spd.get(n)!;
    const reference = upperCholesky(choleskyInverse(cholesky(H, n), n), n);
    const reversed = upperCholeskyOfInverseByReversal(H, n);
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) expect(reversed[i * n + j]).toBe(0);
    expect(maxAbsDiff(reversed, reference) / maxAbs(reference)).toBeLessThan(1e-9);
  });
});
