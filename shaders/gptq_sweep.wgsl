// The GPTQ sweep inside one block of columns [i1, i2) (paper Algorithm 1, inner loop), one
// invocation per row r of W [rows, ld] (rows are independent):
//   for i in [i1, i2): q = quant(W[r, i]); err = (W[r, i] − q) / U[i, i]
//                      W[r, j] −= err · U[i, j] for j in (i, i2);  Err[r, i − i1] = err
// U is the upper Cholesky factor of H⁻¹, read through the lower factor F of the reversed
// problem: U[i, j] = F[n−1−i, n−1−j]; the bound window of F starts at row fRow0.
// W[r, i] is replaced by q, codes [rows, ldCodes] get the integer code (4 per u32, zeroed
// beforehand), rowLoss[r] += Σ err² / 2 (the reference's Losses). Group of column i:
// perm[i] / gs with static groups, else i / gs (gs = n for one group per row).

override WG: u32 = 64;

@group(0) @binding(1) var<storage, read_write> W: array<f32>;
@group(0) @binding(2) var<storage, read> F: array<f32>;
@group(0) @binding(3) var<storage, read> scales: array<f32>;
@group(0) @binding(4) var<storage, read> zeros: array<f32>;
@group(0) @binding(5) var<storage, read> perm: array<u32>;
@group(0) @binding(6) var<storage, read_write> Err: array<f32>;
@group(0) @binding(7) var<storage, read_write> codes: array<u32>;
@group(0) @binding(8) var<storage, read_write> rowLoss: array<f32>;

fn u_at(i: u32, j: u32) -> f32 {
  return F[(P.n - 1u - i - P.fRow0) * P.ldF + (P.n - 1u - j)];
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x >= P.rows) { return; }
  let r = P.rowStart + gid.x;                  // global row
  let wr = r - P.winRow0;                      // row in the windows of W, Err and codes
  let wBase = wr * P.ld;
  var loss = 0.0;
  for (var i = P.i1; i < P.i2; i++) {
    var g = i / P.gs;
    if (P.staticGroups != 0u) { g = perm[i] / P.gs; }
    let scale = scales[g * P.rowsTotal + r];
    let zero = zeros[g * P.rowsTotal + r];
    let w = W[wBase + i];
    let code = quant_code(w, scale, zero, P.maxq);
    let q = dequant(code, scale, zero);
    let d = u_at(i, i);
    let err = (w - q) / d;
    loss += err * err;
    W[wBase + i] = q;
    Err[wr * P.ldErr + (i - P.i1)] = err;
    let ci = wr * P.ldCodes + i / 4u;
    codes[ci] = codes[ci] | (u32(code) << (8u * (i % 4u)));
    for (var j = i + 1u; j < P.i2; j++) {
      W[wBase + j] -= err * u_at(i, j);
    }
  }
  rowLoss[r] += loss / 2.0;
}
