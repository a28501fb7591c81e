// Y = X · diag(s) for the rows of the bound windows: Y[r, c] = X[r, c] · s[c] (first ncols
// columns of X and Y [rows, ld]); with invert = 1, Y[r, c] = X[r, c] / s[c]. X and Y are different buffers.

override WG_X: u32 = 64;

@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;
@group(0) @binding(3) var<storage, read> s: array<f32>;

@compute @workgroup_size(WG_X)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x >= P.ncols || gid.y >= P.rows) { return; }
  let i = (P.rowStart + gid.y - P.winRow0) * P.ld + gid.x;
  let x = X[i];
  Y[i] = select(x * s[gid.x], x / s[gid.x], P.invert == 1u);
}
