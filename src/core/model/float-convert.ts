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
