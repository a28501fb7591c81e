/**
 * safetensors, read by byte range: [u64 LE header length N][N bytes of JSON header][data area].
 * The header maps tensor names to { dtype, shape, data_offsets: [begin, end] } (offsets relative to
 * the data area) plus an optional "__metadata__" of string → string. Everything is checked before
 * any tensor is used; each failure is a CheckpointError naming the file and the tensor.
 */
import type { ByteSource } from './byte-source';
import { CheckpointError } from './checkpoint-error';
import { bfloat16BytesToFloat32, float32BytesToFloat32, halfBytesToFloat32 } from './float-convert';

export { CheckpointError } from './checkpoint-error';

/** Float dtypes this studio quantizes from. */
export type FloatDtype = 'F32' | 'F16' | 'BF16';

/** Dtypes a safetensors header may hold here: floats, and int32 in GPTQ checkpoints (packed codes, g_idx). */
export type StoredDtype = FloatDtype | 'I32';

export const DTYPE_BYTES: Record<StoredDtype, number> = { F32: 4, F16: 2, BF16: 2, I32: 4 };

export interface HeaderOptions {
  /** Accept int32 tensors (reading a GPTQ checkpoint back); by default they are refused by name. */
  allowInt32?: boolean;
}

/** A header larger than this is not a real checkpoint's (a 70B model's header is well under 1 MiB). */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export interface TensorInfo {
  name: string;
  dtype: StoredDtype;
  shape: number[];
  /** Byte range within the data area: [begin, end). */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  /** The file's name, for messages. */
  file: string;
  /** Where the data area starts in the file: 8 + header length. */
  dataOffset: number;
  tensors: Map<string, TensorInfo>;
  metadata: Record<string, string>;
}

function fail(file: string, what: string, tensor?: string): never {
  const where = tensor === undefined ? file : `${file}, tensor "${tensor}"`;
  throw new CheckpointError(`${where}: ${what}`, { file, tensor });
}

const REDOWNLOAD = 'the file is damaged or not a safetensors file: download it again';

/** Reads and checks the header of one safetensors file. */
export async function readSafetensorsHeader(source: ByteSource, options: HeaderOptions = {}): Promise<SafetensorsHeader> {
  const file = source.name;
  if (source.size < 8) {
    fail(file, `the file is ${source.size} bytes, too short for the 8-byte header length; ${REDOWNLOAD}`);
  }
  const lengthBytes = await source.read(0, 8);
  // The u64 as a BigInt: a garbage length (up to 2^64 − 1) is named exactly, never rounded to a float.
  const length = new DataView(lengthBytes.buffer, lengthBytes.byteOffset, 8).getBigUint64(0, true);
  if (length > BigInt(MAX_HEADER_BYTES)) {
    fail(file, `the header length field says ${length} bytes, more than the ${MAX_HEADER_BYTES} bytes ` +
      `any real checkpoint needs (the whole file is ${source.size} bytes); ${REDOWNLOAD}`);
  }
  const headerLength = Number(length);
  if (8 + headerLength > source.size) {
    fail(file, `the header length field says ${headerLength} bytes but the file has only ` +
      `${source.size - 8} bytes after it (truncated?); ${REDOWNLOAD}`);
  }
  const headerBytes = await source.read(8, headerLength);
  return parseSafetensorsHeader(file, headerBytes, source.size, options);
}

