// C [M, N] = A [M, K] · B [K, N], all dense row-major: the classic workgroup-memory tiled
// matmul (tiles of 4·WG_Y × TK from A and TK × 4·WG_X from B, 4×4 outputs per invocation).
// Kept beside matmul_gemm.wgsl as a variant: the benchmark measures both on each adapter
// (on CPU adapters barriers make this one slower; on real GPUs tiles usually win).

override WG_X: u32 = 16;
override WG_Y: u32 = 16;
const TK: u32 = 16u;

@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

var<workgroup> As: array<f32, 4u * WG_Y * TK>;
var<workgroup> Bs: array<f32, TK * 4u * WG_X>;

@compute @workgroup_size(WG_X, WG_Y)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
  @builtin(local_invocation_index) li: u32,
) {
  let tileM = 4u * WG_Y;
  let tileN = 4u * WG_X;
  let m0 = wid.y * tileM;
  let n0 = wid.x * tileN;
  var acc: array<vec4<f32>, 4>;
  for (var k0 = 0u; k0 < P.K; k0 += TK) {
    for (var idx = li; idx < tileM * TK; idx += WG_X * WG_Y) {
      let m = m0 + idx / TK;
      let k = k0 + idx % TK;
      As[idx] = select(0.0, a[min(m, P.M - 1u) * P.K + min(k, P.K - 1u)], m < P.M && k < P.K);
    }
    for (var idx = li; idx < TK * tileN; idx += WG_X * WG_Y) {
      let k = k0 + idx / tileN;
      let n = n0 + idx % tileN;
      Bs[idx] = select(0.0, b[min(k, P.K - 1u) * P.N + min(n, P.N - 1u)], k < P.K && n < P.N);
    }
    workgroupBarrier();
    for (var k = 0u; k < TK; k++) {
      let bv = vec4<f32>(
        Bs[k * tileN + lid.x * 4u],
        Bs[k * tileN + lid.x * 4u + 1u],
        Bs[k * tileN + lid.x * 4u + 2u],
        Bs[k * tileN + lid.x * 4u + 3u],
      );
      for (var i = 0u; i < 4u; i++) {
        acc[i] += As[(lid.y * 4u + i) * TK + k] * bv;
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let m = m0 + lid.y * 4u + i;
    for (var j = 0u; j < 4u; j++) {
      let n = n0 + lid.x * 4u + j;
      if (m < P.M && n < P.N) { c[m * P.N + n] = acc[i][j]; }
    }
  }
}
