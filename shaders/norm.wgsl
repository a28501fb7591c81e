// Normalisation of x [rows, ld] into y (same layout): each row holds `segments` segments of cols
// values (one for a hidden state; one per head for q/k norms), each normalised on its own, one
// invocation per (row, segment):
//   rms   (kind 0): y = x / sqrt(mean(x²) + eps) · w
//   layer (kind 1): y = (x − mean(x)) / sqrt(var(x) + eps) · w + b
// w, b [cols], shared by the segments. Sums in f32, as the reference implementations do.

override WG: u32 = 64;

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read> w: array<f32>;
@group(0) @binding(4) var<storage, read> b: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x >= P.rows * P.segments) { return; }
  let row = gid.x / P.segments;
  let base = (P.rowStart + row - P.winRow0) * P.ld + (gid.x % P.segments) * P.cols;
  let n = f32(P.cols);
  var mean = 0.0;
  if (P.kind == 1u) {
    var s = 0.0;
    for (var c = 0u; c < P.cols; c++) { s += x[base + c]; }
    mean = s / n;
  }
  var ss = 0.0;
  for (var c = 0u; c < P.cols; c++) {
    let d = x[base + c] - mean;
    ss += d * d;
  }
  let inv = 1.0 / sqrt(ss / n + P.eps);
  for (var c = 0u; c < P.cols; c++) {
    var v = (x[base + c] - mean) * inv * w[c];
    if (P.kind == 1u) { v += b[c]; }
    y[base + c] = v;
  }
}
