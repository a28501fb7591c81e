// diag[i] = H[i, i] for the rows i of the bound window of H [n, ld].

override WG: u32 = 64;

@group(0) @binding(1) var<storage, read> H: array<f32>;
@group(0) @binding(2) var<storage, read_write> diag: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x >= P.rows) { return; }
  let i = P.rowStart + gid.x;
  diag[i] = H[(i - P.winRow0) * P.ld + i];
}
