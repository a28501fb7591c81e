// Rotary position embedding in place on x [tokens, ld] holding `heads` heads of headDim columns
// from column colOff (rotate-half convention on the first rotDim columns of each head; the rest
// pass through): for i < half = rotDim/2, with (cos, sin) = table [pos(t), i] and
// pos(t) = posBase + t mod seqlen (posBase: tokens already in a KV cache),
//   x[i] ← x[i]·cos − x[i + half]·sin,   x[i + half] ← x[i + half]·cos + x[i]·sin.
// table [positions, half, 2] (cos, sin). One invocation per (pair i, head, token).

override WG_X: u32 = 64;

@group(0) @binding(1) var<storage, read_write> x: array<f32>;
@group(0) @binding(2) var<storage, read> table: array<f32>;

@compute @workgroup_size(WG_X)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let half = P.rotDim / 2u;
  let i = gid.x % half;
  let h = gid.x / half;
  if (h >= P.heads || gid.y >= P.rows) { return; }
  let t = P.rowStart + gid.y;
  let pos = P.posBase + t % P.seqlen;
  let base = (t - P.winRow0) * P.ld + P.colOff + h * P.headDim;
  let cs = table[(pos * half + i) * 2u];
  let sn = table[(pos * half + i) * 2u + 1u];
  let a = x[base + i];
  let b = x[base + i + half];
  x[base + i] = a * cs - b * sn;
  x[base + i + half] = b * cs + a * sn;
}
