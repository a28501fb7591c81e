/** Finiteness checks: NaN or ±Inf anywhere in a matrix sets a status flag. */
import source from '../../../shaders/check_finite.wgsl?raw';
import { defineKernel } from '../kernel';
import { ParamStruct } from '../params';
import type { Recorder } from '../recorder';
import { rowSpans, rowWindow, type GpuMatrix } from '../matrix';

const CHECK_WG = 64;

const checkKernel = defineKernel({
  name: 'check.finite',
  source,
  entryPoint: 'main',
  params: new ParamStruct('CheckParams', { ncols: 'u32', rows: 'u32', rowStart: 'u32', winRow0: 'u32', ld: 'u32', slot: 'u32' }),
  storage: ['read', 'rw'],
});

/** Slots of the status buffer (u32 each) that kernels raise. */
export const STATUS = { nonFiniteW: 0, nonFiniteX: 1, notPositiveDefinite: 2 } as const;
export const STATUS_SLOTS = 4;

export function encodeCheckFinite(rec: Recorder, M: GpuMatrix, status: GPUBuffer, slot: number, bindingLimit: number): void {
  for (const s of rowSpans(0, M.rows, [M], bindingLimit)) {
    rec.dispatch(
      checkKernel,
      { WG_X: CHECK_WG },
      { ncols: M.cols, rows: s.rows, rowStart: s.rowStart, winRow0: s.r0, ld: M.ld, slot },
      [rowWindow(M, s.r0, s.n), { buffer: status }],
      [Math.ceil(M.cols / CHECK_WG), s.rows],
    );
  }
}
