// Elementwise ops on y [rows, ld] (first cols columns), for the rows of the bound windows:
//   op 0  y += x                    (residual)
//   op 1  y += b[c]                 (bias, b [cols])
//   op 2  y = silu(y) · x           (gated MLP: y holds gate, x holds up)
//   op 3  y = gelu_new(y)           (tanh approximation, as GPT-2)
//   op 4  y = x                     (copy)
//   op 5  y = gelu_tanh(y) · x      (GeGLU: y holds gate, x holds up; gelu_pytorch_tanh)
//   op 6  y = max(y, 0)             (relu)
//   op 7  y = alpha·tanh(y / alpha) (logit softcapping)
//   op 8  y = x − y                 (difference: y holds Q, x holds W; the output error's W − Q)
// tanh of the new ops takes a clamped argument: |v| ≥ 15 gives ±1 to f32 precision, and a tanh
// built from exp would overflow.

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
    case 5u: {
      let g = y[at];
      let u = clamp(0.7978845608028654 * (g + 0.044715 * g * g * g), -15.0, 15.0);
      y[at] = 0.5 * g * (1.0 + tanh(u)) * x[xat];
    }
    case 6u: { y[at] = max(y[at], 0.0); }
    case 7u: { y[at] = P.alpha * tanh(clamp(y[at] / P.alpha, -15.0, 15.0)); }
    case 8u: { y[at] = x[xat] - y[at]; }
    default: { y[at] = x[xat]; }
  }
}