/** Checks a header's JSON bytes against a file of fileSize bytes. */
export function parseSafetensorsHeader(file: string, headerBytes: Uint8Array, fileSize: number, options: HeaderOptions = {}): SafetensorsHeader {
  const dataOffset = 8 + headerBytes.length;
  const dataSize = fileSize - dataOffset;
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (e) {
    fail(file, `the header is not valid JSON (${(e as Error).message}); ${REDOWNLOAD}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    fail(file, `the header is not a JSON object; ${REDOWNLOAD}`);
  }

  const metadata: Record<string, string> = {};
  const tensors = new Map<string, TensorInfo>();
  for (const [name, entry] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
        fail(file, `"__metadata__" must be an object of strings; ${REDOWNLOAD}`);
      }
      for (const [key, value] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof value !== 'string') fail(file, `"__metadata__.${key}" must be a string; ${REDOWNLOAD}`);
        metadata[key] = value;
      }
      continue;
    }
    tensors.set(name, parseTensorEntry(file, name, entry, dataSize, options.allowInt32 === true));
  }
  checkNoOverlaps(file, [...tensors.values()]);
  return { file, dataOffset, tensors, metadata };
}

function parseTensorEntry(file: string, name: string, entry: unknown, dataSize: number, allowInt32: boolean): TensorInfo {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    fail(file, `the header entry is not an object; ${REDOWNLOAD}`, name);
  }
  const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
  if (typeof dtype !== 'string') fail(file, `the header entry has no dtype; ${REDOWNLOAD}`, name);
  if (!Object.hasOwn(DTYPE_BYTES, dtype) || (dtype === 'I32' && !allowInt32)) {
    const quantized = /\.(qweight|qzeros|scales|g_idx|weight_scale|weight_packed)$/.test(name) ||
      ['I32', 'I8', 'U8', 'I4', 'U4', 'F8_E4M3', 'F8_E5M2'].includes(dtype);
    fail(file, `dtype ${dtype} is not supported: only F32, F16 and BF16 checkpoints can be quantized. ` +
      (quantized
        ? 'This looks like an already quantized checkpoint: start from the original float model instead.'
        : 'Convert the checkpoint to float32, float16 or bfloat16 first.'), name);
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(file, `the shape ${JSON.stringify(shape)} is not a list of non-negative integers; ${REDOWNLOAD}`, name);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o))) {
    fail(file, `data_offsets ${JSON.stringify(offsets)} is not a pair of integers; ${REDOWNLOAD}`, name);
  }
  const [begin, end] = offsets as number[];
  if (begin < 0 || end < begin || end > dataSize) {
    fail(file, `data_offsets [${begin}, ${end}] lie outside the data area of ${dataSize} bytes ` +
      `(truncated file?); ${REDOWNLOAD}`, name);
  }
  const elements = (shape as number[]).reduce((a, b) => a * b, 1);
  const expected = elements * DTYPE_BYTES[dtype as StoredDtype];
  if (end - begin !== expected) {
    fail(file, `shape [${(shape as number[]).join(', ')}] of ${dtype} needs ${expected} bytes but ` +
      `data_offsets [${begin}, ${end}] hold ${end - begin}; ${REDOWNLOAD}`, name);
  }
  return { name, dtype: dtype as StoredDtype, shape: shape as number[], begin, end };
}

function checkNoOverlaps(file: string, infos: TensorInfo[]): void {
  const sorted = infos.filter((t) => t.end > t.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    const cur = sorted[i];
    if (cur.begin < prev.end) {
      fail(file, `bytes [${cur.begin}, ${cur.end}) overlap tensor "${prev.name}" [${prev.begin}, ${prev.end}); ` +
        REDOWNLOAD, cur.name);
    }
  }
}

/** Element count of a shape. */
export function shapeSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** One tensor as f32, row-major in its stored shape; F16/BF16 are converted exactly. */
export async function readTensorF32(source: ByteSource, header: SafetensorsHeader, name: string): Promise<Float32Array> {
  const info = header.tensors.get(name);
  if (!info) fail(header.file, 'no such tensor in this file', name);
  const bytes = await readTensorBytes(source, header, name);
  switch (info.dtype) {
    case 'I32':
      fail(header.file, 'is int32, not a float tensor', name);
    case 'F32':
      return float32BytesToFloat32(bytes);
    case 'F16':
      return halfBytesToFloat32(bytes);
    case 'BF16':
      return bfloat16BytesToFloat32(bytes);
  }
}

/** One tensor's stored bytes, as they are in the file. */
export async function readTensorBytes(source: ByteSource, header: SafetensorsHeader, name: string): Promise<Uint8Array> {
  const info = header.tensors.get(name);
  if (!info) fail(header.file, 'no such tensor in this file', name);
  return source.read(header.dataOffset + info.begin, info.end - info.begin);
}
