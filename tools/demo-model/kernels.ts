/**
 * The matrix kernels of training. One product shape does all the work: C = A · Bᵀ with A [M, K]
 * and B [N, K] row-major, so both operands are read along contiguous rows; callers transpose first
 * where needed (O(size), cheap next to the O(M·N·K) product). 4×4 register blocks: 16 running
 * sums share each load of 4 + 4 values, which V8 turns into ~4 GFLOP/s on one core.
 */

export type Vec = Float32Array | Float64Array;

/**
 * Triangular shortcuts for causal attention, per block of 4 rows starting at row m:
 *   'cols≤row': only column blocks n ≤ m are written (the rest of C is left as it was);
 *   'k≤row':    the sum runs over k < m + 4 (A is zero right of its diagonal);
 *   'k≥row':    the sum runs over k ≥ m (A is zero left of its diagonal).
 */
export type Triangle = 'full' | 'cols≤row' | 'k≤row' | 'k≥row';

/** C[M, N] = A[M, K] · B[N, K]ᵀ (or += when accumulate). M and N must be multiples of 4. */
export function matmulABt(
  C: Vec, A: Vec, B: Vec, M: number, N: number, K: number, accumulate: boolean, triangle: Triangle = 'full',
): void {
  if (M % 4 !== 0 || N % 4 !== 0) throw new RangeError(`matmulABt: M ${M} and N ${N} must be multiples of 4`);
  for (let m = 0; m < M; m += 4) {
    const nEnd = triangle === 'cols≤row' ? Math.min(N, m + 4) : N;
    const kBegin = triangle === 'k≥row' ? m : 0;
    const kEnd = triangle === 'k≤row' ? Math.min(K, m + 4) : K;
    const a0 = m * K;
    const a1 = a0 + K;
    const a2 = a1 + K;
    const a3 = a2 + K;
    const c0 = m * N;
    const c1 = c0 + N;
    const c2 = c1 + N;
    const c3 = c2 + N;
    for (let n = 0; n < nEnd; n += 4) {
      const b0 = n * K;
      const b1 = b0 + K;
      const b2 = b1 + K;
      const b3 = b2 + K;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
      for (let k = kBegin; k < kEnd; k++) {
        const x0 = A[a0 + k];
        const x1 = A[a1 + k];
        const x2 = A[a2 + k];
        const x3 = A[a3 + k];
        const y0 = B[b0 + k];
        const y1 = B[b1 + k];
        const y2 = B[b2 + k];
        const y3 = B[b3 + k];
        s00 += x0 * y0; s01 += x0 * y1; s02 += x0 * y2; s03 += x0 * y3;
        s10 += x1 * y0; s11 += x1 * y1; s12 += x1 * y2; s13 += x1 * y3;
        s20 += x2 * y0; s21 += x2 * y1; s22 += x2 * y2; s23 += x2 * y3;
        s30 += x3 * y0; s31 += x3 * y1; s32 += x3 * y2; s33 += x3 * y3;
      }
      if (accumulate) {
        C[c0 + n] += s00; C[c0 + n + 1] += s01; C[c0 + n + 2] += s02; C[c0 + n + 3] += s03;
        C[c1 + n] += s10; C[c1 + n + 1] += s11; C[c1 + n + 2] += s12; C[c1 + n + 3] += s13;
        C[c2 + n] += s20; C[c2 + n + 1] += s21; C[c2 + n + 2] += s22; C[c2 + n + 3] += s23;
        C[c3 + n] += s30; C[c3 + n + 1] += s31; C[c3 + n + 2] += s32; C[c3 + n + 3] += s33;
      } else {
        C[c0 + n] = s00; C[c0 + n + 1] = s01; C[c0 + n + 2] = s02; C[c0 + n + 3] = s03;
        C[c1 + n] = s10; C[c1 + n + 1] = s11; C[c1 + n + 2] = s12; C[c1 + n + 3] = s13;
        C[c2 + n] = s20; C[c2 + n + 1] = s21; C[c2 + n + 2] = s22; C[c2 + n + 3] = s23;
        C[c3 + n] = s30; C[c3 + n + 1] = s31; C[c3 + n + 2] = s32; C[c3 + n + 3] = s33;
      }
    }
  }
}

/** Writes the transpose of A [rows, cols] into out [cols, rows]. */
export function transposeInto(out: Vec, A: Vec, rows: number, cols: number): Vec {
  for (let r = 0; r < rows; r++) {
    const a = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = A[a + c];
  }
  return out;
}
