/**
 * Row-major matrices on the GPU, and the row windows through which kernels bind them.
 *
 * A binding may not exceed maxStorageBufferBindingSize (128 MiB on some adapters), so kernels
 * that touch a whole matrix are dispatched once per window of rows. Rows are padded to 256 bytes
 * (LD_ALIGN f32 elements, twice as many 16-bit ones), so every window starts at an aligned offset.
 */

/** Leading dimension alignment of f32 matrices, in elements (256 bytes). */
export const LD_ALIGN = 64;

/**
 * How a matrix's elements are stored: f32, or a 16-bit float (F16, BF16) two to a u32 word, the
 * element of even index in the word's low half (little-endian order). Kernels that read a 16-bit
 * matrix take its format as an override (FORMAT_CODE; shaders/common.wgsl element_value).
 */
export type ElementFormat = 'f32' | 'f16' | 'bf16';

/** The override value of each format in WGSL (shaders/common.wgsl element_value). */
export const FORMAT_CODE: Readonly<Record<ElementFormat, number>> = { f32: 0, f16: 1, bf16: 2 };

/** Bytes of one element of a matrix (f32 when it names no format). */
export function elementBytes(m: { format?: ElementFormat }): number {
  return m.format === 'f16' || m.format === 'bf16' ? 2 : 4;
}

/** Leading dimension of a matrix of `cols` elements of `format`: a multiple of 256 bytes. */
export function formatLd(cols: number, format: ElementFormat = 'f32'): number {
  return paddedLd(cols, (LD_ALIGN * 4) / elementBytes({ format }));
}

/** Storage binding offsets must be multiples of this (the WebGPU maximum of the limit). */
const OFFSET_ALIGN = 256;
/**
 * Rows per window at most: kernels dispatch one workgroup row per matrix row along y, and
 * maxComputeWorkgroupsPerDimension is 65535 on every adapter.
 */
export const MAX_WINDOW_ROWS = 65535;

export interface GpuMatrix {
  buffer: GPUBuffer;
  rows: number;
  cols: number;
  /** Elements (of `format`, or f32 or u32) per row in memory. */
  ld: number;
  /** How the elements are stored; absent: 4-byte elements (f32 or u32). */
  format?: ElementFormat;
}

export function paddedLd(cols: number, align = LD_ALIGN): number {
  return Math.max(align, Math.ceil(cols / align) * align);
}

export function matrixBytes(rows: number, ld: number, format: ElementFormat = 'f32'): number {
  return Math.max(4, rows * ld * elementBytes({ format }));
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

export interface RowChunk {
  /** First row of the window. */
  r0: number;
  /** Rows in the window. */
  n: number;
}

/**
 * Splits rows [from, to) into windows that every one of `matrices` can bind within `limitBytes`
 * and at an aligned offset. All matrices share the row index (e.g. W, Err and codes).
 */
export function rowChunks(
  from: number,
  to: number,
  matrices: { ld: number; format?: ElementFormat }[],
  limitBytes: number,
  /** Window sizes and starts are multiples of this many rows (e.g. a block size). */
  multiple = 1,
): RowChunk[] {
  let align = multiple;
  let maxRows = Infinity;
  for (const m of matrices) {
    const rowBytes = m.ld * elementBytes(m);
    const a = OFFSET_ALIGN / gcd(rowBytes, OFFSET_ALIGN);
    align = (align * a) / gcd(align, a);
    maxRows = Math.min(maxRows, Math.floor(limitBytes / rowBytes));
  }
  maxRows = Math.min(maxRows, MAX_WINDOW_ROWS);
  if (maxRows < align) throw new RangeError(`a row of ${Math.max(...matrices.map((m) => m.ld))} elements does not fit a ${limitBytes}-byte binding`);
  const chunk = Math.floor(maxRows / align) * align;
  const out: RowChunk[] = [];
  if (to <= from) return out;
  // Windows start on aligned rows: the first one may begin below `from`.
  for (let r0 = Math.floor(from / align) * align; r0 < to; r0 += chunk) {
    out.push({ r0, n: Math.min(chunk, to - r0) });
  }
  return out;
}

/** The binding of rows [r0, r0 + n) of `m`. */
export function rowWindow(m: { buffer: GPUBuffer; ld: number; format?: ElementFormat }, r0: number, n: number): GPUBufferBinding {
  const rowBytes = m.ld * elementBytes(m);
  const offset = r0 * rowBytes;
  if (offset % OFFSET_ALIGN !== 0) throw new Error(`unaligned window of ${m.buffer.label} at row ${r0}`);
  return { buffer: m.buffer, offset, size: Math.max(4, n * rowBytes) };
}

/** A window of rows and the part of it a kernel works on: rows [rowStart, rowStart + rows). */
export interface RowSpan extends RowChunk {
  rowStart: number;
  rows: number;
}

/** rowChunks, with each window clipped to [from, to) for the kernel's own row range. */
export function rowSpans(
  from: number,
  to: number,
  matrices: { ld: number; format?: ElementFormat }[],
  limitBytes: number,
  multiple = 1,
): RowSpan[] {
  return rowChunks(from, to, matrices, limitBytes, multiple).map((c) => {
    const rowStart = Math.max(c.r0, from);
    return { ...c, rowStart, rows: Math.min(c.r0 + c.n, to) - rowStart };
  });
}

/** The one window holding rows [from, to); throws when the binding limit cannot hold them together. */
export function singleSpan(from: number, to: number, m: { ld: number; format?: ElementFormat }, limitBytes: number, what: string): RowSpan {
  const spans = rowSpans(from, to, [m], limitBytes);
  if (spans.length !== 1) {
    throw new RangeError(`${what}: rows ${from}..${to} of a ${m.ld}-wide matrix do not fit one ${limitBytes}-byte binding`);
  }
  return spans[0];
}
