// out[t, c] = E[ids[t], c] · scale for the tokens t whose id falls in the bound window of E's rows
// [v0, v0 + vRows); E [vocab, ldE] is bound in windows of rows when it exceeds one binding.
// out [tokens, ldOut] is bound from token outRow0; tokens [tokenBase, tokenBase + count) are
// done, one invocation per (column, token). An id ≥ vocab (E's row count) has no row: it sets
// status[slot] to 1 instead of being skipped silently, and its output row is left unwritten.
// E may be a 16-bit matrix (E_FORMAT, common.wgsl element_value); out is f32.

override WG_X: u32 = 64;
override E_FORMAT: u32 = 0u;

@group(0) @binding(1) var<storage, read> E: array<u32>;
@group(0) @binding(2) var<storage, read> ids: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read_write> status: array<atomic<u32>>;

@compute @workgroup_size(WG_X)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  let t = gid.y + P.tokenBase;
  if (c >= P.cols || gid.y >= P.count) { return; }
  let id = ids[t];
  if (id >= P.vocab) {
    if (c == 0u) { atomicMax(&status[P.slot], 1u); }
    return;
  }
  if (id < P.v0 || id >= P.v0 + P.vRows) { return; }
  let e = (id - P.v0) * P.ldE + c;
  let v = element_value(E[element_word(e, E_FORMAT)], e, E_FORMAT) * P.scale;
  let at = (t - P.outRow0) * P.ldOut + c;
  if (P.accumulate != 0u) { out[at] += v; } else { out[at] = v; }
}
