// The GPTQ sweep inside one block of columns [i1, i2) (paper Algorithm 1, inner loop), for
// each row r of W [rows, ld] (rows are independent):
//   for i in [i1, i2): q = quant(W[r, i]); err = (W[r, i] − q) / U[i, i]
//                      W[r, j] −= err · U[i, j] for j in (i, i2);  Err[r, i − i1] = err
// U is the upper Cholesky factor of H⁻¹, read through the lower factor F of the reversed
// problem: U[i, j] = F[n−1−i, n−1−j]; the bound window of F starts at row fRow0.
// W[r, i] is replaced by q, codes [rows, ldCodes] get the integer code (4 per u32, zeroed
// beforehand), rowLoss[r] += Σ err² / 2 (the reference's Losses). Group of column i:
// perm[i] / gs with static groups, else i / gs (gs = n for one group per row).
//
// Each invocation sweeps R consecutive rows (each U[i, j] it reads serves R rows). The columns
// go in sub-blocks of SB held in registers: a sub-block is swept there, then its SB errors
// update the rest of the block in one pass over it. Every W[r, j] still receives its updates
// one by one in the order of i, so the result is the plain loop's, bit for bit. R and SB are
// constants the TS module prepends.

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
  let first = gid.x * R;                       // first of this invocation's rows in the span
  if (first >= P.rows) { return; }
  // Rows past the span repeat its last row; nothing of theirs is written.
  var r: array<u32, R>;                        // global rows
  var wBase: array<u32, R>;                    // W[r, 0] in the window
  var loss: array<f32, R>;
  for (var p = 0u; p < R; p++) {
    r[p] = P.rowStart + min(first + p, P.rows - 1u);
    wBase[p] = (r[p] - P.winRow0) * P.ld;
    loss[p] = 0.0;
  }
  let live = P.rows - first;                   // rows p < live are this invocation's
  for (var s = P.i1; s < P.i2; s += SB) {
    let cnt = min(SB, P.i2 - s);               // columns in this sub-block
    var w: array<array<f32, SB>, R>;
    var e: array<array<f32, SB>, R>;
    for (var p = 0u; p < R; p++) {
      for (var t = 0u; t < SB; t++) {
        if (t < cnt) { w[p][t] = W[wBase[p] + s + t]; }
      }
    }
    for (var t = 0u; t < SB; t++) {
      if (t < cnt) {
        let i = s + t;
        var g = i / P.gs;
        if (P.staticGroups != 0u) { g = perm[i] / P.gs; }
        let d = u_at(i, i);
        for (var p = 0u; p < R; p++) {
          let scale = scales[g * P.rowsTotal + r[p]];
          let zero = zeros[g * P.rowsTotal + r[p]];
          let code = quant_code(w[p][t], scale, zero, P.maxq);
          let q = dequant(code, scale, zero);
          let err = (w[p][t] - q) / d;
          w[p][t] = q;
          e[p][t] = err;
          if (p < live) {
            loss[p] += err * err;
            let wr = r[p] - P.winRow0;
            Err[wr * P.ldErr + (i - P.i1)] = err;
            let ci = wr * P.ldCodes + i / 4u;
            codes[ci] = codes[ci] | (u32(code) << (8u * (i % 4u)));
          }
        }
        for (var v = t + 1u; v < SB; v++) {
          if (v < cnt) {
            let u = u_at(i, s + v);
            for (var p = 0u; p < R; p++) { w[p][v] -= e[p][t] * u; }
          }
        }
      }
    }
    for (var p = 0u; p < R; p++) {
      if (p < live) {
        for (var t = 0u; t < SB; t++) {
          if (t < cnt) { W[wBase[p] + s + t] = w[p][t]; }
        }
      }
    }
    for (var j = s + cnt; j < P.i2; j++) {
      var x: array<f32, R>;
      for (var p = 0u; p < R; p++) { x[p] = W[wBase[p] + j]; }
      for (var t = 0u; t < SB; t++) {
        if (t < cnt) {
          let u = u_at(s + t, j);
          for (var p = 0u; p < R; p++) { x[p] -= e[p][t] * u; }
        }
      }
      for (var p = 0u; p < R; p++) {
        if (p < live) { W[wBase[p] + j] = x[p]; }
      }
    }
  }
  for (var p = 0u; p < R; p++) {
    if (p < live) { rowLoss[r[p]] += loss[p] / 2.0; }
  }
}
