// Panel solve of the blocked Cholesky: for each row i of the window (global rows ≥ k0 + kb),
// solves x · Lkkᵀ = A[i, k0 : k0+kb] by forward substitution, and writes x into A (in place)
// and into panel [(i − k0 − kb), 0 : kb] (row stride NB), from which the trailing update reads.
// The columns of x go in sub-blocks of SB held in registers; each x[j] still subtracts its
// terms in the order m = 0, 1, …, j−1, so the result is the plain substitution's, bit for bit.

override NB: u32 = 64; // block size; panel rows have NB entries
override WG: u32 = 64; // rows per workgroup
const SB: u32 = 16u;   // columns per sub-block

@group(0) @binding(1) var<storage, read_write> A: array<f32>;
@group(0) @binding(2) var<storage, read> lkk: array<f32>;
@group(0) @binding(3) var<storage, read_write> panel: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x >= P.rows) { return; }
  let row = P.rowStart + gid.x;             // global row
  let base = (row - P.winRow0) * P.ld + P.k0;  // A[row, k0] in the window
  let prow = (row - P.k0 - P.kb) * NB;
  for (var s = 0u; s < P.kb; s += SB) {
    let cnt = min(SB, P.kb - s);
    var v: array<f32, SB>;
    for (var t = 0u; t < SB; t++) {
      if (t < cnt) { v[t] = A[base + s + t]; }
    }
    // Terms from the earlier sub-blocks, m < s.
    for (var m = 0u; m < s; m++) {
      let x = panel[prow + m];
      for (var t = 0u; t < SB; t++) {
        if (t < cnt) { v[t] -= x * lkk[(s + t) * NB + m]; }
      }
    }
    // This sub-block, m in [s, s + t).
    for (var t = 0u; t < SB; t++) {
      if (t < cnt) {
        let j = s + t;
        for (var u = 0u; u < t; u++) {
          v[t] -= v[u] * lkk[j * NB + s + u];
        }
        v[t] = v[t] / lkk[j * NB + j];
        panel[prow + j] = v[t];
        A[base + j] = v[t];
      }
    }
  }
}
