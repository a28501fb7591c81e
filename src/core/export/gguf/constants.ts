/**
 * GGUF and ggml constants the export writes, with their sources in llama.cpp (tag v0.4.0 as
 * node-llama-cpp 3.21.1 bundles it): ggml/include/ggml.h (type ids), ggml/src/ggml-common.h
 * (block layouts), gguf-py/gguf/constants.py (GGML_QUANT_SIZES), include/llama.h (llama_ftype,
 * token types), ggml/include/gguf.h (value types, alignment).
 */

export const GGUF_MAGIC = 'GGUF';
export const GGUF_VERSION = 3;
/** Data alignment when general.alignment is absent (gguf.h GGUF_DEFAULT_ALIGNMENT). */
export const GGUF_ALIGNMENT = 32;
/** GGML_QNT_VERSION, written as general.quantization_version in quantized files. */
export const GGML_QUANTIZATION_VERSION = 2;

/** The ggml tensor types the export writes. */
export type GgmlType = 'F32' | 'F16' | 'Q4_0' | 'Q4_1' | 'Q8_0';
/** The block types a GPTQ grid maps onto exactly. */
export type GgufQuantType = 'Q4_0' | 'Q4_1' | 'Q8_0';

export interface GgmlTypeInfo {
  /** enum ggml_type */
  id: number;
  /** Weights per block along ne0. */
  blockSize: number;
  /** Bytes per block. */
  blockBytes: number;
}

export const GGML_TYPES: Record<GgmlType, GgmlTypeInfo> = {
  F32: { id: 0, blockSize: 1, blockBytes: 4 },
  F16: { id: 1, blockSize: 1, blockBytes: 2 },
  Q4_0: { id: 2, blockSize: 32, blockBytes: 18 }, // f16 d, 16 bytes of nibbles
  Q4_1: { id: 3, blockSize: 32, blockBytes: 20 }, // f16 d, f16 m, 16 bytes of nibbles
  Q8_0: { id: 8, blockSize: 32, blockBytes: 34 }, // f16 d, 32 int8
};

/** llama_ftype of a file whose linears are mostly of the given type (include/llama.h). */
export const LLAMA_FTYPE: Record<GgufQuantType | 'F32' | 'F16', number> = { F32: 0, F16: 1, Q4_0: 2, Q4_1: 3, Q8_0: 7 };

/** Bytes of a tensor of the given type whose dimensions are ne (ne[0] contiguous). */
export function ggmlTensorBytes(type: GgmlType, ne: readonly number[]): number {
  const t = GGML_TYPES[type];
  if (ne[0] % t.blockSize !== 0) throw new RangeError(`${type} needs ne0 to be a multiple of ${t.blockSize}, got ${ne[0]}`);
  const rows = ne.slice(1).reduce((a, b) => a * b, 1);
  return (ne[0] / t.blockSize) * t.blockBytes * rows;
}

/** enum gguf_type: the value types of metadata. */
export const GGUF_VALUE_TYPE = {
  u8: 0, i8: 1, u16: 2, i16: 3, u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9, u64: 10, i64: 11, f64: 12,
} as const;

/** llama_token_type (include/llama.h). */
export const TOKEN_TYPE = { normal: 1, unknown: 2, control: 3, userDefined: 4, unused: 5, byte: 6 } as const;
