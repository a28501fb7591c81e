/**
 * Writes GGUF v3 as a stream (ggml/include/gguf.h, ggml/src/gguf.cpp): the header (magic,
 * version, counts, metadata, tensor infos) is computed from names, types and shapes alone, then
 * each tensor's bytes are produced when the stream reaches it and padded to the alignment, so a
 * model is never held whole in memory twice. Everything is little-endian.
 */
import { checkedPieces, type ExportFile, type TensorBytes } from '../safetensors-writer';
import { GGML_TYPES, GGUF_ALIGNMENT, GGUF_MAGIC, GGUF_VALUE_TYPE, GGUF_VERSION, ggmlTensorBytes, type GgmlType } from './constants';

type ScalarType = 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'f32' | 'u64' | 'i64' | 'f64';

/** A metadata value with its GGUF type (llama.cpp checks the type of every key it reads). */
export type GgufValue =
  | { type: ScalarType; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'array'; itemType: 'string'; value: readonly string[] }
  | { type: 'array'; itemType: ScalarType; value: ArrayLike<number> }
  | { type: 'array'; itemType: 'bool'; value: readonly boolean[] };

export interface GgufKv {
  key: string;
  value: GgufValue;
}

export const gguf = {
  u32: (value: number): GgufValue => ({ type: 'u32', value }),
  i32: (value: number): GgufValue => ({ type: 'i32', value }),
  f32: (value: number): GgufValue => ({ type: 'f32', value }),
  bool: (value: boolean): GgufValue => ({ type: 'bool', value }),
  string: (value: string): GgufValue => ({ type: 'string', value }),
  strings: (value: readonly string[]): GgufValue => ({ type: 'array', itemType: 'string', value }),
  f32s: (value: ArrayLike<number>): GgufValue => ({ type: 'array', itemType: 'f32', value }),
  i32s: (value: ArrayLike<number>): GgufValue => ({ type: 'array', itemType: 'i32', value }),
};

export interface GgufTensor {
  /** Unique, e.g. "blk.0.attn_q.weight". */
  name: string;
  type: GgmlType;
  /** Dimensions, ne[0] contiguous: a Hugging Face [out, in] weight is ne = [in, out]. */
  ne: number[];
  /** The tensor's bytes, made when the stream reaches it: whole, or in pieces. */
  bytes(): TensorBytes;
}

const SCALAR_BYTES: Record<ScalarType, number> = { u8: 1, i8: 1, u16: 2, i16: 2, u32: 4, i32: 4, f32: 4, u64: 8, i64: 8, f64: 8 };

/** A growable little-endian byte buffer. */
class ByteBuilder {
  private buf = new Uint8Array(1024);
  private view = new DataView(this.buf.buffer);
  length = 0;
  private readonly utf8 = new TextEncoder();

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  scalar(type: ScalarType, v: number): void {
    const integer = type !== 'f32' && type !== 'f64';
    if (integer && !Number.isSafeInteger(v)) throw new RangeError(`a GGUF ${type} must be an integer, got ${v}`);
    if (!Number.isFinite(v)) throw new RangeError(`a GGUF ${type} must be finite, got ${v}`);
    this.room(SCALAR_BYTES[type]);
    const at = this.length;
    const d = this.view;
    switch (type) {
      case 'u8': d.setUint8(at, v); break;
      case 'i8': d.setInt8(at, v); break;
      case 'u16': d.setUint16(at, v, true); break;
      case 'i16': d.setInt16(at, v, true); break;
      case 'u32': d.setUint32(at, v, true); break;
      case 'i32': d.setInt32(at, v, true); break;
      case 'f32': d.setFloat32(at, v, true); break;
      case 'u64': d.setBigUint64(at, BigInt(v), true); break;
      case 'i64': d.setBigInt64(at, BigInt(v), true); break;
      case 'f64': d.setFloat64(at, v, true); break;
    }
    this.length += SCALAR_BYTES[type];
  }

  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  /** A u64 byte length, then UTF-8 without a terminating NUL. */
  string(s: string): void {
    const b = this.utf8.encode(s);
    this.scalar('u64', b.length);
    this.bytes(b);
  }

