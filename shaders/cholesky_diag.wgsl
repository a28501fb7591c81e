// Factors the diagonal block A[k0 : k0+kb, k0 : k0+kb] = L·Lᵀ (lower) in workgroup memory.
// L is written back into A (block row i is row rowOff + i of the bound window), and
// U = inv(L)ᵀ (upper triangular, zeros below the diagonal) into u [NB, NB], with which the panel
// below is solved as a product. A pivot that is ≤ 0 or not finite sets status[notPd]: H
// (+ damping) is not positive definite.
// Invocation t owns row t of the block (NB invocations). Step k: every invocation takes
// the pivot's square root (the same value everywhere), row i > k divides s[i, k] by it, and
// after a barrier updates its own entries s[i, j], k < j ≤ i. Then invocation c solves
// L·x = e_c by forward substitution; x is row c of U.

override NB: u32 = 64; // block size (rows and columns of the diagonal block; also invocations)

@group(0) @binding(1) var<storage, read_write> A: array<f32>;
@group(0) @binding(2) var<storage, read_write> u: array<f32>;
@group(0) @binding(3) var<storage, read_write> status: array<atomic<u32>>;

var<workgroup> s: array<f32, NB * NB>;

@compute @workgroup_size(NB)
fn main(@builtin(local_invocation_index) t: u32) {
  let kb = P.kb;
  let i = t;
  for (var j = 0u; j < kb; j++) {
    if (i < kb) { s[i * NB + j] = A[(P.rowOff + i) * P.ld + P.k0 + j]; }
  }
  workgroupBarrier();
  for (var k = 0u; k < kb; k++) {
    var p = s[k * NB + k];
    if (!(p > 0.0) || not_finite(p)) {
      if (t == 0u) { atomicMax(&status[P.notPd], 1u); }
      p = 1.0;
    }
    let d = sqrt(p);
    if (i > k && i < kb) { s[i * NB + k] = s[i * NB + k] / d; }
    workgroupBarrier();
    if (i == k) { s[k * NB + k] = d; }
    if (i > k && i < kb) {
      let lik = s[i * NB + k];
      for (var j = k + 1u; j <= i; j++) {
        s[i * NB + j] -= lik * s[j * NB + k];
      }
    }
    workgroupBarrier();
  }
  for (var j = 0u; j <= i; j++) {
    if (i < kb) { A[(P.rowOff + i) * P.ld + P.k0 + j] = s[i * NB + j]; }
  }
  // Row c of U: x_r = (δ_rc − Σ_{c≤m<r} L[r, m]·x_m) / L[r, r] for c ≤ r < kb; zero elsewhere.
  let c = t;
  for (var r = 0u; r < NB; r++) {
    var x = 0.0;
    if (c < kb && r >= c && r < kb) {
      x = select(0.0, 1.0, r == c);
      for (var m = c; m < r; m++) {
        x -= s[r * NB + m] * u[c * NB + m];
      }
      x = x / s[r * NB + r];
    }
    u[c * NB + r] = x;
  }
}
