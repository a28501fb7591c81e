// Inverts the lower-triangular diagonal blocks of L: block b (one workgroup each) gives
// inv(L_bb), written into Linv[b rows, b cols] and into dinv [b, NB, NB]. One invocation per
// column c solves L_bb · x = e_c by forward substitution. Non-finite results set status[notPd].

override NB: u32 = 64; // block size; also the workgroup size (one invocation per column)

@group(0) @binding(1) var<storage, read> L: array<f32>;
@group(0) @binding(2) var<storage, read_write> Linv: array<f32>;
@group(0) @binding(3) var<storage, read_write> dinv: array<f32>;
@group(0) @binding(4) var<storage, read_write> status: array<atomic<u32>>;

var<workgroup> s: array<f32, NB * NB>;

@compute @workgroup_size(NB)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) c: u32) {
  let b = P.block0 + wid.x;                 // global block index
  let r0 = b * NB;                           // its first global row / column
  let kb = min(NB, P.n - r0);
  let wr = r0 - P.winRow0;                   // its first row in the window
  for (var i = 0u; i < kb; i++) {
    if (c <= i) { s[i * NB + c] = L[(wr + i) * P.ld + r0 + c]; }
  }
  workgroupBarrier();
  let d = b * NB * NB;
  for (var r = 0u; r < NB; r++) { dinv[d + r * NB + c] = 0.0; }
  if (c < kb) {
    for (var r = c; r < kb; r++) {
      var v = select(0.0, 1.0, r == c);
      for (var m = c; m < r; m++) {
        v -= s[r * NB + m] * dinv[d + m * NB + c];
      }
      v = v / s[r * NB + r];
      if (not_finite(v)) { atomicMax(&status[P.notPd], 1u); }
      dinv[d + r * NB + c] = v;
      Linv[(wr + r) * P.ld + r0 + c] = v;
    }
  }
}
