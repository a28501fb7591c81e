// dst[idx[i]] = values[i] for i < count: writes the listed u32 words of one window of a matrix
// (idx relative to the window's first word), bit for bit: f32 elements, or pairs of 16-bit ones.
// One invocation per entry, rows of WG_X·x entries.

override WG_X: u32 = 64;

@group(0) @binding(1) var<storage, read> idx: array<u32>;
@group(0) @binding(2) var<storage, read> values: array<u32>;
@group(0) @binding(3) var<storage, read_write> dst: array<u32>;

@compute @workgroup_size(WG_X)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * P.perRow + gid.x;
  if (gid.x >= P.perRow || i >= P.count) { return; }
  dst[idx[i]] = values[i];
}
