/**
 * Blocked Cholesky (lower, in place) and blocked inverse of a lower-triangular matrix, for
 * the "inverse chain" of GPTQ.
 *   Cholesky: outer blocks of outerBlock(n) columns, each factored in steps of CHOL_NB columns:
 *     factor the diagonal block (and U = its inverse, transposed) → panel below = A·U (a GEMM)
 *     → A −= P·Pᵀ on the outer block's remaining columns; then, once per outer block, the
 *     trailing matrix A22 −= P·Pᵀ with the whole outer panel (a GEMM with K = outerBlock).
 *   inverse: invert every diagonal block → for each block row R (top to bottom)
 *            T = L[R, :R]·Linv[:R, :R];  Linv[R, :R] = −inv(L_RR)·T
 * The lower-triangular updates go in strips of UPDATE_STRIP columns (one GEMM each), so that
 * each dispatch's work is close to a rectangle. Big matrices are bound in windows of rows; a
 * failed pivot sets status[notPd].
 */
import diagSource from '../../../shaders/cholesky_diag.wgsl?raw';
import storePanelSource from '../../../shaders/cholesky_store_panel.wgsl?raw';
import trtriSource from '../../../shaders/cholesky_trtri_diag.wgsl?raw';
import { defineKernel } from '../kernel';
import { ParamStruct } from '../params';
import type { Recorder } from '../recorder';
import { rowSpans, rowWindow, singleSpan, type GpuMatrix } from '../matrix';
import { encodeGemm } from './gemm';

/** Block size of both factorizations (also the workgroup size of the diagonal-block kernels). */
export const CHOL_NB = 64;
/** Columns of an outer block of the Cholesky at most: the K of its trailing-update GEMM. */
const OUTER_NB = 256;
/** Columns of C per GEMM of a lower-triangular update. */
const UPDATE_STRIP = 256;

const diagKernel = defineKernel({
  name: 'cholesky.diag',
  source: diagSource,
  entryPoint: 'main',
  params: new ParamStruct('CholDiagParams', { k0: 'u32', kb: 'u32', ld: 'u32', rowOff: 'u32', notPd: 'u32' }),
  storage: ['rw', 'rw', 'rw'],
});

const storePanelKernel = defineKernel({
  name: 'cholesky.storePanel',
  source: storePanelSource,
  entryPoint: 'main',
  params: new ParamStruct('CholStorePanelParams', {
    k0: 'u32',
    kb: 'u32',
    ld: 'u32',
    rows: 'u32',
    rowStart: 'u32',
    winRow0: 'u32',
    pRow0: 'u32',
    pw: 'u32',
    pCol0: 'u32',
  }),
  storage: ['read', 'rw'],
});

const trtriDiagKernel = defineKernel({
  name: 'cholesky.trtriDiag',
  source: trtriSource,
  entryPoint: 'main',
  params: new ParamStruct('TrtriDiagParams', { n: 'u32', ld: 'u32', block0: 'u32', winRow0: 'u32', notPd: 'u32' }),
  storage: ['read', 'rw', 'rw', 'rw'],
});

/**
 * Columns of the Cholesky's outer blocks for an n × n matrix: OUTER_NB, or fewer (a multiple of
 * CHOL_NB, at least CHOL_NB) when the n × outerBlock panel would not fit one binding of
 * `bindingLimit` bytes.
 */
export function outerBlock(n: number, bindingLimit: number): number {
  const fits = Math.floor(bindingLimit / (Math.max(1, n) * 4 * CHOL_NB)) * CHOL_NB;
  return Math.min(OUTER_NB, Math.max(CHOL_NB, fits));
}

export interface CholeskyScratch {
  /** U = inv(L_kk)ᵀ of the current diagonal block, CHOL_NB² f32. */
  lkk: GPUBuffer;
  /** The current outer panel: rows from the outer block's first, outerBlock(n) columns, f32. */
  panel: GPUBuffer;
}

/** Bytes of the Cholesky's scratch buffers for an n × n matrix. */
export const choleskyScratchBytes = (n: number, bindingLimit: number) => ({
  lkk: CHOL_NB * CHOL_NB * 4,
  panel: Math.max(1, n) * outerBlock(n, bindingLimit) * 4,
});

/** Where a lower-triangular update reads its factor P: P[i, m] = panel[(i − row0)·ld + col0 + m]. */
interface PanelView {
  binding: GPUBufferBinding;
  row0: number;
  ld: number;
  col0: number;
}

/**
 * A[i, j] −= Σ_{m<K} P[i, m]·P[j, m] for c0 ≤ j < c1 and j ≤ i < n (the lower triangle of those
 * columns), in windows of A's rows and strips of UPDATE_STRIP columns.
 */
function encodeLowerUpdate(rec: Recorder, A: GpuMatrix, P: PanelView, K: number, c0: number, c1: number, bindingLimit: number): void {
  const n = A.rows;
  for (const s of rowSpans(c0, n, [A], bindingLimit)) {
    const rEnd = s.rowStart + s.rows;
    for (let j0 = c0; j0 < Math.min(c1, rEnd); j0 += UPDATE_STRIP) {
      const j1 = Math.min(j0 + UPDATE_STRIP, c1, rEnd);
      const r0 = Math.max(s.rowStart, j0); // rows above j0 have no entries in these columns
      encodeGemm(rec, {
        M: rEnd - r0,
        N: j1 - j0,
        K,
        A: { binding: P.binding, off: (r0 - P.row0) * P.ld + P.col0, rs: P.ld, cs: 1 },
        B: { binding: P.binding, off: (j0 - P.row0) * P.ld + P.col0, rs: 1, cs: P.ld },
        C: { binding: rowWindow(A, s.r0, s.n), off: (r0 - s.r0) * A.ld + j0, ld: A.ld },
        alpha: 1,
        beta: -1,
        lowerDiagShift: j0 - r0,
      });
    }
  }
}

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
  const pw = outerBlock(n, bindingLimit);
  const panel: GPUBufferBinding = { buffer: scratch.panel };
  for (let K0 = 0; K0 < n; K0 += pw) {
    const end2 = Math.min(K0 + pw, n);
    const outer: PanelView = { binding: panel, row0: K0, ld: pw, col0: 0 };
    for (let k0 = K0; k0 < end2; k0 += CHOL_NB) {
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
        // panel[rows, k0 − K0 + j] = Σ_m A[row, k0 + m]·U[m, j]: the rows of L in these columns.
        encodeGemm(rec, {
          M: s.rows,
          N: kb,
          K: kb,
          A: { binding: rowWindow(A, s.r0, s.n), off: (s.rowStart - s.r0) * A.ld + k0, rs: A.ld, cs: 1 },
          B: { binding: { buffer: scratch.lkk }, off: 0, rs: CHOL_NB, cs: 1 },
          C: { binding: panel, off: (s.rowStart - K0) * pw + (k0 - K0), ld: pw },
          alpha: 0,
          beta: 1,
        });
        rec.dispatch(
          storePanelKernel,
          { NB: CHOL_NB },
          { k0, kb, ld: A.ld, rows: s.rows, rowStart: s.rowStart, winRow0: s.r0, pRow0: K0, pw, pCol0: k0 - K0 },
          [panel, rowWindow(A, s.r0, s.n)],
          [s.rows],
        );
      }
      encodeLowerUpdate(rec, A, { ...outer, col0: k0 - K0 }, kb, below, end2, bindingLimit);
    }
    encodeLowerUpdate(rec, A, outer, end2 - K0, end2, n, bindingLimit);
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
