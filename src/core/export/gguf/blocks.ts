/**
 * GGUF tensor data from a run: the block types Q4_0, Q4_1 and Q8_0 packed from the run's own
 * integer codes, scales and zeros (never re-derived from dequantized weights), and F16/F32 rows.
 * Layouts from ggml/src/ggml-common.h (block_q4_0, block_q4_1, block_q8_0); each block holds 32
 * consecutive weights of a row along the input dimension:
 *   Q4_0  f16 d, 16 bytes qs      w = d·(q − 8)          byte j = q[j] | q[j + 16] << 4
 *   Q4_1  f16 d, f16 m, 16 bytes  w = d·q + m            same nibble order
 *   Q8_0  f16 d, 32 int8          w = d·q
 * From GPTQ's ŵ = s·(q − z): Q4_0 needs z = 8 and Q8_0 z = 128 (symmetric grids), with d = s in
 * F16; Q4_1 takes d = s in F16 and m = −d·z rounded to F16. All 32 columns of a block must share
 * one group in their row (group sizes a multiple of 32, one group per row, or static groups).
 */
import { floatToHalf, halfToFloat } from '../../model/float-convert';
import { GGML_TYPES, type GgufQuantType } from './constants';

/** A quantized weight [rows = out features, cols = in features] as the run produced it. */
export interface QuantizedRows {
  rows: number;
  cols: number;
  /** Integer codes [rows, cols], original column order. */
  codes: Uint8Array;
  /** Scales [groups, rows]. */
  scales: ArrayLike<number>;
  /** Integer zero points [groups, rows]. */
  zeros: ArrayLike<number>;
  /** Group of each column [cols]. */
  gIdx: ArrayLike<number>;
}

export const QK = 32;

/**
 * Why a quantization cannot be written as `type` exactly, or null when it can: the grid's zero
 * points and code range, and every block of 32 columns within one group.
 */
export function blockMisfit(type: GgufQuantType, r: Pick<QuantizedRows, 'cols' | 'gIdx'>): string | null {
  if (r.cols % QK !== 0) return `in-features ${r.cols} is not a multiple of ${QK}`;
  for (let c0 = 0; c0 < r.cols; c0 += QK) {
    for (let c = c0 + 1; c < c0 + QK; c++) {
      if (r.gIdx[c] !== r.gIdx[c0]) {
        return `columns ${c0} and ${c} share a ${type} block but belong to groups ${r.gIdx[c0]} and ${r.gIdx[c]} (act-order without static groups)`;
      }
    }
  }
  return null;
}

/** The d of a block as an F16 bit pattern; refuses what F16 cannot hold. */
function halfOf(x: number, what: string): number {
  const h = floatToHalf(x);
  if ((h & 0x7c00) === 0x7c00) throw new RangeError(`${what} ${x} does not fit in F16`);
  return h;
}

/**
 * The blocks of `type` for every row of r, rows taken in `rowOrder` (output row i is r's row
 * rowOrder[i]; identity when null). Bytes: rows × cols/32 blocks of GGML_TYPES[type].blockBytes.
 * Throws a RangeError when the grid does not map onto the type exactly (see blockMisfit; a Q4_0
 * zero other than 8, a Q8_0 zero other than 128, a code out of range, a scale F16 cannot hold).
 */
