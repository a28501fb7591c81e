// Per row t of logits [rows, ld] (first cols = vocab columns): the negative log-likelihood of
// targets[t] under log-softmax, and the row's argmax (greedy decoding). One workgroup per row.
//   nll[t] = log Σ_v exp(z_v) − z_target
// A target of NO_TARGET (0xffffffff: the last position of a sequence) is not scored (nll 0). Any
// other target ≥ vocab has no logit: its nll is NaN and it sets status[slot] to 1, so it can
// neither be scored as 0 silently nor go unnoticed.

override WG: u32 = 64;

@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<u32>;
@group(0) @binding(3) var<storage, read_write> nll: array<f32>;
@group(0) @binding(4) var<storage, read_write> argmax: array<u32>;
@group(0) @binding(5) var<storage, read_write> status: array<atomic<u32>>;

const NO_TARGET = 0xffffffffu;

var<workgroup> redV: array<f32, WG>;
var<workgroup> redI: array<u32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let row = wid.x + wid.y * P.rowsPerY;      // local row within the dispatch
  let valid = row < P.rows;
  let base = min(row, P.rows - 1u) * P.ld;
  var best = -3.0e38;
  var bestI = 0u;
  for (var v = li; v < P.cols; v += WG) {
    let z = logits[base + v];
    if (z > best) { best = z; bestI = v; }
  }
  redV[li] = best;
  redI[li] = bestI;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (li < s) {
      let o = redV[li + s];
      let oi = redI[li + s];
      if (o > redV[li] || (o == redV[li] && oi < redI[li])) { redV[li] = o; redI[li] = oi; }
    }
    workgroupBarrier();
  }
  let m = redV[0];
  let mi = redI[0];
  workgroupBarrier();
  var sum = 0.0;
  for (var v = li; v < P.cols; v += WG) { sum += exp(logits[base + v] - m); }
  redV[li] = sum;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (li < s) { redV[li] += redV[li + s]; }
    workgroupBarrier();
  }
  if (li == 0u && valid) {
    let t = P.outBase + row;
    let next = targets[t];
    var value = 0.0;
    if (next < P.cols) {
      value = m + log(redV[0]) - logits[base + next];
    } else if (next != NO_TARGET) {
      atomicMax(&status[P.slot], 1u);
      value = bitcast<f32>(0x7fc00000u | (next & 0u)); // NaN (built at run time: WGSL consts cannot be NaN)
    }
    nll[t] = value;
    argmax[t] = mi;
  }
}
