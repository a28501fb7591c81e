// The strided GEMM of matmul_gemm.wgsl (same parameters, same result bit for bit), blocked for
// CPU adapters: a workgroup covers RM rows of C, the same rows for every invocation, so each
// A(m, k) it reads is one address for the whole workgroup (a broadcast, not a gather), and each
// invocation accumulates RM × 4·CV entries of C in registers. RM and CV are constants the TS
// module prepends; the workgroup has WG invocations along N. RM·CV·WG·16 bytes of workgroup
// memory must fit maxComputeWorkgroupStorageSize (16 KiB on every adapter).
//   C = alpha·C + beta·(A·B),  A(m, k) = a[aOff + m·aRs + k·aCs],  B(k, n) = b[bOff + k·bRs + n·bCs]
// lower != 0 writes only entries with n + diagShift <= m; kFromN != 0 starts each sum at
// k = n + kShift (B lower triangular); alpha == 0 overwrites C without reading it. Every entry
// is accumulated from 0 in the order k = 0, 1, … as in matmul_gemm.wgsl.

override WG: u32 = 8; // invocations along N; a workgroup covers RM rows × 4·CV·WG columns

@group(0) @binding(1) var<storage, read> a: array<f32>;
// B's element format (common.wgsl element_value): B may be a 16-bit matrix; A and C are f32.
override B_FORMAT: u32 = 0u;

@group(0) @binding(2) var<storage, read> b: array<u32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

fn a_at(m: u32, k: u32) -> f32 {
  return a[u32(P.aOff + i32(m) * P.aRs + i32(k) * P.aCs)];
}

fn b_at(k: u32, n: u32) -> f32 {
  let e = u32(P.bOff + i32(k) * P.bRs + i32(n) * P.bCs);
  return element_value(b[element_word(e, B_FORMAT)], e, B_FORMAT);
}

// The finished block of C of every invocation: [RM·CV, WG] vec4 (16 KiB with 32, 4 and 8).
var<workgroup> stage: array<vec4<f32>, WG * RM * CV>;

@compute @workgroup_size(WG)
fn main(
  @builtin(global_invocation_id) gid: vec3<u32>,
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let n0 = gid.x * 4u * CV;
  let m0 = wid.y * RM;
  if (m0 >= P.M || n0 >= P.N) { return; }
  if (P.lower != 0u && i32(n0) + P.diagShift > i32(m0 + RM - 1u)) { return; }
  var k0 = 0u;
  if (P.kFromN != 0u) { k0 = u32(clamp(i32(n0) + P.kShift, 0, i32(P.K))); }
  // Rows/columns past the edge read row/column M−1 / N−1 and are not written.
  var acc: array<array<vec4<f32>, CV>, RM>;
  for (var k = k0; k < P.K; k++) {
    var bv: array<vec4<f32>, CV>;
    for (var q = 0u; q < CV; q++) {
      let n = n0 + 4u * q;
      bv[q] = vec4<f32>(
        b_at(k, min(n, P.N - 1u)),
        b_at(k, min(n + 1u, P.N - 1u)),
        b_at(k, min(n + 2u, P.N - 1u)),
        b_at(k, min(n + 3u, P.N - 1u)),
      );
    }
    for (var i = 0u; i < RM; i++) {
      let av = a_at(min(m0 + i, P.M - 1u), k);
      for (var q = 0u; q < CV; q++) {
        acc[i][q] += av * bv[q];
      }
    }
  }
  // acc goes out through workgroup memory (each invocation reads back only its own slots, so no
  // barrier): the copy has constant indices, and the loop that writes C stays a loop. Writing C
  // straight from acc would unroll into RM·4·CV guarded stores, which takes llvmpipe minutes to
  // compile.
  for (var i = 0u; i < RM; i++) {
    for (var q = 0u; q < CV; q++) {
      stage[(i * CV + q) * WG + lid] = acc[i][q];
    }
  }
  for (var e = 0u; e < RM * CV; e++) {
    let m = m0 + e / CV;
    if (m >= P.M) { break; }
    let nq = n0 + 4u * (e % CV);
    let v4 = stage[e * WG + lid];
    for (var j = 0u; j < 4u; j++) {
      let n = nq + j;
      if (n < P.N && (P.lower == 0u || i32(n) + P.diagShift <= i32(m))) {
        let at = P.cOff + m * P.ldc + n;
        var v = P.beta * v4[j];
        if (P.alpha != 0.0) { v += P.alpha * c[at]; }
        c[at] = v;
      }
    }
  }
}
