// Act-order: sorts columns by diag (after the dead-column fix) in descending order, ties by
// index. rank(i) = #{ j : d_j > d_i, or d_j == d_i and j < i }; perm[rank(i)] = i and
// invperm[i] = rank(i). With actOrder == 0 both are the identity.

override WG: u32 = 64;

@group(0) @binding(1) var<storage, read> diag: array<f32>;
@group(0) @binding(2) var<storage, read> dead: array<u32>;
@group(0) @binding(3) var<storage, read_write> perm: array<u32>;
@group(0) @binding(4) var<storage, read_write> invperm: array<u32>;

fn key(i: u32) -> f32 {
  return select(diag[i], 1.0, dead[i] != 0u);
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= P.n) { return; }
  var rank = i;
  if (P.actOrder != 0u) {
    rank = 0u;
    let di = key(i);
    for (var j = 0u; j < P.n; j++) {
      let dj = key(j);
      if (dj > di || (dj == di && j < i)) { rank++; }
    }
  }
  perm[rank] = i;
  invperm[i] = rank;
}
