// Copies the solved panel of one step of the blocked Cholesky back into A:
//   A[row, k0 + j] = panel[(row − pRow0)·pw + pCol0 + j],  j < kb,
// for rows [rowStart, rowStart + rows) (global; row − winRow0 is the row in A's bound window).
// One workgroup per row, one invocation per column (NB invocations).

override NB: u32 = 64; // block size: columns of the panel's block, invocations per workgroup

@group(0) @binding(1) var<storage, read> panel: array<f32>;
@group(0) @binding(2) var<storage, read_write> A: array<f32>;

@compute @workgroup_size(NB)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) j: u32) {
  if (wid.x >= P.rows || j >= P.kb) { return; }
  let row = P.rowStart + wid.x;
  A[(row - P.winRow0) * P.ld + P.k0 + j] = panel[(row - P.pRow0) * P.pw + P.pCol0 + j];
}
