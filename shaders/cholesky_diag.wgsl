// Factors the diagonal block A[k0 : k0+kb, k0 : k0+kb] = L·Lᵀ (lower) in workgroup memory.
// L is written back into A (block row i is row rowOff + i of the bound window) and into
// lkk [NB, NB] for the panel solve. A pivot that is ≤ 0 or not
// finite sets status[notPd]: H (+ damping) is not positive definite.

override NB: u32 = 64;  // block size (rows and columns of the diagonal block)
override WG: u32 = 256; // invocations in the one workgroup

@group(0) @binding(1) var<storage, read_write> A: array<f32>;
@group(0) @binding(2) var<storage, read_write> lkk: array<f32>;
@group(0) @binding(3) var<storage, read_write> status: array<atomic<u32>>;

var<workgroup> s: array<f32, NB * NB>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) t: u32) {
  let kb = P.kb;
  for (var idx = t; idx < kb * kb; idx += WG) {
    let i = idx / kb;
    let j = idx % kb;
    s[i * NB + j] = A[(P.rowOff + i) * P.ld + P.k0 + j];
  }
  workgroupBarrier();
  for (var k = 0u; k < kb; k++) {
    if (t == 0u) {
      var p = s[k * NB + k];
      if (!(p > 0.0) || not_finite(p)) {
        atomicMax(&status[P.notPd], 1u);
        p = 1.0;
      }
      s[k * NB + k] = sqrt(p);
    }
    workgroupBarrier();
    let d = s[k * NB + k];
    for (var i = k + 1u + t; i < kb; i += WG) {
      s[i * NB + k] = s[i * NB + k] / d;
    }
    workgroupBarrier();
    let rest = kb - k - 1u;
    for (var idx = t; idx < rest * rest; idx += WG) {
      let i = k + 1u + idx / rest;
      let j = k + 1u + idx % rest;
      if (j <= i) {
        s[i * NB + j] -= s[i * NB + k] * s[j * NB + k];
      }
    }
    workgroupBarrier();
  }
  for (var idx = t; idx < NB * NB; idx += WG) {
    let i = idx / NB;
    let j = idx % NB;
    var v = 0.0;
    if (i < kb && j <= i) { v = s[i * NB + j]; }
    lkk[idx] = v;
    if (i < kb && j <= i) { A[(P.rowOff + i) * P.ld + P.k0 + j] = v; }
  }
}
