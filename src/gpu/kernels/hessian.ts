/**
 * The Hessian H = (2/N)·Σ x xᵀ of a layer's inputs and what GPTQ derives from its diagonal:
 * accumulation (a running mean over batches, as the reference's add_batch), the diagonal,
 * dead columns and the damping, and the act-order permutation.
 */
import diagSource from '../../../shaders/hessian_diag.wgsl?raw';
import statsSource from '../../../shaders/hessian_stats.wgsl?raw';
import argsortSource from '../../../shaders/hessian_argsort.wgsl?raw';
import { defineKernel } from '../kernel';
import { ParamStruct } from '../params';
import type { Recorder } from '../recorder';
import { rowSpans, rowWindow, type GpuMatrix } from '../matrix';
import { encodeGemm } from './gemm';

const DIAG_WG = 64;
const STATS_WG = 256;
const ARGSORT_WG = 64;

const diagKernel = defineKernel({
  name: 'hessian.diag',
  source: diagSource,
  entryPoint: 'main',
  params: new ParamStruct('DiagParams', { rows: 'u32', rowStart: 'u32', winRow0: 'u32', ld: 'u32' }),
  storage: ['read', 'rw'],
});

const statsKernel = defineKernel({
  name: 'hessian.stats',
  source: statsSource,
  entryPoint: 'main',
  params: new ParamStruct('StatsParams', { n: 'u32', percDamp: 'f32' }),
  storage: ['read', 'rw', 'rw'],
});

const argsortKernel = defineKernel({
  name: 'hessian.argsort',
  source: argsortSource,
  entryPoint: 'main',
  params: new ParamStruct('ArgsortParams', { n: 'u32', actOrder: 'u32' }),
  storage: ['read', 'read', 'rw', 'rw'],
});

/**
 * H = a·H + b·XᵀX with X [tokens, cols] (a padded matrix), the full symmetric H [cols, cols].
 * For the running mean of the reference: a = n/(n+k), b = 2/(n+k) (n, k counted in sequences).
 */
export function encodeHessianUpdate(rec: Recorder, H: GpuMatrix, X: GpuMatrix, a: number, b: number, bindingLimit: number): void {
  let first = true;
  for (const xs of rowSpans(0, X.rows, [X], bindingLimit)) {
    const xWin = rowWindow(X, xs.r0, xs.n);
    for (const hs of rowSpans(0, H.rows, [H], bindingLimit)) {
      encodeGemm(rec, {
        M: hs.rows,
        N: H.cols,
        K: xs.rows,
        // A(m, t) = X[t, hs.rowStart + m],  B(t, j) = X[t, j]
        A: { binding: xWin, off: (xs.rowStart - xs.r0) * X.ld + hs.rowStart, rs: 1, cs: X.ld },
        B: { binding: xWin, off: (xs.rowStart - xs.r0) * X.ld, rs: X.ld, cs: 1 },
        C: { binding: rowWindow(H, hs.r0, hs.n), off: (hs.rowStart - hs.r0) * H.ld, ld: H.ld },
        alpha: first ? a : 1,
        beta: b,
      });
    }
    first = false;
  }
}

/** diag[i] = H[i, i]. */
export function encodeDiag(rec: Recorder, H: GpuMatrix, diag: GPUBuffer, bindingLimit: number): void {
  for (const s of rowSpans(0, H.rows, [H], bindingLimit)) {
    rec.dispatch(
      diagKernel,
      { WG: DIAG_WG },
      { rows: s.rows, rowStart: s.rowStart, winRow0: s.r0, ld: H.ld },
      [rowWindow(H, s.r0, s.n), { buffer: diag }],
      [Math.ceil(s.rows / DIAG_WG)],
    );
  }
}

/** dead[i] (u32), scalars[0] = damping, scalars[1] = number of dead columns. */
export function encodeDiagStats(rec: Recorder, n: number, percDamp: number, diag: GPUBuffer, dead: GPUBuffer, scalars: GPUBuffer): void {
  rec.dispatch(statsKernel, { WG: STATS_WG }, { n, percDamp }, [{ buffer: diag }, { buffer: dead }, { buffer: scalars }], [1]);
}

/** perm / invperm (u32 [n]): descending diag when actOrder, else the identity. */
export function encodeArgsort(rec: Recorder, n: number, actOrder: boolean, diag: GPUBuffer, dead: GPUBuffer, perm: GPUBuffer, invperm: GPUBuffer): void {
  rec.dispatch(
    argsortKernel,
    { WG: ARGSORT_WG },
    { n, actOrder: actOrder ? 1 : 0 },
    [{ buffer: diag }, { buffer: dead }, { buffer: perm }, { buffer: invperm }],
    [Math.ceil(n / ARGSORT_WG)],
  );
}
