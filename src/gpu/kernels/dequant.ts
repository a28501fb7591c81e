/**
 * Weights from packed integer codes (shaders/dequant_rows.wgsl): W [rows, cols] =
 * scale · (code − zero) per element, the codes packed row by row as src/core/packed-quant.ts
 * lays them out. The RTN and GPTQ models of a run are made this way, block by block.
 */
import source from '../../../shaders/dequant_rows.wgsl?raw';
import { defineKernel } from '../kernel';
import { ParamStruct } from '../params';
import type { Recorder } from '../recorder';
import { rowSpans, rowWindow, type GpuMatrix } from '../matrix';

const DEQUANT_WG = 64;

const dequantKernel = defineKernel({
  name: 'dequant.rows',
  source,
  entryPoint: 'main',
  params: new ParamStruct('DequantParams', {
    rows: 'u32',
    rowStart: 'u32',
    winRow0: 'u32',
    rowsTotal: 'u32',
    ld: 'u32',
    wpr: 'u32',
    wordBase: 'u32',
    ncols: 'u32',
    bits: 'u32',
  }),
  storage: ['read', 'read', 'read', 'read', 'rw'],
});

/** Packed codes on the GPU: [rows, wpr] u32 (wpr words per row), and the grid of each group. */
export interface GpuPackedCodes {
  /** [rows, wpr] u32, rows as W's. */
  words: GPUBuffer;
  wpr: number;
  bits: number;
  /** [G, rows] f32 */
  scales: GPUBuffer;
  /** [G, rows] f32 (integer values) */
  zeros: GPUBuffer;
  /** [cols] u32 */
  gIdx: GPUBuffer;
}

/** u32 words per 256-byte binding offset step. */
const WORDS_PER_OFFSET = 64;

/**
 * W [rows, cols] = dequantized codes (every element of W written), dispatched per window of W's
 * rows under `bindingLimit`. The codes of a window are bound from the aligned word at or below
 * its first row's, so any words-per-row binds (no row alignment of the codes is needed).
 */
export function encodeDequant(rec: Recorder, codes: GpuPackedCodes, W: GpuMatrix, bindingLimit: number): void {
  const { wpr } = codes;
  // A stand-in whose rows are as wide as a window's words plus the alignment slack: it bounds the
  // rows per window (n·(wpr + 64) words fit the limit) without adding a row alignment of its own.
  const wordRows = { ld: Math.ceil((wpr + WORDS_PER_OFFSET) / WORDS_PER_OFFSET) * WORDS_PER_OFFSET };
  for (const s of rowSpans(0, W.rows, [W, wordRows], bindingLimit)) {
    const first = s.rowStart * wpr;
    const wordBase = Math.floor(first / WORDS_PER_OFFSET) * WORDS_PER_OFFSET;
    const size = Math.max(4, (s.rowStart + s.rows) * wpr * 4 - wordBase * 4);
    rec.dispatch(
      dequantKernel,
      { WG_X: DEQUANT_WG },
      { rows: s.rows, rowStart: s.rowStart, winRow0: s.r0, rowsTotal: W.rows, ld: W.ld, wpr, wordBase, ncols: W.cols, bits: codes.bits },
      [{ buffer: codes.words, offset: wordBase * 4, size }, { buffer: codes.scales }, { buffer: codes.zeros }, { buffer: codes.gIdx }, rowWindow(W, s.r0, s.n)],
      [Math.ceil(W.cols / DEQUANT_WG), s.rows],
    );
  }
}
