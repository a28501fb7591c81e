/**
 * An independent GGUF reader for tests, written from the format's description (ggml/include/gguf.h,
 * ggml/src/gguf.cpp; block layouts of ggml/src/ggml-common.h and the decoders
 * dequantize_row_q4_0 / _q4_1 / _q8_0 of ggml/src/ggml-quants.c). It shares no code with the
 * writer (src/core/export/gguf/): a misreading of the format in one is not repeated in the other.
 */

export interface GgufRead {
  version: number;
  /** Metadata by key: the value type id (gguf_type) and the value; arrays as { itemType, items }. */
  kv: Map<string, { type: number; value: unknown }>;
  tensors: Map<string, GgufReadTensor>;
  /** Tensor names in file order. */
  order: string[];
  alignment: number;
  /** Where the data section starts. */
  dataStart: number;
}

export interface GgufReadTensor {
  name: string;
  /** ne, ne[0] contiguous. */
  ne: number[];
  /** ggml_type id: 0 F32, 1 F16, 2 Q4_0, 3 Q4_1, 8 Q8_0. */
  type: number;
  /** Offset within the data section. */
  offset: number;
  /** The tensor's bytes (a view into the file). */
  data: Uint8Array;
}

/** Block size and bytes per block of the types this reader knows. */
const LAYOUT: Record<number, { name: string; weights: number; bytes: number }> = {
  0: { name: 'F32', weights: 1, bytes: 4 },
  1: { name: 'F16', weights: 1, bytes: 2 },
  2: { name: 'Q4_0', weights: 32, bytes: 2 + 16 },
  3: { name: 'Q4_1', weights: 32, bytes: 2 + 2 + 16 },
  8: { name: 'Q8_0', weights: 32, bytes: 2 + 32 },
};

export function typeName(type: number): string {
  return LAYOUT[type]?.name ?? `type ${type}`;
}

/** IEEE binary16 → number, decoded bit by bit. */
export function decodeHalf(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * frac * Math.pow(2, -24);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1024 + frac) * Math.pow(2, exp - 25);
}

class Cursor {
  at = 0;
  private readonly view: DataView;
  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  need(n: number): void {
    if (this.at + n > this.bytes.length) throw new Error(`GGUF ends at ${this.bytes.length}, reading ${n} bytes at ${this.at}`);
  }
  u8() { this.need(1); return this.view.getUint8(this.at++); }
  i8() { this.need(1); return this.view.getInt8(this.at++); }
  u16() { this.need(2); const v = this.view.getUint16(this.at, true); this.at += 2; return v; }
  i16() { this.need(2); const v = this.view.getInt16(this.at, true); this.at += 2; return v; }
  u32() { this.need(4); const v = this.view.getUint32(this.at, true); this.at += 4; return v; }
  i32() { this.need(4); const v = this.view.getInt32(this.at, true); this.at += 4; return v; }
  f32() { this.need(4); const v = this.view.getFloat32(this.at, true); this.at += 4; return v; }
  f64() { this.need(8); const v = this.view.getFloat64(this.at, true); this.at += 8; return v; }
  u64() {
    this.need(8);
    const v = this.view.getBigUint64(this.at, true);
    this.at += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`u64 ${v} at ${this.at - 8} is too large`);
    return Number(v);
  }
  i64() { this.need(8); const v = this.view.getBigInt64(this.at, true); this.at += 8; return Number(v); }
  str() {
    const n = this.u64();
    this.need(n);
    const s = new TextDecoder('utf-8', { fatal: true }).decode(this.bytes.subarray(this.at, this.at + n));
    this.at += n;
    return s;
  }
}

function readValue(c: Cursor, type: number): unknown {
  switch (type) {
    case 0: return c.u8();
    case 1: return c.i8();
    case 2: return c.u16();
    case 3: return c.i16();
    case 4: return c.u32();
    case 5: return c.i32();
    case 6: return c.f32();
    case 7: {
      const b = c.u8();
      if (b > 1) throw new Error(`bool byte ${b}`);
      return b === 1;
    }
    case 8: return c.str();
    case 9: {
      const itemType = c.u32();
      const n = c.u64();
      const items: unknown[] = [];
      for (let i = 0; i < n; i++) items.push(readValue(c, itemType));
      return { itemType, items };
    }
    case 10: return c.u64();
    case 11: return c.i64();
    case 12: return c.f64();
    default: throw new Error(`unknown GGUF value type ${type}`);
  }
}

