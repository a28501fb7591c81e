/**
 * Writes safetensors as a stream: the header first (sizes are known from dtypes and shapes), then
 * each tensor's bytes produced on demand, so a model is never held whole in memory twice.
 */

export type WriteDtype = 'F32' | 'F16' | 'BF16' | 'I32';

const BYTES: Record<WriteDtype, number> = { F32: 4, F16: 2, BF16: 2, I32: 4 };

export interface TensorEntry {
  name: string;
  dtype: WriteDtype;
  shape: number[];
  /** The tensor's little-endian bytes, made when the stream reaches it: whole, or in pieces. */
  bytes(): TensorBytes;
}

/**
 * A tensor's bytes as a writer takes them: whole, or as pieces in order (a large tensor converted a
 * piece at a time, so that no whole copy of it is held).
 */
export type TensorBytes = Promise<Uint8Array> | Uint8Array | AsyncIterable<Uint8Array>;

/**
 * The pieces of `produced`, checked to add up to `expected` bytes; `what` names the tensor in the
 * RangeError thrown when they do not (after the last piece).
 */
export async function* checkedPieces(produced: TensorBytes, expected: number, what: () => string): AsyncGenerator<Uint8Array> {
  let total = 0;
  if (produced instanceof Uint8Array || produced instanceof Promise) {
    const bytes = await produced;
    total = bytes.length;
    if (total === expected) yield bytes;
  } else {
    for await (const piece of produced) {
      total += piece.length;
      if (total > expected) break;
      yield piece;
    }
  }
  if (total !== expected) throw new RangeError(`${what()}: ${total}${total > expected ? ' or more' : ''} bytes produced, ${expected} expected`);
}

/** A file of the export: its name, its size, and its bytes as a stream of chunks. */
export interface ExportFile {
  name: string;
  size: number;
  chunks(): AsyncIterable<Uint8Array>;
  /** Made when first read or sized (lateTextFile): asking its size makes it. */
  late?: boolean;
}

export function tensorBytes(dtype: WriteDtype, shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1) * BYTES[dtype];
}

/** The 8-byte length and the JSON header, padded with spaces to a multiple of 8 bytes. */
function header(entries: TensorEntry[], metadata: Record<string, string>): Uint8Array {
  const json: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const t of entries) {
    if (Object.hasOwn(json, t.name)) throw new RangeError(`tensor "${t.name}" is written twice`);
    const size = tensorBytes(t.dtype, t.shape);
    json[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  let text = JSON.stringify(json);
  const utf8 = () => new TextEncoder().encode(text);
  while ((8 + utf8().length) % 8 !== 0) text += ' ';
  const body = utf8();
  const out = new Uint8Array(8 + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, body.length, true);
  view.setUint32(4, 0, true);
  out.set(body, 8);
  return out;
}

/** A safetensors file streamed from its entries; each tensor's bytes are checked against its shape. */
export function safetensorsFile(name: string, entries: TensorEntry[], metadata: Record<string, string> = { format: 'pt' }): ExportFile {
  const head = header(entries, metadata);
  const size = head.length + entries.reduce((s, t) => s + tensorBytes(t.dtype, t.shape), 0);
  return {
    name,
    size,
    async *chunks() {
      yield head;
      for (const t of entries) {
        yield* checkedPieces(t.bytes(), tensorBytes(t.dtype, t.shape), () => `tensor "${t.name}" (${t.dtype} [${t.shape.join(', ')}])`);
      }
    },
  };
}

/** A small file from text. */
export function textFile(name: string, text: string): ExportFile {
  const bytes = new TextEncoder().encode(text);
  return {
    name,
    size: bytes.length,
    async *chunks() {
      yield bytes;
    },
  };
}

/**
 * A text file whose content is made when the file is first read or sized (so after the files
 * before it in a folder are written), not when the list of files is made.
 */
export function lateTextFile(name: string, make: () => string): ExportFile {
  let bytes: Uint8Array | null = null;
  const made = () => (bytes ??= new TextEncoder().encode(make()));
  return {
    name,
    late: true,
    get size() {
      return made().length;
    },
    async *chunks() {
      yield made();
    },
  };
}

/** Little-endian bytes of a typed array (a view, no copy, on little-endian hosts). */
export function bytesOf(a: Uint32Array | Int32Array | Uint16Array | Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}
