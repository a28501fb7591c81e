/**
 * Dense f64 linear algebra on row-major n×n matrices: Cholesky, triangular inverse, and the
 * Cholesky factor of H⁻¹ that GPTQ sweeps with. Only the lower triangle of an input is read.
 */

export class NotPositiveDefiniteError extends Error {
  constructor(
    /** Index of the failing pivot. */
    readonly pivot: number,
    /** The pivot's value (≤ 0 or not finite). */
    readonly value: number,
  ) {
    super(`matrix is not positive definite: Cholesky pivot ${pivot} is ${value}`);
    this.name = 'NotPositiveDefiniteError';
  }
}

/** Lower L with A = L Lᵀ, or null when a pivot is ≤ 0 or not finite. */
export function tryCholesky(A: ArrayLike<number>, n: number): Float64Array | null {
  try {
    return cholesky(A, n);
  } catch (e) {
    if (e instanceof NotPositiveDefiniteError) return null;
    throw e;
  }
}

/** Lower L with A = L Lᵀ; throws NotPositiveDefiniteError. */
export function cholesky(A: ArrayLike<number>, n: number): Float64Array {
  const L = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const Lj = j * n;
    let s = A[Lj + j];
    for (let k = 0; k < j; k++) s -= L[Lj + k] * L[Lj + k];
    if (!(s > 0) || !Number.isFinite(s)) throw new NotPositiveDefiniteError(j, s);
    const d = Math.sqrt(s);
    L[Lj + j] = d;
    for (let i = j + 1; i < n; i++) {
      const Li = i * n;
      let t = A[Li + j];
      for (let k = 0; k < j; k++) t -= L[Li + k] * L[Lj + k];
      L[Li + j] = t / d;
    }
  }
  return L;
}

/** L⁻¹ of a lower-triangular L (lower triangular). */
export function lowerTriangularInverse(L: ArrayLike<number>, n: number): Float64Array {
  const M = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    M[j * n + j] = 1 / L[j * n + j];
    for (let i = j + 1; i < n; i++) {
      let s = 0;
      for (let k = j; k < i; k++) s += L[i * n + k] * M[k * n + j];
      M[i * n + j] = -s / L[i * n + i];
    }
  }
  return M;
}

/** A⁻¹ = L⁻ᵀ L⁻¹ from A's lower Cholesky factor L (torch.cholesky_inverse), full symmetric. */
export function choleskyInverse(L: ArrayLike<number>, n: number): Float64Array {
  const M = lowerTriangularInverse(L, n);
  const Ainv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      // (MᵀM)[i,j] = Σ_k M[k,i]·M[k,j]; M lower ⇒ k ≥ j
      let s = 0;
      for (let k = j; k < n; k++) s += M[k * n + i] * M[k * n + j];
      Ainv[i * n + j] = s;
      Ainv[j * n + i] = s;
    }
  }
  return Ainv;
}

/** Upper U with A = UᵀU (torch.linalg.cholesky(A, upper=True)); throws NotPositiveDefiniteError. */
export function upperCholesky(A: ArrayLike<number>, n: number): Float64Array {
  return transpose(cholesky(A, n), n);
}

/**
 * Upper U with H⁻¹ = UᵀU from one Cholesky and one triangular inverse: with J the exchange
 * matrix, U = J·inv(chol(J H J))·J. Equals upperCholesky(choleskyInverse(cholesky(H))).
 */
export function upperCholeskyOfInverseByReversal(H: ArrayLike<number>, n: number): Float64Array {
  // JHJ[i,j] = H[n−1−i, n−1−j]
  const R = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) R[i * n + j] = H[(n - 1 - i) * n + (n - 1 - j)];
  }
  const M = lowerTriangularInverse(cholesky(R, n), n);
  const U = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) U[i * n + j] = M[(n - 1 - i) * n + (n - 1 - j)];
  }
  return U;
}

export function transpose(A: ArrayLike<number>, n: number): Float64Array {
  const T = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) T[j * n + i] = A[i * n + j];
  }
  return T;
}
