// Causal grouped-query attention, tiled over queries and keys (flash-attention style). One
// workgroup per (tile of BQ consecutive queries of one sequence, head). For each tile of WG keys:
//   1. invocation li scores key s0 + li against the BQ queries (held in workgroup memory), so each
//      key row is read once per tile;
//   2. invocation q < BQ updates query q's running max and sum (online softmax) and turns its row
//      of scores into probabilities;
//   3. every invocation accumulates its own output dims d = li + i·WG (i < DIMS) of the BQ queries,
//      so each value row is read once per tile and no invocation holds a head_dim-long array.
//
// Queries: rows t of Q/O (row strides ldq/ldo, head h at column qOff + h·headDim / h·headDim),
// bound from row qRow0; query t is at position posBase + t mod seqlen of sequence n = t / seqlen.
// Keys/values: rows of K/V (column offsets kOff/vOff, kv head h / (heads/kvHeads)), bound from
// row kvRow0; key position s of sequence n is row n·kvSeqRows + s. The forward pass has
// kvSeqRows = seqlen, posBase = 0 (K/V beside Q); a KV cache has one sequence whose keys are the
// cache's rows (kvSeqRows = 0) and queries at posBase = the cached length.
// The query at position p sees keys s ≤ p, and with a sliding window (window > 0) only p − window < s:
//   o = Σ_s softmax_s(q·k_s · scale) · v_s

override WG: u32 = 64;
const BQ: u32 = 8u;              // queries per workgroup
const DIMS: u32 = 4u;            // output dims per invocation: head_dim ≤ DIMS·WG
const MAX_HEAD_DIM: u32 = 256u;  // the queries in workgroup memory
const NEG: f32 = -3.0e38;

@group(0) @binding(1) var<storage, read> Qm: array<f32>;
@group(0) @binding(2) var<storage, read> Km: array<f32>;
@group(0) @binding(3) var<storage, read> Vm: array<f32>;
@group(0) @binding(4) var<storage, read_write> O: array<f32>;

var<workgroup> qs: array<f32, 2048>;        // [BQ, MAX_HEAD_DIM]
var<workgroup> scores: array<f32, 512>;     // [BQ, WG ≤ 64]
var<workgroup> probs: array<f32, 512>;      // [BQ, WG ≤ 64]
var<workgroup> corr: array<f32, BQ>;
var<workgroup> denom: array<f32, BQ>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let g = wid.x + wid.y * P.groupsX;
  let tilesPerSeq = (P.seqlen + BQ - 1u) / BQ;
  let sequences = (P.rowStart + P.rows) / P.seqlen - P.rowStart / P.seqlen;
  if (g >= sequences * tilesPerSeq * P.heads) { return; }
  let h = g % P.heads;
  let tile = (g / P.heads) % tilesPerSeq;
  let n = P.rowStart / P.seqlen + g / (P.heads * tilesPerSeq);
  let i0 = tile * BQ;                               // first query's index in its sequence
  let nq = min(BQ, P.seqlen - i0);                  // valid queries in this tile
  let t0 = n * P.seqlen + i0;                       // first query's row
  let p0 = P.posBase + i0;                          // first query's position
  let kvh = h / (P.heads / P.kvHeads);
  let hd = P.headDim;
  for (var x = li; x < BQ * hd; x += WG) {
    let q = x / hd;
    let d = x % hd;
    var v = 0.0;
    if (q < nq) { v = Qm[(t0 + q - P.qRow0) * P.ldq + P.qOff + h * hd + d]; }
    qs[q * MAX_HEAD_DIM + d] = v;
  }
  let key0 = n * P.kvSeqRows - P.kvRow0;            // row of key position 0 in the K/V bindings
  var first = 0u;
  if (P.window > 0u && p0 + 1u > P.window) { first = p0 + 1u - P.window; }
  let last = p0 + nq - 1u;                          // the last query's position: no key past it
  var m = NEG;                                      // query li's running max (li < nq)
  var l = 0.0;                                      // query li's running sum (li < BQ)
  var acc: array<f32, 32>;                          // [BQ, DIMS]: query q, dim li + i·WG
  for (var x = 0u; x < BQ * DIMS; x++) { acc[x] = 0.0; }
  workgroupBarrier();
  for (var s0 = first; s0 <= last; s0 += WG) {
    let count = min(WG, last + 1u - s0);
    // 1. Scores of key s0 + li.
    let s = s0 + li;
    var dots: array<f32, BQ>;
    for (var q = 0u; q < BQ; q++) { dots[q] = 0.0; }
    if (li < count) {
      let kBase = (key0 + s) * P.ldk + P.kOff + kvh * hd;
      for (var d = 0u; d < hd; d++) {
        let k = Km[kBase + d];
        for (var q = 0u; q < BQ; q++) {
          if (q >= nq) { break; }
          dots[q] += qs[q * MAX_HEAD_DIM + d] * k;
        }
      }
    }
    for (var q = 0u; q < BQ; q++) {
      let p = p0 + q;
      var sc = NEG;
      let visible = li < count && q < nq && s <= p && (P.window == 0u || s + P.window > p);
      if (visible) { sc = dots[q] * P.scale; }
      scores[q * WG + li] = sc;
    }
    workgroupBarrier();
    // 2. Online softmax of query li's row.
    if (li < nq) {
      var mNew = m;
      for (var j = 0u; j < count; j++) { mNew = max(mNew, scores[li * WG + j]); }
      var sum = 0.0;
      for (var j = 0u; j < count; j++) {
        let sc = scores[li * WG + j];
        var p = 0.0;
        if (sc > NEG) { p = exp(sc - mNew); }
        probs[li * WG + j] = p;
        sum += p;
      }
      let c = exp(m - mNew);
      corr[li] = c;
      l = l * c + sum;
      m = mNew;
    }
    workgroupBarrier();
    // 3. Output dims of every query.
    for (var i = 0u; i < DIMS; i++) {
      let d = li + i * WG;
      if (d < hd) {
        for (var q = 0u; q < BQ; q++) { acc[q * DIMS + i] *= corr[q]; }
        var vAt = (key0 + s0) * P.ldv + P.vOff + kvh * hd + d;
        for (var j = 0u; j < count; j++) {
          let v = Vm[vAt];
          for (var q = 0u; q < BQ; q++) {
            if (q >= nq) { break; }
            acc[q * DIMS + i] += probs[q * WG + j] * v;
          }
          vAt += P.ldv;
        }
      }
    }
  }
  if (li < BQ) { denom[li] = l; }
  workgroupBarrier();
  for (var q = 0u; q < nq; q++) {
    let oBase = (t0 + q - P.qRow0) * P.ldo + h * hd;
    for (var i = 0u; i < DIMS; i++) {
      let d = li + i * WG;
      if (d < hd) { O[oBase + d] = acc[q * DIMS + i] / denom[q]; }
    }
  }
}
