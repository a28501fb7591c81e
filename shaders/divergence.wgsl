// Per row t of two logits chunks of the same tokens, z = original [rows, ld] and y = quantized
// [rows, ld] (first cols = vocab columns), the divergence of the quantized model's next-token
// distribution Q = softmax(y) from the original's P = softmax(z). One workgroup per row.
//   result[4t + 0] = KL(P ‖ Q) = Σ p_v (z_v − y_v) + log(S_y / S_z)
//   result[4t + 1] = 1 when argmax z == argmax y (first index on ties), else 0
//   result[4t + 2] = P(target), result[4t + 3] = Q(target)   (0 for NO_TARGET or a target ≥ vocab)
// with t = outBase + row, m = max(max z, max y), S_z = Σ e^(z−m), S_y = Σ e^(y−m). The log term is
// log1p(D / S_z) with D = S_y − S_z = Σ e^(z−m)·expm1(y − z) summed term by term when |D| < S_z / 2,
// so that two nearly equal rows give a KLD accurate to f32 rounding of the difference (and exactly
// 0 for equal rows); log S_y − log S_z otherwise.

override WG: u32 = 64;

@group(0) @binding(1) var<storage, read> zl: array<f32>;
@group(0) @binding(2) var<storage, read> yl: array<f32>;
@group(0) @binding(3) var<storage, read> targets: array<u32>;
@group(0) @binding(4) var<storage, read_write> result: array<f32>;

var<workgroup> rz: array<f32, WG>;
var<workgroup> ry: array<f32, WG>;
var<workgroup> iz: array<u32, WG>;
var<workgroup> iy: array<u32, WG>;
var<workgroup> ra: array<f32, WG>;
var<workgroup> rd: array<f32, WG>;

// e^d − 1: a Taylor series where it is small (no cancellation), exp elsewhere.
fn expm1_(d: f32) -> f32 {
  if (abs(d) < 0.25) {
    return d * (1.0 + d * (0.5 + d * (1.0 / 6.0 + d * (1.0 / 24.0 + d * (1.0 / 120.0 + d * (1.0 / 720.0 + d / 5040.0))))));
  }
  return exp(d) - 1.0;
}

// log(1 + u), accurate for small u.
fn log1p_(u: f32) -> f32 {
  if (abs(u) < 1.0e-2) {
    return u * (1.0 - u * (0.5 - u * (1.0 / 3.0 - u * (0.25 - u * 0.2))));
  }
  return log(1.0 + u);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let row = wid.x + wid.y * P.rowsPerY;
  let valid = row < P.rows;
  let base = min(row, P.rows - 1u) * P.ld;
  // Pass 1: the maxima and their first indices.
  var bz = -3.0e38;
  var by = -3.0e38;
  var bzi = 0u;
  var byi = 0u;
  for (var v = li; v < P.cols; v += WG) {
    let a = zl[base + v];
    let b = yl[base + v];
    if (a > bz) { bz = a; bzi = v; }
    if (b > by) { by = b; byi = v; }
  }
  rz[li] = bz; iz[li] = bzi; ry[li] = by; iy[li] = byi;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (li < s) {
      let oz = rz[li + s];
      let ozi = iz[li + s];
      if (oz > rz[li] || (oz == rz[li] && ozi < iz[li])) { rz[li] = oz; iz[li] = ozi; }
      let oy = ry[li + s];
      let oyi = iy[li + s];
      if (oy > ry[li] || (oy == ry[li] && oyi < iy[li])) { ry[li] = oy; iy[li] = oyi; }
    }
    workgroupBarrier();
  }
  let m = max(rz[0], ry[0]);
  let agree = iz[0] == iy[0];
  workgroupBarrier();
  // Pass 2: S_z, S_y, A = Σ e^(z−m)(z − y), D = S_y − S_z.
  var sz = 0.0;
  var sy = 0.0;
  var sa = 0.0;
  var sd = 0.0;
  for (var v = li; v < P.cols; v += WG) {
    let a = zl[base + v];
    let b = yl[base + v];
    let ea = exp(a - m);
    let eb = exp(b - m);
    sz += ea;
    sy += eb;
    sa += ea * (a - b);
    let d = b - a;
    if (abs(d) < 0.25) { sd += ea * expm1_(d); } else { sd += eb - ea; }
  }
  rz[li] = sz; ry[li] = sy; ra[li] = sa; rd[li] = sd;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (li < s) {
      rz[li] += rz[li + s];
      ry[li] += ry[li + s];
      ra[li] += ra[li + s];
      rd[li] += rd[li + s];
    }
    workgroupBarrier();
  }
  if (li == 0u && valid) {
    let t = P.outBase + row;
    let Sz = rz[0];
    let Sy = ry[0];
    // log(S_y / S_z): from D near 1 (no cancellation there), from the sums themselves elsewhere
    // (1 + D/S_z would cancel when S_y ≪ S_z).
    let u = rd[0] / Sz;
    let logRatio = select(log(Sy) - log(Sz), log1p_(u), abs(u) < 0.5);
    let kld = ra[0] / Sz + logRatio;
    let tgt = targets[t];
    var pz = 0.0;
    var py = 0.0;
    if (tgt < P.cols) {
      pz = exp(zl[base + tgt] - m) / Sz;
      py = exp(yl[base + tgt] - m) / Sy;
    }
    result[4u * t + 0u] = kld;
    result[4u * t + 1u] = select(0.0, 1.0, agree);
    result[4u * t + 2u] = pz;
    result[4u * t + 3u] = py;
  }
}
