/**
 * Blocked Cholesky (lower, in place) and blocked inverse of a lower-triangular matrix, for
 * the "inverse chain" of GPTQ. Blocks of CHOL_NB columns:
 *   Cholesky, step k:  factor the diagonal block → solve the panel below it → A22 −= P·Pᵀ
 *   inverse:           invert every diagonal block → for each block row R (top to bottom)
 *                      T = L[R, :R]·Linv[:R, :R];  Linv[R, :R] = −inv(L_RR)·T
 * Big matrices are bound in windows of rows; a failed pivot sets status[notPd].
 */
import diagSource from '../../../shaders/cholesky_diag.wgsl?raw';
import panelSource from '../../../shaders/cholesky_panel.wgsl?raw';
import trtriSource from '../../../shaders/cholesky_trtri_diag.wgsl?raw';
import { defineKernel } from '../kernel';
import { ParamStruct } from '../params';
import type { Recorder } from '../recorder';
import { rowSpans, rowWindow, singleSpan, type GpuMatrix } from '../matrix';
import { encodeGemm } from './gemm';

/** Block size of both factorizations (also the workgroup size of the diagonal-block kernels). */
export const CHOL_NB = 64;
const PANEL_WG = 64;

const diagKernel = defineKernel({
  name: 'cholesky.diag',
  source: diagSource,
  entryPoint: 'main',
  params: new ParamStruct('CholDiagParams', { k0: 'u32', kb: 'u32', ld: 'u32', rowOff: 'u32', notPd: 'u32' }),
  storage: ['rw', 'rw', 'rw'],
});

const panelKernel = defineKernel({
  name: 'cholesky.panel',
  source: panelSource,
  entryPoint: 'main',
  params: new ParamStruct('CholPanelParams', {
    k0: 'u32',
    kb: 'u32',
    ld: 'u32',
    rows: 'u32',
    rowStart: 'u32',
    winRow0: 'u32',
  }),
  storage: ['rw', 'read', 'rw'],
});

const trtriDiagKernel = defineKernel({
  name: 'cholesky.trtriDiag',
  source: trtriSource,
  entryPoint: 'main',
  params: new ParamStruct('TrtriDiagParams', { n: 'u32', ld: 'u32', block0: 'u32', winRow0: 'u32', notPd: 'u32' }),
  storage: ['read', 'rw', 'rw', 'rw'],
});

export interface CholeskyScratch {
  /** The current diagonal factor, CHOL_NB² f32. */
  lkk: GPUBuffer;
  /** The current panel, n × CHOL_NB f32. */
  panel: GPUBuffer;
}

export const choleskyScratchBytes = (n: number) => ({ lkk: CHOL_NB * CHOL_NB * 4, panel: Math.max(1, n) * CHOL_NB * 4 });

/** A = L·Lᵀ in place (lower triangle of A; the upper triangle is left as it was). */
export function encodeCholesky(
  rec: Recorder,
  A: GpuMatrix,
  scratch: CholeskyScratch,
  status: GPUBuffer,
  notPdSlot: number,
  bindingLimit: number,
): void {
  const n = A.rows;
  const panel: GPUBufferBinding = { buffer: scratch.panel };
  for (let k0 = 0; k0 < n; k0 += CHOL_NB) {
    const kb = Math.min(CHOL_NB, n - k0);
    const d = singleSpan(k0, k0 + kb, A, bindingLimit, 'Cholesky diagonal block');
    rec.dispatch(
      diagKernel,
      { NB: CHOL_NB },
      { k0, kb, ld: A.ld, rowOff: k0 - d.r0, notPd: notPdSlot },
      [rowWindow(A, d.r0, d.n), { buffer: scratch.lkk }, { buffer: status }],
      [1],
    );
    const below = k0 + kb;
    for (const s of rowSpans(below, n, [A], bindingLimit)) {
      const win = rowWindow(A, s.r0, s.n);
      rec.dispatch(
        panelKernel,
        { NB: CHOL_NB, WG: PANEL_WG },
        { k0, kb, ld: A.ld, rows: s.rows, rowStart: s.rowStart, winRow0: s.r0 },
        [win, { buffer: scratch.lkk }, panel],
        [Math.ceil(s.rows / PANEL_WG)],
      );
    }
    for (const s of rowSpans(below, n, [A], bindingLimit)) {
      // A[i, j] −= Σ_m P[i, m]·P[j, m] for below ≤ j ≤ i, i in this window.
      const end = s.rowStart + s.rows;
      encodeGemm(rec, {
        M: s.rows,
        N: end - below,
        K: kb,
        A: { binding: panel, off: (s.rowStart - below) * CHOL_NB, rs: CHOL_NB, cs: 1 },
        B: { binding: panel, off: 0, rs: 1, cs: CHOL_NB },
        C: { binding: rowWindow(A, s.r0, s.n), off: (s.rowStart - s.r0) * A.ld + below, ld: A.ld },
        alpha: 1,
        beta: -1,
        lowerDiagShift: below - s.rowStart,
      });
    }
  }
}

