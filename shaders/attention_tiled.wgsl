// Causal grouped-query attention, tiled over keys. One workgroup per (query token, head); its WG
// invocations score WG keys at a time (one key each, the query held in workgroup memory), share
// the tile's probabilities through workgroup memory, and each accumulates its own slice of the
// output: dims li + i·WG (i < DIMS), so no invocation holds a head_dim-long array.
//
// Queries: rows t of Q/O (row strides ldq/ldo, head h at column qOff + h·headDim / h·headDim),
// bound from row qRow0; query t is at position pos = posBase + t mod seqlen of sequence
// n = t / seqlen. Keys/values: rows of K/V (column offsets kOff/vOff, kv head h / (heads/kvHeads)),
// bound from row kvRow0; key position s of sequence n is row n·kvSeqRows + s. The forward pass has
// kvSeqRows = seqlen, posBase = 0 (K/V beside Q); a KV cache has one sequence whose keys are the
// cache's rows (kvSeqRows = 0) and queries at posBase = the cached length.
// Query at pos sees keys s ≤ pos, and with a sliding window (window > 0) only pos − window < s:
//   o = Σ_s softmax_s(q·k_s · scale) · v_s   (online softmax, one rescale per tile)

override WG: u32 = 64;
const DIMS: u32 = 4u;            // output dims per invocation: head_dim ≤ DIMS·WG
const MAX_HEAD_DIM: u32 = 256u;  // the query in workgroup memory

@group(0) @binding(1) var<storage, read> Qm: array<f32>;
@group(0) @binding(2) var<storage, read> Km: array<f32>;
@group(0) @binding(3) var<storage, read> Vm: array<f32>;
@group(0) @binding(4) var<storage, read_write> O: array<f32>;

var<workgroup> qs: array<f32, MAX_HEAD_DIM>;
var<workgroup> scores: array<f32, WG>;
var<workgroup> probs: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let g = wid.x + wid.y * P.groupsX;
  if (g >= P.rows * P.heads) { return; }
  let h = g % P.heads;
  let t = P.rowStart + g / P.heads;
  let n = t / P.seqlen;
  let pos = P.posBase + t % P.seqlen;
  let kvh = h / (P.heads / P.kvHeads);
  let hd = P.headDim;
  let qBase = (t - P.qRow0) * P.ldq + P.qOff + h * hd;
  for (var d = li; d < hd; d += WG) { qs[d] = Qm[qBase + d]; }
  workgroupBarrier();
  // Row (in the K/V bindings) of this sequence's key position 0.
  let key0 = n * P.kvSeqRows - P.kvRow0;
  var first = 0u;
  if (P.window > 0u && pos + 1u > P.window) { first = pos + 1u - P.window; }
  var m = -3.0e38;
  var l = 0.0;
  var acc: array<f32, DIMS>;
  for (var i = 0u; i < DIMS; i++) { acc[i] = 0.0; }
  for (var s0 = first; s0 <= pos; s0 += WG) {
    let count = min(WG, pos + 1u - s0);
    let s = s0 + li;
    var score = -3.0e38;
    if (li < count) {
      let kBase = (key0 + s) * P.ldk + P.kOff + kvh * hd;
      var dot = 0.0;
      for (var d = 0u; d < hd; d++) { dot += qs[d] * Km[kBase + d]; }
      score = dot * P.scale;
    }
    scores[li] = score;
    workgroupBarrier();
    var mNew = m;
    for (var j = 0u; j < count; j++) { mNew = max(mNew, scores[j]); }
    var p = 0.0;
    if (li < count) { p = exp(score - mNew); }
    probs[li] = p;
    workgroupBarrier();
    let corr = exp(m - mNew);
    var sum = 0.0;
    for (var j = 0u; j < count; j++) { sum += probs[j]; }
    l = l * corr + sum;
    for (var i = 0u; i < DIMS; i++) {
      let d = li + i * WG;
      if (d < hd) {
        var a = acc[i] * corr;
        var vAt = (key0 + s0) * P.ldv + P.vOff + kvh * hd + d;
        for (var j = 0u; j < count; j++) {
          a += probs[j] * Vm[vAt];
          vAt += P.ldv;
        }
        acc[i] = a;
      }
    }
    m = mNew;
  }
  let oBase = (t - P.qRow0) * P.ldo + h * hd;
  for (var i = 0u; i < DIMS; i++) {
    let d = li + i * WG;
    if (d < hd) { O[oBase + d] = acc[i] / l; }
  }
}
