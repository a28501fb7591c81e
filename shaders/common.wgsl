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

// Element e of a matrix stored in `format` (0 f32, 1 f16, 2 bf16: FORMAT_CODE of src/gpu/matrix.ts),
// from the u32 word that holds it (element_word): the word itself for f32; for a 16-bit format the
// word of elements e & ~1 and e | 1, the even one in its low half. F16 subnormals are decoded exactly.
fn element_word(e: u32, format: u32) -> u32 {
  return select(e, e >> 1u, format != 0u);
}

fn element_value(word: u32, e: u32, format: u32) -> f32 {
  if (format == 0u) { return bitcast<f32>(word); }
  let h = select(word & 0xffffu, word >> 16u, (e & 1u) == 1u);
  if (format == 2u) { return bitcast<f32>(h << 16u); }
  let exponent = (h >> 10u) & 0x1fu;
  let mantissa = h & 0x3ffu;
  if (exponent == 0u) {
    let v = f32(mantissa) * 5.9604644775390625e-8; // m · 2^-24
    return select(v, -v, (h & 0x8000u) != 0u);
  }
  let e32 = select(exponent + 112u, 255u, exponent == 31u);
  return bitcast<f32>(((h & 0x8000u) << 16u) | (e32 << 23u) | (mantissa << 13u));
}
