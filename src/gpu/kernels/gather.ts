/** Column gathers of row-major matrices (shaders/gather_cols.wgsl): permutations, the dead-column fix, damping. */
import source from '../../../shaders/gather_cols.wgsl?raw';
import { defineKernel } from '../kernel';
import { ParamStruct } from '../params';
import type { Recorder } from '../recorder';
import { rowSpans, rowWindow, type GpuMatrix } from '../matrix';

const GATHER_WG = 64;

const gatherKernel = defineKernel({
  name: 'gather.cols',
  source,
  entryPoint: 'main',
  params: new ParamStruct('GatherParams', {
    n: 'u32',
    rows: 'u32',
    rowStart: 'u32',
    winRow0: 'u32',
    ldSrc: 'u32',
    ldDst: 'u32',
    flip: 'u32',
    zeroDead: 'u32',
    addDiag: 'u32',
  }),
  storage: ['read', 'rw', 'read', 'read', 'read'],
});

export interface GatherOptions {
  perm: GPUBuffer;
  dead: GPUBuffer;
  scalars: GPUBuffer;
  /** Read column perm[n − 1 − j] instead of perm[j]. */
  flip?: boolean;
  /** Write 0 for dead source columns. */
  zeroDead?: boolean;
  /** Add dead[col] + scalars[0] on the diagonal. */
  addDiag?: boolean;
}

/** dst[r, j] = src[r, col(j)] for all rows (see the shader for col and the options). */
export function encodeGatherCols(rec: Recorder, src: GpuMatrix, dst: GpuMatrix, o: GatherOptions, bindingLimit: number): void {
  for (const s of rowSpans(0, src.rows, [src, dst], bindingLimit)) {
    rec.dispatch(
      gatherKernel,
      { WG_X: GATHER_WG },
      {
        n: src.cols,
        rows: s.rows,
        rowStart: s.rowStart,
        winRow0: s.r0,
        ldSrc: src.ld,
        ldDst: dst.ld,
        flip: o.flip ? 1 : 0,
        zeroDead: o.zeroDead ? 1 : 0,
        addDiag: o.addDiag ? 1 : 0,
      },
      [rowWindow(src, s.r0, s.n), rowWindow(dst, s.r0, s.n), { buffer: o.perm }, { buffer: o.dead }, { buffer: o.scalars }],
      [Math.ceil(src.cols / GATHER_WG), s.rows],
    );
  }
}

/** dst row i = src row rows[i] (whole rows, by buffer copies: no binding limit applies). */
export function encodeGatherRows(rec: Recorder, src: GpuMatrix, dst: GpuMatrix, rows: ArrayLike<number>): void {
  const bytes = src.ld * 4;
  for (let i = 0; i < dst.rows; i++) rec.copy(src.buffer, rows[i] * bytes, dst.buffer, i * bytes, bytes);
}
