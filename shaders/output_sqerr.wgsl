// Output error of a quantized weight: for rows r of W, Q [rows, ld] and tokens t of X
// [tokens, ldX] in the bound windows, e(r, t) = Σ_c (W[r, c] − Q[r, c]) · X[t, c];
// each workgroup writes Σ e² over its (r, t) tile to partial[slot0 + workgroup index].

override WG_X: u32 = 16; // invocations along tokens (4 tokens each)
override WG_Y: u32 = 16; // invocations along rows (4 rows each)

@group(0) @binding(1) var<storage, read> W: array<f32>;
@group(0) @binding(2) var<storage, read> Q: array<f32>;
@group(0) @binding(3) var<storage, read> X: array<f32>;
@group(0) @binding(4) var<storage, read_write> partial: array<f32>;

var<workgroup> sums: array<f32, WG_X * WG_Y>;

@compute @workgroup_size(WG_X, WG_Y)
fn main(
  @builtin(global_invocation_id) gid: vec3<u32>,
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) li: u32,
) {
  let t0 = gid.x * 4u;
  let r0 = gid.y * 4u;
  var s = 0.0;
  if (t0 < P.tokens && r0 < P.rows) {
    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);
    let ri = vec4<u32>(r0, min(r0 + 1u, P.rows - 1u), min(r0 + 2u, P.rows - 1u), min(r0 + 3u, P.rows - 1u)) * P.ld;
    let ti = vec4<u32>(t0, min(t0 + 1u, P.tokens - 1u), min(t0 + 2u, P.tokens - 1u), min(t0 + 3u, P.tokens - 1u)) * P.ldX;
    for (var c = 0u; c < P.ncols; c++) {
      let xv = vec4<f32>(X[ti.x + c], X[ti.y + c], X[ti.z + c], X[ti.w + c]);
      acc0 += (W[ri.x + c] - Q[ri.x + c]) * xv;
      acc1 += (W[ri.y + c] - Q[ri.y + c]) * xv;
      acc2 += (W[ri.z + c] - Q[ri.z + c]) * xv;
      acc3 += (W[ri.w + c] - Q[ri.w + c]) * xv;
    }
    let acc = array<vec4<f32>, 4>(acc0, acc1, acc2, acc3);
    for (var i = 0u; i < 4u; i++) {
      if (r0 + i >= P.rows) { break; }
      for (var j = 0u; j < 4u; j++) {
        if (t0 + j >= P.tokens) { break; }
        s += acc[i][j] * acc[i][j];
      }
    }
  }
  sums[li] = s;
  workgroupBarrier();
  for (var stride = WG_X * WG_Y / 2u; stride > 0u; stride = stride / 2u) {
    if (li < stride) { sums[li] += sums[li + stride]; }
    workgroupBarrier();
  }
  if (li == 0u) { partial[P.slot0 + wid.y * nwg.x + wid.x] = sums[0]; }
}
