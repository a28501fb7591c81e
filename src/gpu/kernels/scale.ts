/**
 * Per-column kernels for activation-aware scaling (src/engine/awq.ts): Y = X·diag(s) or
 * X·diag(s)⁻¹ (shaders/scale_cols.wgsl), and the column sums of |X| (shaders/col_abs_sum.wgsl).
 */
import scaleSource from '../../../shaders/scale_cols.wgsl?raw';
import absSumSource from '../../../shaders/col_abs_sum.wgsl?raw';
import { defineKernel } from '../kernel';
import { ParamStruct } from '../params';
import type { Recorder } from '../recorder';
import { rowSpans, rowWindow, type GpuMatrix } from '../matrix';

const SCALE_WG = 64;
const ABS_SUM_WG = 64;

const scaleKernel = defineKernel({
  name: 'awq.scaleCols',
  source: scaleSource,
  entryPoint: 'main',
  params: new ParamStruct('ScaleColsParams', { ncols: 'u32', rows: 'u32', rowStart: 'u32', winRow0: 'u32', ld: 'u32', invert: 'u32' }),
  storage: ['read', 'rw', 'read'],
});

const absSumKernel = defineKernel({
  name: 'awq.colAbsSum',
  source: absSumSource,
  entryPoint: 'main',
  params: new ParamStruct('ColAbsSumParams', { ncols: 'u32', rows: 'u32', rowStart: 'u32', winRow0: 'u32', ld: 'u32' }),
  storage: ['read', 'rw'],
});

/** Y = X·diag(s) (or X·diag(s)⁻¹ with `invert`); X, Y [rows, cols] of the same shape, s [cols]. */
export function encodeScaleColumns(rec: Recorder, X: GpuMatrix, Y: GpuMatrix, s: GPUBuffer, invert: boolean, bindingLimit: number): void {
  if (X.rows !== Y.rows || X.cols !== Y.cols || X.ld !== Y.ld) throw new RangeError(`scale columns: ${X.rows}×${X.cols} into ${Y.rows}×${Y.cols}`);
  for (const sp of rowSpans(0, X.rows, [X, Y], bindingLimit)) {
    rec.dispatch(
      scaleKernel,
      { WG_X: SCALE_WG },
      { ncols: X.cols, rows: sp.rows, rowStart: sp.rowStart, winRow0: sp.r0, ld: X.ld, invert: invert ? 1 : 0 },
      [rowWindow(X, sp.r0, sp.n), rowWindow(Y, sp.r0, sp.n), { buffer: s }],
      [Math.ceil(X.cols / SCALE_WG), sp.rows],
    );
  }
}

/** sums[c] += Σ_t |X[t, c]| over every row of X [tokens, cols] (clear `sums` [cols] first). */
export function encodeColumnAbsSums(rec: Recorder, X: GpuMatrix, sums: GPUBuffer, bindingLimit: number): void {
  for (const sp of rowSpans(0, X.rows, [X], bindingLimit)) {
    rec.dispatch(
      absSumKernel,
      { WG_X: ABS_SUM_WG },
      { ncols: X.cols, rows: sp.rows, rowStart: sp.rowStart, winRow0: sp.r0, ld: X.ld },
      [rowWindow(X, sp.r0, sp.n), { buffer: sums }],
      [Math.ceil(X.cols / ABS_SUM_WG)],
    );
  }
}
