/** The quantizer grid on the GPU: group parameters (with the MSE search) and round-to-nearest. */
import paramsSource from '../../../shaders/quant_params.wgsl?raw';
import rtnSource from '../../../shaders/quant_rtn.wgsl?raw';
import { defineKernel } from '../kernel';
import { ParamStruct } from '../params';
import type { Recorder } from '../recorder';
import { rowSpans, rowWindow, type GpuMatrix } from '../matrix';
import { MSE_SEARCH } from '../../core/types';

const PARAMS_WG = 64;
const RTN_WG = 64;

const paramsKernel = defineKernel({
  name: 'quant.params',
  source: paramsSource,
  entryPoint: 'main',
  params: new ParamStruct('QuantParamsParams', {
    rows: 'u32',
    rowStart: 'u32',
    winRow0: 'u32',
    rowsTotal: 'u32',
    ld: 'u32',
    ncols: 'u32',
    gs: 'u32',
    g0: 'u32',
    g1: 'u32',
    maxq: 'f32',
    sym: 'u32',
    mse: 'u32',
    norm: 'f32',
    grid: 'u32',
    shrinkSteps: 'u32',
  }),
  storage: ['read', 'rw', 'rw'],
});

const rtnKernel = defineKernel({
  name: 'quant.rtn',
  source: rtnSource,
  entryPoint: 'main',
  params: new ParamStruct('RtnParams', {
    rows: 'u32',
    rowStart: 'u32',
    winRow0: 'u32',
    rowsTotal: 'u32',
    ld: 'u32',
    ldCodes: 'u32',
    ncols: 'u32',
    gs: 'u32',
    maxq: 'f32',
  }),
  storage: ['read', 'rw', 'rw', 'read', 'read'],
});

export interface Grid {
  bits: number;
  sym: boolean;
  mse: boolean;
}

/** The integer codes of a [rows, cols] matrix, packed 4 per u32 (one byte each). */
export function codesLayout(m: GpuMatrix): { ld: number; bytes: number } {
  const ld = m.ld / 4;
  return { ld, bytes: Math.max(4, m.rows * ld * 4) };
}

/**
 * scales/zeros [G, rows] for groups [g0, g1) of `gs` columns of W (gs = cols: one per row).
 */
export function encodeGroupParams(
  rec: Recorder,
  W: GpuMatrix,
  grid: Grid,
  gs: number,
  g0: number,
  g1: number,
  scales: GPUBuffer,
  zeros: GPUBuffer,
  bindingLimit: number,
): void {
  if (g1 <= g0) return;
  for (const s of rowSpans(0, W.rows, [W], bindingLimit)) {
    rec.dispatch(
      paramsKernel,
      { WG: PARAMS_WG },
      {
        rows: s.rows,
        rowStart: s.rowStart,
        winRow0: s.r0,
        rowsTotal: W.rows,
        ld: W.ld,
        ncols: W.cols,
        gs,
        g0,
        g1,
        maxq: 2 ** grid.bits - 1,
        sym: grid.sym ? 1 : 0,
        mse: grid.mse ? 1 : 0,
        norm: MSE_SEARCH.norm,
        grid: MSE_SEARCH.grid,
        shrinkSteps: Math.floor(MSE_SEARCH.maxShrink * MSE_SEARCH.grid),
      },
      [rowWindow(W, s.r0, s.n), { buffer: scales }, { buffer: zeros }],
      [Math.ceil(s.rows / PARAMS_WG), g1 - g0],
    );
  }
}

/** Q = RTN(W) on the grid of scales/zeros, codes packed [rows, ld/4]. */
export function encodeRtn(
  rec: Recorder,
  W: GpuMatrix,
  Q: GpuMatrix,
  codes: GPUBuffer,
  bits: number,
  gs: number,
  scales: GPUBuffer,
  zeros: GPUBuffer,
  bindingLimit: number,
): void {
  const cl = codesLayout(W);
  const C = { buffer: codes, ld: cl.ld };
  for (const s of rowSpans(0, W.rows, [W, Q, C], bindingLimit)) {
    rec.dispatch(
      rtnKernel,
      { WG_X: RTN_WG },
      {
        rows: s.rows,
        rowStart: s.rowStart,
        winRow0: s.r0,
        rowsTotal: W.rows,
        ld: W.ld,
        ldCodes: cl.ld,
        ncols: W.cols,
        gs,
        maxq: 2 ** bits - 1,
      },
      [rowWindow(W, s.r0, s.n), rowWindow(Q, s.r0, s.n), rowWindow(C, s.r0, s.n), { buffer: scales }, { buffer: zeros }],
      [Math.ceil(W.cols / 4 / RTN_WG), s.rows],
    );
  }
}
