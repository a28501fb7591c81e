// Log-softmax NLL and argmax over the vocabulary in chunks (online logsumexp). logits [rows, ld]
// holds the vocabulary columns [v0, v0 + cols) of rows outBase + row. Each row folds its chunk
// into its running state [m, s, z_target, argmax] (state row outBase + row):
//   m ← max(m, max_chunk z),  s ← s·exp(m_old − m) + Σ_chunk exp(z − m),  argmax the first index of the max,
//   z_target ← z[target] when the target is in the chunk.
// The chunk that ends the vocabulary (v0 + cols = vocab) writes
//   nll[t] = m + log s − z_target   and   argmax[t].
// A target of NO_TARGET (0xffffffff: the last position of a sequence) is not scored (nll 0); any
// other target ≥ vocab gets NaN and sets status[slot] to 1. One workgroup per row.

override WG: u32 = 64;

@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<u32>;
@group(0) @binding(3) var<storage, read_write> state: array<f32>;
@group(0) @binding(4) var<storage, read_write> nll: array<f32>;
@group(0) @binding(5) var<storage, read_write> argmax: array<u32>;
@group(0) @binding(6) var<storage, read_write> status: array<atomic<u32>>;

const NO_TARGET = 0xffffffffu;

var<workgroup> redV: array<f32, WG>;
var<workgroup> redI: array<u32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let row = wid.x + wid.y * P.rowsPerY;      // local row within the chunk
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
  let cm = redV[0];
  let ci = redI[0];
  workgroupBarrier();
  var sum = 0.0;
  for (var v = li; v < P.cols; v += WG) { sum += exp(logits[base + v] - cm); }
  redV[li] = sum;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (li < s) { redV[li] += redV[li + s]; }
    workgroupBarrier();
  }
  if (li == 0u && valid) {
    let t = P.outBase + row;
    let next = targets[t];
    var m = cm;
    var sAll = redV[0];
    var zt = 0.0;
    var am = P.v0 + ci;
    if (P.v0 > 0u) {
      let mOld = state[t * 4u];
      m = max(mOld, cm);
      sAll = state[t * 4u + 1u] * exp(mOld - m) + redV[0] * exp(cm - m);
      zt = state[t * 4u + 2u];
      if (!(cm > mOld)) { am = bitcast<u32>(state[t * 4u + 3u]); }
    }
    if (next >= P.v0 && next < P.v0 + P.cols) { zt = logits[base + next - P.v0]; }
    if (P.v0 + P.cols >= P.vocab) {
      var value = 0.0;
      if (next < P.vocab) {
        value = m + log(sAll) - zt;
      } else if (next != NO_TARGET) {
        atomicMax(&status[P.slot], 1u);
        value = bitcast<f32>(0x7fc00000u | (next & 0u)); // NaN (built at run time: WGSL consts cannot be NaN)
      }
      nll[t] = value;
      argmax[t] = am;
    } else {
      state[t * 4u] = m;
      state[t * 4u + 1u] = sAll;
      state[t * 4u + 2u] = zt;
      state[t * 4u + 3u] = bitcast<f32>(am);
    }
  }
}
