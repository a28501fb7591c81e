// Appends rows to a KV cache: cache[(posBase + t)·ldc + c] = src[t·lds + srcOff + c] for the
// src rows t < rows and columns c < cols (one head group's K or V). One invocation per element.

override WG_X: u32 = 64;

@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> cache: array<f32>;

@compute @workgroup_size(WG_X)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  let t = gid.y;
  if (c >= P.cols || t >= P.rows) { return; }
  cache[(P.posBase + t) * P.ldc + c] = src[t * P.lds + P.srcOff + c];
}