  padTo(alignment: number): void {
    const pad = (alignment - (this.length % alignment)) % alignment;
    this.room(pad);
    this.buf.fill(0, this.length, this.length + pad);
    this.length += pad;
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

function writeValue(out: ByteBuilder, v: GgufValue): void {
  out.scalar('u32', GGUF_VALUE_TYPE[v.type]);
  switch (v.type) {
    case 'bool':
      out.scalar('u8', v.value ? 1 : 0);
      return;
    case 'string':
      out.string(v.value);
      return;
    case 'array':
      out.scalar('u32', GGUF_VALUE_TYPE[v.itemType]);
      out.scalar('u64', v.value.length);
      if (v.itemType === 'string') for (const s of v.value as readonly string[]) out.string(s);
      else if (v.itemType === 'bool') for (const b of v.value as readonly boolean[]) out.scalar('u8', b ? 1 : 0);
      else for (let i = 0; i < v.value.length; i++) out.scalar(v.itemType, (v.value as ArrayLike<number>)[i]);
      return;
    default:
      out.scalar(v.type, v.value);
  }
}

const padded = (n: number, alignment: number) => Math.ceil(n / alignment) * alignment;

/** The header bytes (padded to the alignment) and each tensor's size and padded size. */
function header(kvs: readonly GgufKv[], tensors: readonly GgufTensor[], alignment: number) {
  const out = new ByteBuilder();
  out.bytes(new TextEncoder().encode(GGUF_MAGIC));
  out.scalar('u32', GGUF_VERSION);
  out.scalar('u64', tensors.length);
  out.scalar('u64', kvs.length);
  const keys = new Set<string>();
  for (const kv of kvs) {
    if (keys.has(kv.key)) throw new RangeError(`metadata key "${kv.key}" is written twice`);
    keys.add(kv.key);
    out.string(kv.key);
    writeValue(out, kv.value);
  }
  const names = new Set<string>();
  const sizes: number[] = [];
  let offset = 0;
  for (const t of tensors) {
    if (names.has(t.name)) throw new RangeError(`tensor "${t.name}" is written twice`);
    names.add(t.name);
    if (t.ne.length < 1 || t.ne.length > 4 || !t.ne.every((d) => Number.isSafeInteger(d) && d > 0)) {
      throw new RangeError(`tensor "${t.name}": ne [${t.ne.join(', ')}] must be 1 to 4 positive integers`);
    }
    const size = ggmlTensorBytes(t.type, t.ne);
    out.string(t.name);
    out.scalar('u32', t.ne.length);
    for (const d of t.ne) out.scalar('u64', d);
    out.scalar('u32', GGML_TYPES[t.type].id);
    out.scalar('u64', offset);
    sizes.push(size);
    offset += padded(size, alignment);
  }
  out.padTo(alignment);
  return { head: out.result(), sizes, dataBytes: offset };
}

/**
 * A GGUF file streamed from its metadata and tensors; each tensor's bytes are checked against its
 * type and shape. Throws (RangeError) at once on a repeated key or tensor name, a shape the type's
 * blocks do not divide, or a value its type cannot hold.
 */
export function ggufFile(name: string, kvs: readonly GgufKv[], tensors: readonly GgufTensor[], alignment = GGUF_ALIGNMENT): ExportFile {
  if (!(Number.isInteger(alignment) && alignment > 0 && (alignment & (alignment - 1)) === 0)) {
    throw new RangeError(`the alignment must be a power of two, got ${alignment}`);
  }
  const withAlignment = alignment === GGUF_ALIGNMENT ? kvs : [...kvs, { key: 'general.alignment', value: { type: 'u32', value: alignment } } as GgufKv];
  const { head, sizes, dataBytes } = header(withAlignment, tensors, alignment);
  return {
    name,
    size: head.length + dataBytes,
    async *chunks() {
      yield head;
      for (const [i, t] of tensors.entries()) {
        yield* checkedPieces(t.bytes(), sizes[i], () => `tensor "${t.name}" (${t.type} [${t.ne.join(', ')}])`);
        const pad = padded(sizes[i], alignment) - sizes[i];
        if (pad > 0) yield new Uint8Array(pad);
      }
    },
  };
}