/** Parses a whole GGUF file and checks its structure (offsets, alignment, sizes, unique names). */
export function readGguf(bytes: Uint8Array): GgufRead {
  const c = new Cursor(bytes);
  const magic = String.fromCharCode(c.u8(), c.u8(), c.u8(), c.u8());
  if (magic !== 'GGUF') throw new Error(`magic ${JSON.stringify(magic)}, expected "GGUF"`);
  const version = c.u32();
  const nTensors = c.u64();
  const nKv = c.u64();
  const kv = new Map<string, { type: number; value: unknown }>();
  for (let i = 0; i < nKv; i++) {
    const key = c.str();
    if (kv.has(key)) throw new Error(`duplicate key ${key}`);
    const type = c.u32();
    kv.set(key, { type, value: readValue(c, type) });
  }
  const alignEntry = kv.get('general.alignment');
  const alignment = alignEntry ? (alignEntry.value as number) : 32;
  if (alignEntry && alignEntry.type !== 4) throw new Error('general.alignment must be a u32');
  const infos: Omit<GgufReadTensor, 'data'>[] = [];
  for (let i = 0; i < nTensors; i++) {
    const name = c.str();
    const nDims = c.u32();
    const ne: number[] = [];
    for (let d = 0; d < nDims; d++) ne.push(c.u64());
    const type = c.u32();
    const offset = c.u64();
    infos.push({ name, ne, type, offset });
  }
  const dataStart = Math.ceil(c.at / alignment) * alignment;
  for (let i = c.at; i < dataStart; i++) if (bytes[i] !== 0) throw new Error(`non-zero padding byte at ${i}`);
  const tensors = new Map<string, GgufReadTensor>();
  let expectedOffset = 0;
  for (const info of infos) {
    const layout = LAYOUT[info.type];
    if (!layout) throw new Error(`${info.name}: unknown type ${info.type}`);
    if (info.ne[0] % layout.weights !== 0) throw new Error(`${info.name}: ne0 ${info.ne[0]} is not a multiple of ${layout.weights}`);
    if (tensors.has(info.name)) throw new Error(`duplicate tensor ${info.name}`);
    if (info.offset !== expectedOffset) throw new Error(`${info.name}: offset ${info.offset}, expected ${expectedOffset}`);
    const count = info.ne.reduce((a, b) => a * b, 1);
    const size = (count / layout.weights) * layout.bytes;
    const begin = dataStart + info.offset;
    if (begin + size > bytes.length) throw new Error(`${info.name}: data runs past the end of the file`);
    tensors.set(info.name, { ...info, data: bytes.subarray(begin, begin + size) });
    expectedOffset += Math.ceil(size / alignment) * alignment;
  }
  if (dataStart + expectedOffset !== bytes.length) {
    throw new Error(`the file has ${bytes.length} bytes; the tensors end at ${dataStart + expectedOffset}`);
  }
  return { version, kv, tensors, order: infos.map((i) => i.name), alignment, dataStart };
}

/** A metadata value, or an error naming the key. */
export function kvValue<T = unknown>(file: GgufRead, key: string, type?: number): T {
  const e = file.kv.get(key);
  if (!e) throw new Error(`metadata key ${key} is missing`);
  if (type !== undefined && e.type !== type) throw new Error(`metadata key ${key} has type ${e.type}, expected ${type}`);
  return e.value as T;
}

/** An array value's items. */
export function kvArray<T = unknown>(file: GgufRead, key: string, itemType?: number): T[] {
  const v = kvValue<{ itemType: number; items: T[] }>(file, key, 9);
  if (itemType !== undefined && v.itemType !== itemType) throw new Error(`metadata key ${key} holds type ${v.itemType}, expected ${itemType}`);
  return v.items;
}

/**
 * The fields of a block-quantized tensor, one entry per block (blocks run along rows):
 * d (and m for Q4_1) as numbers, and the stored quants per weight in column order:
 * Q4_0/Q4_1 nibbles 0..15 (byte j holds weight j low, weight j+16 high), Q8_0 signed bytes.
 */
export function blockFields(t: GgufReadTensor): { d: Float64Array; m: Float64Array | null; q: Int16Array } {
  const layout = LAYOUT[t.type];
  if (!layout || layout.weights !== 32) throw new Error(`${t.name} is ${typeName(t.type)}, not a block type`);
  const blocks = t.data.length / layout.bytes;
  const view = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const d = new Float64Array(blocks);
  const m = t.type === 3 ? new Float64Array(blocks) : null;
  const q = new Int16Array(blocks * 32);
  for (let b = 0; b < blocks; b++) {
    const at = b * layout.bytes;
    d[b] = decodeHalf(view.getUint16(at, true));
    if (t.type === 8) {
      for (let j = 0; j < 32; j++) q[b * 32 + j] = view.getInt8(at + 2 + j);
      continue;
    }
    let qs = at + 2;
    if (m) {
      m[b] = decodeHalf(view.getUint16(at + 2, true));
      qs = at + 4;
    }
    for (let j = 0; j < 16; j++) {
      const byte = t.data[qs + j];
      q[b * 32 + j] = byte & 0x0f;
      q[b * 32 + j + 16] = byte >> 4;
    }
  }
  return { d, m, q };
}

/** Every value of a tensor, as ggml's decoders compute them (in f32), row-major [ne1, ne0]. */
export function dequantize(t: GgufReadTensor): Float32Array {
  const count = t.ne.reduce((a, b) => a * b, 1);
  const out = new Float32Array(count);
  const view = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  if (t.type === 0) {
    for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
    return out;
  }
  if (t.type === 1) {
    for (let i = 0; i < count; i++) out[i] = decodeHalf(view.getUint16(2 * i, true));
    return out;
  }
  const { d, m, q } = blockFields(t);
  for (let i = 0; i < count; i++) {
    const b = Math.floor(i / 32);
    if (t.type === 2) out[i] = Math.fround(d[b] * (q[i] - 8));
    else if (t.type === 3) out[i] = Math.fround(Math.fround(d[b] * q[i]) + m![b]);
    else out[i] = Math.fround(d[b] * q[i]);
  }
  return out;
}
