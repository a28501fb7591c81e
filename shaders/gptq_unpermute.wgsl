// Undoes the act-order permutation on the rows of the bound windows: for original column c,
// Q[r, c] = Qp[r, invperm[c]] and its code likewise (codes packed 4 per u32, [rows, ldCodes]).
// One invocation per (row, 4 columns).

override WG_X: u32 = 64;

@group(0) @binding(1) var<storage, read> Qp: array<f32>;
@group(0) @binding(2) var<storage, read_write> Q: array<f32>;
@group(0) @binding(3) var<storage, read> codesP: array<u32>;
@group(0) @binding(4) var<storage, read_write> codes: array<u32>;
@group(0) @binding(5) var<storage, read> invperm: array<u32>;

@compute @workgroup_size(WG_X)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let w = gid.x;
  if (w * 4u >= P.ncols || gid.y >= P.rows) { return; }
  let wr = P.rowStart + gid.y - P.winRow0;
  var word = 0u;
  for (var b = 0u; b < 4u; b++) {
    let c = w * 4u + b;
    if (c >= P.ncols) { break; }
    let p = invperm[c];
    Q[wr * P.ld + c] = Qp[wr * P.ld + p];
    let code = (codesP[wr * P.ldCodes + p / 4u] >> (8u * (p % 4u))) & 0xffu;
    word |= code << (8u * b);
  }
  codes[wr * P.ldCodes + w] = word;
}
