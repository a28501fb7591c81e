// Shared helpers, prepended to every kernel (after nothing; before its params struct).

// The reference quantizer: clamp(round(x / scale) + zero, 0, maxq). WGSL round() ties to even,
// as torch.round does.
fn quant_code(x: f32, scale: f32, zero: f32, maxq: f32) -> f32 {
  return clamp(round(x / scale) + zero, 0.0, maxq);
}

fn dequant(code: f32, scale: f32, zero: f32) -> f32 {
  return scale * (code - zero);
}

// True for NaN and ±Inf (WGSL has no isnan/isinf).
fn not_finite(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7f800000u) == 0x7f800000u;
}
