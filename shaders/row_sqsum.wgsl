// Row sums of squares of E [rows, ld] (first ncols columns), one workgroup per row:
// partial[slot0 + r] = Σ_c E[r, c]².

override WG: u32 = 64;

@group(0) @binding(1) var<storage, read> E: array<f32>;
@group(0) @binding(2) var<storage, read_write> partial: array<f32>;

var<workgroup> sums: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let r = wid.x;
  var s = 0.0;
  if (r < P.rows) {
    let base = r * P.ld;
    for (var c = li; c < P.ncols; c += WG) {
      let e = E[base + c];
      s += e * e;
    }
  }
  sums[li] = s;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
    if (li < stride) { sums[li] += sums[li + stride]; }
    workgroupBarrier();
  }
  if (li == 0u && r < P.rows) { partial[P.slot0 + r] = sums[0]; }
}
