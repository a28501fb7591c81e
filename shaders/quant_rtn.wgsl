// Round to nearest on the grid: Q[r, c] = dequant(code) and the code packed 4 per u32 into
// codes [rows, ldCodes], with group g = c / gs (gs = ncols for one group per row), using
// scales/zeros [G, rowsTotal]. One invocation per (row, 4 columns) of the bound windows.

override WG_X: u32 = 64;

@group(0) @binding(1) var<storage, read> W: array<f32>;
@group(0) @binding(2) var<storage, read_write> Q: array<f32>;
@group(0) @binding(3) var<storage, read_write> codes: array<u32>;
@group(0) @binding(4) var<storage, read> scales: array<f32>;
@group(0) @binding(5) var<storage, read> zeros: array<f32>;

@compute @workgroup_size(WG_X)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let w = gid.x;
  if (w * 4u >= P.ncols || gid.y >= P.rows) { return; }
  let r = P.rowStart + gid.y;
  let wr = r - P.winRow0;
  var word = 0u;
  for (var b = 0u; b < 4u; b++) {
    let c = w * 4u + b;
    if (c >= P.ncols) { break; }
    let g = c / P.gs;
    let scale = scales[g * P.rowsTotal + r];
    let zero = zeros[g * P.rowsTotal + r];
    let code = quant_code(W[wr * P.ld + c], scale, zero, P.maxq);
    Q[wr * P.ld + c] = dequant(code, scale, zero);
    word |= u32(code) << (8u * b);
  }
  codes[wr * P.ldCodes + w] = word;
}
