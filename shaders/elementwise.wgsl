// Elementwise ops on y [rows, ld] (first cols columns), for the rows of the bound windows:
//   op 0  y += x                    (residual)
//   op 1  y += b[c]                 (bias, b [cols])
//   op 2  y = silu(y) · x           (gated MLP: y holds gate, x holds up)
//   op 3  y = gelu_new(y)           (tanh approximation, as GPT-2)
//   op 4  y = x                     (copy)

override WG_X: u32 = 64;

@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;

@compute @workgroup_size(WG_X)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  if (c >= P.cols || gid.y >= P.rows) { return; }
  let r = P.rowStart + gid.y - P.winRow0;
  let at = r * P.ld + c;
  let xat = r * P.ldx + c + P.xColOff;
  switch (P.op) {
    case 0u: { y[at] += x[xat]; }
    case 1u: { y[at] += b[c]; }
    case 2u: {
      let g = y[at];
      y[at] = g / (1.0 + exp(-g)) * x[xat];
    }
    case 3u: {
      let v = y[at];
      y[at] = 0.5 * v * (1.0 + tanh(0.7978845608028654 * (v + 0.044715 * v * v * v)));
    }
    default: { y[at] = x[xat]; }
  }
}
