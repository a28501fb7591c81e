// Column sums of |X| over the rows of the bound window of X [rows, ld]: one invocation per column
// c < ncols adds Σ_r |X[r, c]| to sums[c] (sums cleared by the caller; windows add up in order).

override WG_X: u32 = 64;

@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> sums: array<f32>;

@compute @workgroup_size(WG_X)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  if (c >= P.ncols) { return; }
  var acc = 0.0;
  for (var r = 0u; r < P.rows; r++) {
    acc += abs(X[(P.rowStart + r - P.winRow0) * P.ld + c]);
  }
  sums[c] += acc;
}
