/** Output error of a quantized weight on given inputs: Σ ((W − Q)·Xᵀ)² in workgroup partial sums. */
import source from '../../../shaders/output_sqerr.wgsl?raw';
import { defineKernel } from '../kernel';
import { ParamStruct } from '../params';
import type { Recorder } from '../recorder';
import { rowSpans, rowWindow, type GpuMatrix } from '../matrix';

const SQERR_WG = { x: 16, y: 16 } as const;
const PER_INVOCATION = 4;

const sqerrKernel = defineKernel({
  name: 'output.sqerr',
  source,
  entryPoint: 'main',
  params: new ParamStruct('SqerrParams', { rows: 'u32', tokens: 'u32', ncols: 'u32', ld: 'u32', ldX: 'u32', slot0: 'u32' }),
  storage: ['read', 'read', 'read', 'rw'],
});

/** The dispatches of one output-error evaluation, and how many partial sums they write. */
export function planOutputError(W: Pick<GpuMatrix, 'rows' | 'ld'>, X: Pick<GpuMatrix, 'rows' | 'ld'>, bindingLimit: number) {
  const rowSpansW = rowSpans(0, W.rows, [W, W], bindingLimit);
  const tokenSpans = rowSpans(0, X.rows, [X], bindingLimit);
  const tiles = (rows: number, tokens: number) =>
    Math.ceil(tokens / (PER_INVOCATION * SQERR_WG.x)) * Math.ceil(rows / (PER_INVOCATION * SQERR_WG.y));
  let partials = 0;
  for (const r of rowSpansW) for (const t of tokenSpans) partials += tiles(r.rows, t.rows);
  return { rowSpansW, tokenSpans, partials, tiles };
}

export function encodeOutputError(rec: Recorder, W: GpuMatrix, Q: GpuMatrix, X: GpuMatrix, partial: GPUBuffer, bindingLimit: number): number {
  const plan = planOutputError(W, X, bindingLimit);
  let slot0 = 0;
  for (const r of plan.rowSpansW) {
    for (const t of plan.tokenSpans) {
      const nx = Math.ceil(t.rows / (PER_INVOCATION * SQERR_WG.x));
      const ny = Math.ceil(r.rows / (PER_INVOCATION * SQERR_WG.y));
      const w = rowWindow(W, r.r0, r.n);
      const q = rowWindow(Q, r.r0, r.n);
      const x = rowWindow(X, t.r0, t.n);
      // The windows start at the spans' first rows (rowSpans from 0 never clips the start).
      rec.dispatch(
        sqerrKernel,
        { WG_X: SQERR_WG.x, WG_Y: SQERR_WG.y },
        { rows: r.rows, tokens: t.rows, ncols: W.cols, ld: W.ld, ldX: X.ld, slot0 },
        [w, q, x, { buffer: partial }],
        [nx, ny],
      );
      slot0 += nx * ny;
    }
  }
  return slot0;
}
