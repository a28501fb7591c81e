// Sets status[slot] when any entry of the bound window of M [rows, ld] (first ncols columns)
// is NaN or ±Inf.

override WG_X: u32 = 64;

@group(0) @binding(1) var<storage, read> M: array<f32>;
@group(0) @binding(2) var<storage, read_write> status: array<atomic<u32>>;

@compute @workgroup_size(WG_X)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x >= P.ncols || gid.y >= P.rows) { return; }
  let wr = P.rowStart + gid.y - P.winRow0;
  if (not_finite(M[wr * P.ld + gid.x])) { atomicMax(&status[P.slot], 1u); }
}
