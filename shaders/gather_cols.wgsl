// dst[r, j] = src[r, col(j)] for the rows r of the bound windows (both [rows, ld]), where
// col(j) = perm[j], or perm[n − 1 − j] when flip != 0 (the reversal J of the Cholesky route).
// zeroDead != 0 writes 0 for dead source columns (the reference's W[:, dead] = 0).
// addDiag != 0 (building the matrix to factor from H): adds dead[col] + damp on the diagonal
// (the reference's H[dead, dead] = 1, then H[i, i] += damp), reading dst's row index globally.

override WG_X: u32 = 64;

@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@group(0) @binding(3) var<storage, read> perm: array<u32>;
@group(0) @binding(4) var<storage, read> dead: array<u32>;
@group(0) @binding(5) var<storage, read> scalars: array<f32>;

@compute @workgroup_size(WG_X)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  if (j >= P.n || gid.y >= P.rows) { return; }
  let r = P.rowStart + gid.y;                  // global row
  let wr = r - P.winRow0;                      // row in the windows
  var col = perm[j];
  if (P.flip != 0u) { col = perm[P.n - 1u - j]; }
  var v = src[wr * P.ldSrc + col];
  if (P.zeroDead != 0u && dead[col] != 0u) { v = 0.0; }
  if (P.addDiag != 0u && r == j) { v += f32(dead[col]) + scalars[0]; }
  dst[wr * P.ldDst + j] = v;
}
