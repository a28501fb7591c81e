// W[r, k] = scales[g, r] · (code[r, k] − zeros[g, r]) with g = g_idx[k], for the rows of one window
// of W [rows, ld]. Codes are packed row by row (src/core/packed-quant.ts): row r is a little-endian
// bit stream of `bits`-bit values in wpr u32 words, value k at bits [k·bits, (k+1)·bits); the
// binding of `words` starts at word wordBase of the whole [rowsTotal, wpr] array.
// scales and zeros are [G, rowsTotal] (zeros as f32), g_idx [ncols]. One invocation per element.

override WG_X: u32 = 64;

@group(0) @binding(1) var<storage, read> words: array<u32>;
@group(0) @binding(2) var<storage, read> scales: array<f32>;
@group(0) @binding(3) var<storage, read> zeros: array<f32>;
@group(0) @binding(4) var<storage, read> gidx: array<u32>;
@group(0) @binding(5) var<storage, read_write> W: array<f32>;

@compute @workgroup_size(WG_X)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let k = gid.x;
  if (k >= P.ncols || gid.y >= P.rows) { return; }
  let r = P.rowStart + gid.y;
  let wr = r - P.winRow0;
  let bit = k * P.bits;
  let at = r * P.wpr - P.wordBase + (bit >> 5u);
  let shift = bit & 31u;
  var v = words[at] >> shift;
  if (shift + P.bits > 32u) { v = v | (words[at + 1u] << (32u - shift)); }
  v = v & ((1u << P.bits) - 1u);
  let g = gidx[k] * P.rowsTotal + r;
  W[wr * P.ld + k] = dequant(f32(v), scales[g], zeros[g]);
}