export interface InverseScratch {
  /** Inverses of the diagonal blocks, ceil(n / CHOL_NB) × CHOL_NB² f32. */
  dinv: GPUBuffer;
  /** One block row of products, CHOL_NB × ld f32. */
  T: GpuMatrix;
}

export const inverseScratchBytes = (n: number) => Math.max(1, Math.ceil(n / CHOL_NB)) * CHOL_NB * CHOL_NB * 4;

/** Linv = L⁻¹ for the lower triangle of L (Linv's upper triangle is zero). */
export function encodeTriangularInverse(
  rec: Recorder,
  L: GpuMatrix,
  Linv: GpuMatrix,
  scratch: InverseScratch,
  status: GPUBuffer,
  notPdSlot: number,
  bindingLimit: number,
): void {
  const n = L.rows;
  rec.clear(Linv.buffer);
  for (const s of rowSpans(0, n, [L, Linv], bindingLimit, CHOL_NB)) {
    rec.dispatch(
      trtriDiagKernel,
      { NB: CHOL_NB },
      { n, ld: L.ld, block0: s.r0 / CHOL_NB, winRow0: s.r0, notPd: notPdSlot },
      [rowWindow(L, s.r0, s.n), rowWindow(Linv, s.r0, s.n), { buffer: scratch.dinv }, { buffer: status }],
      [Math.ceil(s.n / CHOL_NB)],
    );
  }
  const T: GPUBufferBinding = { buffer: scratch.T.buffer };
  for (let R = CHOL_NB; R < n; R += CHOL_NB) {
    const kb = Math.min(CHOL_NB, n - R);
    const lw = singleSpan(R, R + kb, L, bindingLimit, 'triangular inverse (block row of L)');
    // T[0:kb, 0:R] = L[R:R+kb, 0:R] · Linv[0:R, 0:R], summed over windows of Linv's rows.
    let first = true;
    for (const w of rowSpans(0, R, [Linv], bindingLimit)) {
      encodeGemm(rec, {
        M: kb,
        N: R,
        K: w.rows,
        A: { binding: rowWindow(L, lw.r0, lw.n), off: (R - lw.r0) * L.ld + w.rowStart, rs: L.ld, cs: 1 },
        B: { binding: rowWindow(Linv, w.r0, w.n), off: (w.rowStart - w.r0) * Linv.ld, rs: Linv.ld, cs: 1 },
        C: { binding: T, off: 0, ld: scratch.T.ld },
        alpha: first ? 0 : 1,
        beta: 1,
        // Linv is lower triangular: B(k, c) = Linv[w.rowStart + k, c] = 0 for k < c − w.rowStart.
        bLowerShift: -w.rowStart,
      });
      first = false;
    }
    // Linv[R:R+kb, 0:R] = −inv(L_RR) · T
    const iw = singleSpan(R, R + kb, Linv, bindingLimit, 'triangular inverse (block row of the inverse)');
    encodeGemm(rec, {
      M: kb,
      N: R,
      K: kb,
      A: { binding: { buffer: scratch.dinv }, off: (R / CHOL_NB) * CHOL_NB * CHOL_NB, rs: CHOL_NB, cs: 1 },
      B: { binding: T, off: 0, rs: scratch.T.ld, cs: 1 },
      C: { binding: rowWindow(Linv, iw.r0, iw.n), off: (R - iw.r0) * Linv.ld, ld: Linv.ld },
      alpha: 0,
      beta: -1,
    });
  }
}
