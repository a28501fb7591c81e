// The reference quantizer's grid (quant.py find_params) for row r of W and group g:
// over columns [g·gs, min(g·gs + gs, ncols)) of W [rows, ld], finds scale and zero and writes
// them to scales[g, r] and zeros[g, r] (both [G, rowsTotal]). Groups [g0, g1) are done, for the
// rows of the bound window. mse != 0 runs the clipping search (shrink p = 1 − i/grid for
// i < maxShrink·grid, error Σ|q − x|^norm, strictly smaller wins).

override WG: u32 = 64;

@group(0) @binding(1) var<storage, read> W: array<f32>;
@group(0) @binding(2) var<storage, read_write> scales: array<f32>;
@group(0) @binding(3) var<storage, read_write> zeros: array<f32>;

fn grid_error(base: u32, c0: u32, c1: u32, scale: f32, zero: f32) -> f32 {
  var err = 0.0;
  for (var c = c0; c < c1; c++) {
    let x = W[base + c];
    let d = abs(dequant(quant_code(x, scale, zero, P.maxq), scale, zero) - x);
    if (d > 0.0) { err += pow(d, P.norm); }
  }
  return err;
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x >= P.rows) { return; }
  let g = P.g0 + gid.y;
  if (g >= P.g1) { return; }
  let r = P.rowStart + gid.x;                  // global row
  let base = (r - P.winRow0) * P.ld;
  let c0 = g * P.gs;
  let c1 = min(c0 + P.gs, P.ncols);
  var xmin = 0.0;
  var xmax = 0.0;
  for (var c = c0; c < c1; c++) {
    let x = W[base + c];
    xmin = min(xmin, x);
    xmax = max(xmax, x);
  }
  if (P.sym != 0u) {
    xmax = max(-xmin, xmax);
    if (xmin < 0.0) { xmin = -xmax; }
  }
  if (xmin == 0.0 && xmax == 0.0) {
    xmin = -1.0;
    xmax = 1.0;
  }
  let symZero = (P.maxq + 1.0) / 2.0;
  var scale = (xmax - xmin) / P.maxq;
  var zero = select(round(-xmin / scale), symZero, P.sym != 0u);
  if (P.mse != 0u) {
    var best = 3.0e38;
    for (var i = 0u; i < P.shrinkSteps; i++) {
      let p = f32(P.grid - i) / f32(P.grid);
      let xmin1 = p * xmin;
      let xmax1 = p * xmax;
      let scale1 = (xmax1 - xmin1) / P.maxq;
      let zero1 = select(round(-xmin1 / scale1), symZero, P.sym != 0u);
      let err = grid_error(base, c0, c1, scale1, zero1);
      if (err < best) {
        best = err;
        scale = scale1;
        zero = zero1;
      }
    }
  }
  scales[g * P.rowsTotal + r] = scale;
  zeros[g * P.rowsTotal + r] = zero;
}
