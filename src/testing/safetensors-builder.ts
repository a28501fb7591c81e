/**
 * Builds safetensors bytes in memory for tests: well-formed files from tensors, or corrupt ones
 * from a hand-written header object (any JSON, any offsets).
 */
export interface BuildTensor {
  name: string;
  dtype: string;
  shape: number[];
  /** Raw little-endian bytes; zeros of the right length when omitted (F32/F16/BF16/I32 sizes). */
  data?: Uint8Array;
}

const BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2, I32: 4, I8: 1, U8: 1, F64: 8, I64: 8 };

/** [u64 LE length][header bytes][data]. */
export function assembleSafetensors(header: Uint8Array | string, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const h = typeof header === 'string' ? new TextEncoder().encode(header) : header;
  const out = new Uint8Array(8 + h.length + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, h.length, true);
  view.setUint32(4, 0, true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

/** A well-formed file holding the tensors back to back, in order. */
export function buildSafetensors(tensors: BuildTensor[], metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const t of tensors) {
    const size = t.data?.length ?? t.shape.reduce((a, b) => a * b, 1) * (BYTES[t.dtype] ?? 4);
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + size] };
    parts.push(t.data ?? new Uint8Array(size));
    offset += size;
  }
  const data = new Uint8Array(offset);
  let at = 0;
  for (const p of parts) {
    data.set(p, at);
    at += p.length;
  }
  return assembleSafetensors(JSON.stringify(header), data);
}

/** f32 values as little-endian bytes. */
export function f32Bytes(values: ArrayLike<number>): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

/** 16-bit patterns (F16 or BF16) as little-endian bytes. */
export function u16Bytes(patterns: ArrayLike<number>): Uint8Array {
  return new Uint8Array(Uint16Array.from(patterns).buffer);
}