export function encodeBlocks(type: GgufQuantType, r: QuantizedRows, rowOrder: ArrayLike<number> | null = null): Uint8Array {
  const { rows, cols, codes, scales, zeros, gIdx } = r;
  if (codes.length !== rows * cols || gIdx.length !== cols) throw new RangeError(`codes must be [${rows}, ${cols}] and g_idx [${cols}]`);
  const why = blockMisfit(type, r);
  if (why) throw new RangeError(`${type}: ${why}`);
  const groups = scales.length / rows;
  if (!Number.isInteger(groups) || zeros.length !== scales.length) throw new RangeError(`scales and zeros must both be [groups, ${rows}]`);
  const { blockBytes } = GGML_TYPES[type];
  const nb = cols / QK;
  const out = new Uint8Array(rows * nb * blockBytes);
  const view = new DataView(out.buffer);
  const maxq = type === 'Q8_0' ? 255 : 15;
  for (let i = 0; i < rows; i++) {
    const row = rowOrder ? rowOrder[i] : i;
    for (let b = 0; b < nb; b++) {
      const c0 = b * QK;
      const g = gIdx[c0];
      const s = scales[g * rows + row];
      const z = zeros[g * rows + row];
      const at = (i * nb + b) * blockBytes;
      const q = codes.subarray(row * cols + c0, row * cols + c0 + QK);
      for (let j = 0; j < QK; j++) {
        if (q[j] > maxq) throw new RangeError(`${type}: code ${q[j]} at row ${row}, column ${c0 + j} is above ${maxq}`);
      }
      const d = halfOf(s, `${type}: the scale of row ${row}, group ${g},`);
      view.setUint16(at, d, true);
      if (type === 'Q8_0') {
        if (z !== 128) throw new RangeError(`Q8_0: row ${row}, group ${g} has zero point ${z}; Q8_0 needs the symmetric 128`);
        for (let j = 0; j < QK; j++) view.setInt8(at + 2 + j, q[j] - 128);
        continue;
      }
      let qs = at + 2;
      if (type === 'Q4_0') {
        if (z !== 8) throw new RangeError(`Q4_0: row ${row}, group ${g} has zero point ${z}; Q4_0 needs the symmetric 8`);
      } else {
        view.setUint16(at + 2, halfOf(-halfToFloat(d) * z, `Q4_1: the offset of row ${row}, group ${g},`), true);
        qs = at + 4;
      }
      for (let j = 0; j < QK / 2; j++) out[qs + j] = q[j] | (q[j + QK / 2] << 4);
    }
  }
  return out;
}

/** Rows of a [rows, cols] matrix as little-endian F32, in `rowOrder` (identity when null). */
export function f32Rows(values: Float32Array, rows: number, cols: number, rowOrder: ArrayLike<number> | null = null): Uint8Array {
  if (values.length !== rows * cols) throw new RangeError(`expected ${rows}×${cols} values, got ${values.length}`);
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const r = rowOrder ? rowOrder[i] : i;
    out.set(values.subarray(r * cols, (r + 1) * cols), i * cols);
  }
  for (const v of out) if (!Number.isFinite(v)) throw new RangeError(`a value ${v} cannot be written: the file would hold NaN or Inf`);
  return new Uint8Array(out.buffer);
}

/** Rows of a [rows, cols] matrix as little-endian F16 (round half to even), in `rowOrder`. */
export function f16Rows(values: Float32Array, rows: number, cols: number, rowOrder: ArrayLike<number> | null = null): Uint8Array {
  if (values.length !== rows * cols) throw new RangeError(`expected ${rows}×${cols} values, got ${values.length}`);
  const out = new Uint16Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const r = rowOrder ? rowOrder[i] : i;
    for (let c = 0; c < cols; c++) {
      const h = floatToHalf(values[r * cols + c]);
      if ((h & 0x7c00) === 0x7c00) throw new RangeError(`the value ${values[r * cols + c]} (row ${r}, column ${c}) does not fit in F16; write this tensor as F32`);
      out[i * cols + c] = h;
    }
  }
  return new Uint8Array(out.buffer);
}

/**
 * llama.cpp's "normal" RoPE rotates dimensions (2i, 2i+1) of a head; Hugging Face's rotate_half
 * rotates (i, i + d/2). For Llama-layout q/k weights the rows are reordered within each head
 * (convert_hf_to_gguf.py LlamaModel.permute): new row h·d + 2i + t = old row h·d + t·d/2 + i.
 * Returns order[newRow] = oldRow for `heads` heads of `headDim` rows.
 */
export function ropeRowOrder(heads: number, headDim: number): Int32Array {
  if (headDim % 2 !== 0) throw new RangeError(`the head size ${headDim} must be even for RoPE`);
  const order = new Int32Array(heads * headDim);
  const half = headDim / 2;
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < half; i++) {
      for (let t = 0; t < 2; t++) order[h * headDim + 2 * i + t] = h * headDim + t * half + i;
    }
  }
  return order;
}
