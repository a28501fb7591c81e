/**
 * A quantized linear as a run keeps it on the host until the end: its integer codes packed at
 * `bits` per weight, its scales (rounded to F16 when the export is F16), zero points and g_idx;
 * never the dequantized weights. W [rows = out features N, cols = in features K], G groups.
 *
 * Codes are packed row by row: row n is one little-endian bit stream of K values of `bits` bits
 * (value k at bits [k·bits, (k+1)·bits) of the row, the stream rule of GPTQ's qweight, docs
 * gptq-reference.md §2.2), padded with zeros to whole u32 words. Rows rather than qweight's
 * columns, so that the GPU can dequantize a window of rows at a time under the binding limit
 * (src/gpu/kernels/dequant.ts) and every bit width and shape packs, 5–7-bit runs and in-features
 * that are not a multiple of 32 included; the exporters unpack a linear and pack it their way.
 *
 * The dequantized weights are Q[n, k] = scale[g_idx[k], n] · (code[n, k] − zero[g_idx[k], n]) in
 * f32: the engine's own formula (shaders/common.wgsl dequant) and a file reader's
 * (src/core/export/gptq-linear.ts unpackLinear), so they are bit for bit the weights the run
 * computed and the file holds.
 */
import type { GptqResult, QuantResult } from './types';

/** u32 words holding one row of `cols` codes of `bits` bits. */
export function wordsPerRow(cols: number, bits: number): number {
  return Math.ceil((cols * bits) / 32);
}

/** codes [rows, cols] (each below 2^bits) packed row by row: [rows, wordsPerRow(cols, bits)] u32. */
export function packRows(codes: ArrayLike<number>, rows: number, cols: number, bits: number): Uint32Array {
  if (!(Number.isInteger(bits) && bits >= 1 && bits <= 8)) throw new RangeError(`bits must be 1..8, got ${bits}`);
  if (codes.length !== rows * cols) throw new RangeError(`expected ${rows}×${cols} codes, got ${codes.length}`);
  const wpr = wordsPerRow(cols, bits);
  const words = new Uint32Array(rows * wpr);
  const limit = 2 ** bits;
  for (let n = 0; n < rows; n++) {
    const base = n * wpr;
    for (let k = 0; k < cols; k++) {
      const v = codes[n * cols + k];
      if (!(v >= 0 && v < limit && Number.isInteger(v))) throw new RangeError(`code ${v} at [${n}, ${k}] does not fit in ${bits} bits`);
      const bit = k * bits;
      const w = base + (bit >>> 5);
      const shift = bit & 31;
      words[w] |= v << shift;
      if (shift + bits > 32) words[w + 1] |= v >>> (32 - shift);
    }
  }
  return words;
}

/** codes [rows, cols] from packRows' words. */
export function unpackRows(words: Uint32Array, rows: number, cols: number, bits: number): Uint8Array {
  const wpr = wordsPerRow(cols, bits);
  if (words.length !== rows * wpr) throw new RangeError(`expected ${rows}×${wpr} words, got ${words.length}`);
  const codes = new Uint8Array(rows * cols);
  const mask = (1 << bits) - 1;
  for (let n = 0; n < rows; n++) {
    const base = n * wpr;
    for (let k = 0; k < cols; k++) {
      const bit = k * bits;
      const w = base + (bit >>> 5);
      const shift = bit & 31;
      let v = words[w] >>> shift;
      if (shift + bits > 32) v |= words[w + 1] << (32 - shift);
      codes[n * cols + k] = v & mask;
    }
  }
  return codes;
}

/**
 * The last codes and weights unpacked, so that reading a linear element by element (r.codes[i] in
 * a loop) unpacks it once; one linear of each at most is held this way.
 */
let lastCodes: { of: PackedQuant; codes: Uint8Array } | null = null;
let lastQ: { of: PackedQuant; Q: Float32Array } | null = null;

/**
 * One quantized linear, packed (see the module comment). It is a QuantResult: `codes` and `Q` are
 * made on demand from the packed codes (read-only: the last of each is shared with later readers),
 * so the exporters and every reader of a QuantResult take it as it is.
 */
export class PackedQuant implements QuantResult {
  /** [rows, wordsPerRow(cols, bits)] */
  readonly words: Uint32Array;

