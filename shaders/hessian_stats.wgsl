// One workgroup over diag [n]: marks dead columns (diag == 0: dead[i] = 1, and their diagonal
// counts as 1, as the reference sets H[dead, dead] = 1), then
// scalars[0] = percDamp · mean(diag after that fix) — the damping added to every diagonal entry —
// and scalars[1] = the number of dead columns.

override WG: u32 = 256;

@group(0) @binding(1) var<storage, read> diag: array<f32>;
@group(0) @binding(2) var<storage, read_write> dead: array<u32>;
@group(0) @binding(3) var<storage, read_write> scalars: array<f32>;

var<workgroup> sums: array<f32, WG>;
var<workgroup> deads: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) t: u32) {
  var sum = 0.0;
  var nd = 0.0;
  for (var i = t; i < P.n; i += WG) {
    let d = diag[i];
    let isDead = d == 0.0;
    dead[i] = select(0u, 1u, isDead);
    sum += select(d, 1.0, isDead);
    nd += select(0.0, 1.0, isDead);
  }
  sums[t] = sum;
  deads[t] = nd;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
    if (t < stride) {
      sums[t] += sums[t + stride];
      deads[t] += deads[t + stride];
    }
    workgroupBarrier();
  }
  if (t == 0u) {
    scalars[0] = P.percDamp * sums[0] / f32(P.n);
    scalars[1] = deads[0];
  }
}
