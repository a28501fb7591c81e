/** Seeded random numbers and matrices for tests (mulberry32). */

export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal via Box–Muller. */
export function gaussian(rand: () => number): number {
  const u = 1 - rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

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