  constructor(
    readonly rows: number,
    readonly cols: number,
    readonly bits: number,
    codes: ArrayLike<number> | Uint32Array,
    /** [groups, rows], as kept (F16 values with an F16 export). */
    readonly scales: Float32Array,
    /** [groups, rows] */
    readonly zeros: Uint8Array,
    /** [cols] */
    readonly gIdx: Int32Array,
    readonly groups: number,
    /** True when `codes` are already packed words (packRows), not one code per element. */
    packed = false,
  ) {
    if (scales.length !== groups * rows || zeros.length !== groups * rows) throw new RangeError(`scales and zeros must be [${groups}, ${rows}]`);
    if (gIdx.length !== cols) throw new RangeError(`g_idx must have ${cols} entries, got ${gIdx.length}`);
    this.words = packed ? (codes as Uint32Array) : packRows(codes, rows, cols, bits);
    if (this.words.length !== rows * wordsPerRow(cols, bits)) throw new RangeError(`expected ${rows}×${wordsPerRow(cols, bits)} code words, got ${this.words.length}`);
  }

  /** A result kept as it is: codes packed, scales as f32 (already F16 values when rounded), zeros and g_idx copied. */
  static of(r: QuantResult, bits: number): PackedQuant {
    return new PackedQuant(r.rows, r.cols, bits, r.codes, Float32Array.from(r.scales), Uint8Array.from(r.zeros), Int32Array.from(r.gIdx), r.groups);
  }

  /** Integer codes [rows, cols] (unpacked on demand). */
  get codes(): Uint8Array {
    if (lastCodes?.of !== this) lastCodes = { of: this, codes: unpackRows(this.words, this.rows, this.cols, this.bits) };
    return lastCodes.codes;
  }

  /** Dequantized weights [rows, cols] in f32 (made on demand). */
  get Q(): Float32Array {
    if (lastQ?.of !== this) lastQ = { of: this, Q: dequantize(this) };
    return lastQ.Q;
  }

  /** Host bytes this linear holds. */
  get bytes(): number {
    return this.words.byteLength + this.scales.byteLength + this.zeros.byteLength + this.gIdx.byteLength;
  }
}

/** GPTQ's packed result: the codes and grid, with the loss, damping and permutation the report and export read. */
export class PackedGptq extends PackedQuant implements GptqResult {
  perm: Int32Array | null = null;
  loss = 0;
  percDampUsed = 0;
  damp = 0;
  fellBackToRtn = false;
  deadColumns: number[] = [];
  /** Damping attempts made, and the engine's seconds per stage, when the engine gave them. */
  dampAttempts?: number;
  seconds?: Record<string, number>;

  static override of(r: GptqResult & { dampAttempts?: number; seconds?: object }, bits: number): PackedGptq {
    const p = new PackedGptq(r.rows, r.cols, bits, r.codes, Float32Array.from(r.scales), Uint8Array.from(r.zeros), Int32Array.from(r.gIdx), r.groups);
    p.perm = r.perm && Int32Array.from(r.perm);
    p.loss = r.loss;
    p.percDampUsed = r.percDampUsed;
    p.damp = r.damp;
    p.fellBackToRtn = r.fellBackToRtn;
    p.deadColumns = [...r.deadColumns];
    p.dampAttempts = r.dampAttempts;
    p.seconds = r.seconds ? { ...(r.seconds as Record<string, number>) } : undefined;
    return p;
  }
}

/** Q [rows, cols] = scale · (code − zero) per element, in f32 (see the module comment). */
export function dequantize(r: PackedQuant): Float32Array {
  const { rows: N, cols: K, bits, words } = r;
  const wpr = wordsPerRow(K, bits);
  const mask = (1 << bits) - 1;
  const Q = new Float32Array(N * K);
  for (let n = 0; n < N; n++) {
    const base = n * wpr;
    for (let k = 0; k < K; k++) {
      const bit = k * bits;
      const w = base + (bit >>> 5);
      const shift = bit & 31;
      let v = words[w] >>> shift;
      if (shift + bits > 32) v |= words[w + 1] << (32 - shift);
      const g = r.gIdx[k] * N + n;
      Q[n * K + k] = r.scales[g] * ((v & mask) - r.zeros[g]);
    }
  }
  return Q;
}
