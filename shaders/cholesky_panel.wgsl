// Panel solve of the blocked Cholesky: for each row i of the window (global rows ≥ k0 + kb),
// solves x · Lkkᵀ = A[i, k0 : k0+kb] by forward substitution, and writes x into A (in place)
// and into panel [(i − k0 − kb), 0 : kb] (row stride NB), from which the trailing update reads.

override NB: u32 = 64; // block size; panel rows have NB entries
override WG: u32 = 64; // rows per workgroup

@group(0) @binding(1) var<storage, read_write> A: array<f32>;
@group(0) @binding(2) var<storage, read> lkk: array<f32>;
@group(0) @binding(3) var<storage, read_write> panel: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x >= P.rows) { return; }
  let row = P.rowStart + gid.x;             // global row
  let base = (row - P.winRow0) * P.ld + P.k0;  // A[row, k0] in the window
  let prow = (row - P.k0 - P.kb) * NB;
  for (var j = 0u; j < P.kb; j++) {
    var v = A[base + j];
    for (var m = 0u; m < j; m++) {
      v -= panel[prow + m] * lkk[j * NB + m];
    }
    v = v / lkk[j * NB + j];
    panel[prow + j] = v;
    A[base + j] = v;
  }
}
