// Causal self-attention over sequences of seqlen tokens, grouped-query: query head h reads
// key/value head h / (heads / kvHeads). Q, K, V are column blocks of row-major matrices
// (offsets qOff, kOff, vOff; row strides ldq, ldk, ldv; they may share one buffer, as GPT-2's
// fused c_attn output does). O [tokens, ldo] gets head h at columns h·headDim.
// One invocation per (query token, head), online softmax over the keys s ≤ t of its sequence,
// and with a sliding window (window > 0) only t − window < s:
//   o = Σ_s softmax_s(q·k_s · scale) · v_s

override WG: u32 = 64;
const MAX_HEAD_DIM: u32 = 256u;

@group(0) @binding(1) var<storage, read> Qm: array<f32>;
@group(0) @binding(2) var<storage, read> Km: array<f32>;
@group(0) @binding(3) var<storage, read> Vm: array<f32>;
@group(0) @binding(4) var<storage, read_write> O: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let h = gid.x % P.heads;
  let local = gid.x / P.heads;               // token index within the bound window
  if (local >= P.rows) { return; }
  let t = P.rowStart + local;                // global token
  let w0 = P.winRow0;                        // first token of the window (a sequence start)
  let seqStart = t - t % P.seqlen;
  let kvh = h / (P.heads / P.kvHeads);
  let qBase = (t - w0) * P.ldq + P.qOff + h * P.headDim;
  var acc: array<f32, MAX_HEAD_DIM>;
  for (var d = 0u; d < P.headDim; d++) { acc[d] = 0.0; }
  var m = -3.0e38;
  var l = 0.0;
  var first = seqStart;
  if (P.window > 0u && t + 1u > seqStart + P.window) { first = t + 1u - P.window; }
  for (var s = first; s <= t; s++) {
    let kBase = (s - w0) * P.ldk + P.kOff + kvh * P.headDim;
    var dot = 0.0;
    for (var d = 0u; d < P.headDim; d++) { dot += Qm[qBase + d] * Km[kBase + d]; }
    let score = dot * P.scale;
    let mNew = max(m, score);
    let corr = exp(m - mNew);
    let p = exp(score - mNew);
    l = l * corr + p;
    let vBase = (s - w0) * P.ldv + P.vOff + kvh * P.headDim;
    for (var d = 0u; d < P.headDim; d++) { acc[d] = acc[d] * corr + p * Vm[vBase + d]; }
    m = mNew;
  }
  let oBase = (t - w0) * P.ldo + h * P.headDim;
  for (var d = 0u; d < P.headDim; d++) { O[oBase + d] = acc[d] / l; }
}
