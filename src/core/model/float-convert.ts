/**
 * Exact conversions of IEEE half (F16) and bfloat16 (BF16) bit patterns to f32 values.
 * Every F16 and every BF16 value is exactly representable in f32 (F16 subnormals are f32 normals).
 */

/** The value of an F16 bit pattern (0..0xffff): sign 1, exponent 5 (bias 15), mantissa 10. */
export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24; // zero and subnormals: m · 2^(1−15−10)
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** The value of a BF16 bit pattern (0..0xffff): the upper half of an f32. */
export function bfloat16ToFloat(bits: number): number {
  const word = new Uint32Array([(bits & 0xffff) << 16]);
  return new Float32Array(word.buffer)[0];
}

const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

let halfTable: Float32Array | null = null;

/** All 65536 F16 values as f32, built once (256 KiB). */
function halfLookup(): Float32Array {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) halfTable[h] = halfToFloat(h);
  }
  return halfTable;
}

/** Little-endian F16 bytes (length 2n) → n f32 values. */
export function halfBytesToFloat32(bytes: Uint8Array): Float32Array {
  const n = bytes.length >>> 1;
  const table = halfLookup();
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = table[bytes[2 * i] | (bytes[2 * i + 1] << 8)];
  return out;
}

/** Little-endian BF16 bytes (length 2n) → n f32 values: each pattern shifted into the high half. */
export function bfloat16BytesToFloat32(bytes: Uint8Array): Float32Array {
  const n = bytes.length >>> 1;
  const words = new Uint32Array(n);
  for (let i = 0; i < n; i++) words[i] = ((bytes[2 * i] | (bytes[2 * i + 1] << 8)) << 16) >>> 0;
  return new Float32Array(words.buffer);
}

/** Little-endian F32 bytes (length 4n) → n f32 values (copied, so alignment never matters). */
export function float32BytesToFloat32(bytes: Uint8Array): Float32Array {
  const n = bytes.length >>> 2;
  const out = new Float32Array(n);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (littleEndianHost) {
    new Uint8Array(out.buffer).set(bytes.subarray(0, 4 * n));
  } else {
    for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
  }
  return out;
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/**
 * The F16 bit pattern nearest to x (round half to even), as PyTorch's `.half()` gives it:
 * overflow to ±Inf, f16 subnormals kept, NaN to a quiet NaN. x is first rounded to f32.
 */
export function floatToHalf(x: number): number {
  f32Scratch[0] = x;
  const bits = u32Scratch[0];
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // f16 subnormal (or zero): the value is m · 2^-24 with m an integer below 1024.
    if (e < -10) return sign;
    const full = mantissa | 0x800000; // 24-bit significand
    const shift = 14 - e; // bits dropped to reach units of 2^-24
    let m = full >>> shift;
    const rest = full & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rest > half || (rest === half && (m & 1))) m++;
    return sign | m; // m may reach 1024: the smallest normal, which the pattern encodes correctly
  }
  let h = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1))) h++; // may carry into the exponent, up to Inf
  return sign | h;
}

/** f32 values → little-endian F16 bytes (2 per value). */
export function float32ToHalfBytes(values: ArrayLike<number>): Uint8Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = floatToHalf(values[i]);
  return new Uint8Array(out.buffer);
}
