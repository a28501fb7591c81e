/** Seeded random matrices for tests. */
import { gaussian } from '../core/random';

export { gaussian, seededRandom } from '../core/random';

/** [rows, cols] row-major, N(0, 1) entries. */
export function randomMatrix(rows: number, cols: number, rand: () => number): Float64Array {
  return Float64Array.from({ length: rows * cols }, () => gaussian(rand));
}

/** SPD [n, n]: AᵀA/m + 0.1·I with A [m = 2n, n] Gaussian. */
export function randomSpd(n: number, rand: () => number): Float64Array {
  const m = 2 * n;
  const A = randomMatrix(m, n, rand);
  const S = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < m; t++) s += A[t * n + i] * A[t * n + j];
      S[i * n + j] = s / m + (i === j ? 0.1 : 0);
    }
  }
  return S;
}
