// C = alpha·C + beta·(A·B) on a window of a row-major matrix C [M, N] (row stride ldc, first
// element cOff), with A(m, k) = a[aOff + m·aRs + k·aCs] and B(k, n) = b[bOff + k·bRs + n·bCs].
// Strides are signed, so transposed and reversed operands need no copy. Offsets and strides count
// elements, also in a 16-bit B.
// lower != 0 writes only entries with n + diagShift <= m (a lower triangle of the full matrix).
// kFromN != 0 starts the sum at k = n + kShift (B(k, n) is zero above that: a lower-triangular B),
// so triangular operands cost half. alpha == 0 overwrites C without reading it. Each invocation computes a 4×4 block of C in
// registers (no workgroup memory: barriers are costly on CPU adapters and tiles fit in cache).

override WG_X: u32 = 16; // invocations along N; a workgroup covers 4·WG_X columns
override WG_Y: u32 = 16; // invocations along M; a workgroup covers 4·WG_Y rows

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

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let n0 = gid.x * 4u;
  let m0 = gid.y * 4u;
  if (m0 >= P.M || n0 >= P.N) { return; }
  if (P.lower != 0u && i32(n0) + P.diagShift > i32(m0) + 3) { return; }
  // Rows/columns past the edge read row/column M−1 / N−1 and are not written.
  let mi = vec4<u32>(m0, min(m0 + 1u, P.M - 1u), min(m0 + 2u, P.M - 1u), min(m0 + 3u, P.M - 1u));
  let ni = vec4<u32>(n0, min(n0 + 1u, P.N - 1u), min(n0 + 2u, P.N - 1u), min(n0 + 3u, P.N - 1u));
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  var k0 = 0u;
  if (P.kFromN != 0u) { k0 = u32(clamp(i32(n0) + P.kShift, 0, i32(P.K))); }
  for (var k = k0; k < P.K; k++) {
    let bv = vec4<f32>(b_at(k, ni.x), b_at(k, ni.y), b_at(k, ni.z), b_at(k, ni.w));
    acc0 += a_at(mi.x, k) * bv;
    acc1 += a_at(mi.y, k) * bv;
    acc2 += a_at(mi.z, k) * bv;
    acc3 += a_at(mi.w, k) * bv;
  }
  let acc = array<vec4<f32>, 4>(acc0, acc1, acc2, acc3);
  for (var i = 0u; i < 4u; i++) {
    let m = m0 + i;
    if (m >= P.M) { break; }
    for (var j = 0u; j < 4u; j++) {
      let n = n0 + j;
      if (n >= P.N) { break; }
      if (P.lower != 0u && i32(n) + P.diagShift > i32(m)) { continue; }
      let at = P.cOff + m * P.ldc + n;
      var v = P.beta * acc[i][j];
      if (P.alpha != 0.0) { v += P.alpha * c[at]; }
      c[at] = v;
    }
  }
}
