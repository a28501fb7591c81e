// The GPTQ sweep inside one block of columns [i1, i2) (paper Algorithm 1, inner loop), one
// invocation per row r of W [rows, ld] (rows are independent):
//   for i in [i1, i2): q = quant(W[r, i]); err = (W[r, i] − q) / U[i, i]
//                      W[r, j] −= err · U[i, j] for j in (i, i2);  Err[r, i − i1] = err
// U is the upper Cholesky factor of H⁻¹, read through the lower factor F of the reversed
// problem: U[i, j] = F[n−1−i, n−1−j]; the bound window of F starts at row fRow0.
// W[r, i] is replaced by q, codes [rows, ldCodes] get the integer code (4 per u32, zeroed
// beforehand), rowLoss[r] += Σ err² / 2 (the reference's Losses). Group of column i:
// perm[i] / gs with static groups, else i / gs (gs = n for one group per row).
//
// The columns go in sub-blocks of SB held in registers: a sub-block is swept there, then its
// SB errors update the rest of the block in one pass over it. Every W[r, j] still receives
// its updates one by one in the order of i, so the result is the plain loop's, bit for bit.

override WG: u32 = 64;
const SB: u32 = 8u; // columns per sub-block

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
  for (var s = P.i1; s < P.i2; s += SB) {
    let cnt = min(SB, P.i2 - s);               // columns in this sub-block
    var w: array<f32, SB>;
    var e: array<f32, SB>;
    for (var t = 0u; t < SB; t++) {
      if (t < cnt) { w[t] = W[wBase + s + t]; }
    }
    for (var t = 0u; t < SB; t++) {
      if (t < cnt) {
        let i = s + t;
        var g = i / P.gs;
        if (P.staticGroups != 0u) { g = perm[i] / P.gs; }
        let scale = scales[g * P.rowsTotal + r];
        let zero = zeros[g * P.rowsTotal + r];
        let code = quant_code(w[t], scale, zero, P.maxq);
        let q = dequant(code, scale, zero);
        let err = (w[t] - q) / u_at(i, i);
        loss += err * err;
        w[t] = q;
        e[t] = err;
        Err[wr * P.ldErr + (i - P.i1)] = err;
        let ci = wr * P.ldCodes + i / 4u;
        codes[ci] = codes[ci] | (u32(code) << (8u * (i % 4u)));
        for (var v = t + 1u; v < SB; v++) {
          if (v < cnt) { w[v] -= err * u_at(i, s + v); }
        }
      }
    }
    for (var t = 0u; t < SB; t++) {
      if (t < cnt) { W[wBase + s + t] = w[t]; }
    }
    for (var j = s + cnt; j < P.i2; j++) {
      var x = W[wBase + j];
      for (var t = 0u; t < SB; t++) {
        if (t < cnt) { x -= e[t] * u_at(s + t, j); }
      }
      W[wBase + j] = x;
    }
  }
  rowLoss[r] += loss / 2.0;
}
