/** GPTQ's own kernels: the sweep inside a block, and undoing the act-order permutation. */
import sweepSource from '../../../shaders/gptq_sweep.wgsl?raw';
import unpermuteSource from '../../../shaders/gptq_unpermute.wgsl?raw';
import { defineKernel } from '../kernel';
import { ParamStruct } from '../params';
import type { Recorder } from '../recorder';
import { rowSpans, rowWindow, singleSpan, type GpuMatrix } from '../matrix';
import { codesLayout } from './quantize';
import { encodeGemm, gemmVariantOf } from './gemm';

const SWEEP_WG = 64;
const UNPERMUTE_WG = 64;

const sweepParams = new ParamStruct('SweepParams', {
  n: 'u32',
  i1: 'u32',
  i2: 'u32',
  rows: 'u32',
  rowStart: 'u32',
  winRow0: 'u32',
  rowsTotal: 'u32',
  ld: 'u32',
  ldF: 'u32',
  fRow0: 'u32',
  ldErr: 'u32',
  ldCodes: 'u32',
  gs: 'u32',
  staticGroups: 'u32',
  maxq: 'f32',
});

/**
 * The sweep kernel for R rows per invocation and sub-blocks of SB columns (same bits for every
 * shape). GPUs want many short invocations (R = 1); CPU adapters want each read of U to serve
 * several rows (R = 4), and compile the larger register blocks without trouble.
 */
function sweepKernelOf(R: number, SB: number) {
  return defineKernel({
    name: `gptq.sweep.r${R}.sb${SB}`,
    source: `const R: u32 = ${R}u;\nconst SB: u32 = ${SB}u;\n${sweepSource}`,
    entryPoint: 'main',
    params: sweepParams,
    storage: ['rw', 'read', 'read', 'read', 'read', 'rw', 'rw', 'rw'],
  });
}

const SWEEP_SHAPES = {
  gpu: { R: 1, kernel: sweepKernelOf(1, 8) },
  cpu: { R: 4, kernel: sweepKernelOf(4, 16) },
} as const;

const unpermuteKernel = defineKernel({
  name: 'gptq.unpermute',
  source: unpermuteSource,
  entryPoint: 'main',
  params: new ParamStruct('UnpermuteParams', {
    ncols: 'u32',
    rows: 'u32',
    rowStart: 'u32',
    winRow0: 'u32',
    ld: 'u32',
    ldCodes: 'u32',
  }),
  storage: ['read', 'rw', 'read', 'rw', 'read'],
});

export interface SweepBuffers {
  /** Working weights [rows, n] (permuted when act-order); quantized in place. */
  W: GpuMatrix;
  /** Lower Cholesky factor of the reversed, damped H, [n, n]: U[i, j] = F[n−1−i, n−1−j]. */
  F: GpuMatrix;
  scales: GPUBuffer;
  zeros: GPUBuffer;
  perm: GPUBuffer;
  /** Scaled errors of the current block [rows, ≥ blockSize]. */
  Err: GpuMatrix;
  /** Codes [rows, W.ld / 4], zeroed before the first block. */
  codes: GPUBuffer;
  /** Σ err²/2 per row [rows], zeroed before the first block. */
  rowLoss: GPUBuffer;
}

export interface SweepOptions {
  bits: number;
  /** Group size in columns (n for one group per row). */
  gs: number;
  staticGroups: boolean;
}

/** Quantizes columns [i1, i2) of every row (the sweep inside one block). */
export function encodeSweep(rec: Recorder, b: SweepBuffers, i1: number, i2: number, o: SweepOptions, bindingLimit: number): void {
  const n = b.W.cols;
  const f = singleSpan(n - i2, n - i1, b.F, bindingLimit, 'GPTQ sweep (block of the inverse factor)');
  const C = { buffer: b.codes, ld: codesLayout(b.W).ld };
  // The GEMM tuning tells which kind of adapter this is.
  const { R, kernel } = SWEEP_SHAPES[gemmVariantOf(rec.device).forCpu ? 'cpu' : 'gpu'];
  for (const s of rowSpans(0, b.W.rows, [b.W, b.Err, C], bindingLimit)) {
    rec.dispatch(
      kernel,
      { WG: SWEEP_WG },
      {
        n,
        i1,
        i2,
        rows: s.rows,
        rowStart: s.rowStart,
        winRow0: s.r0,
        rowsTotal: b.W.rows,
        ld: b.W.ld,
        ldF: b.F.ld,
        fRow0: f.r0,
        ldErr: b.Err.ld,
        ldCodes: C.ld,
        gs: o.gs,
        staticGroups: o.staticGroups ? 1 : 0,
        maxq: 2 ** o.bits - 1,
      },
      [
        rowWindow(b.W, s.r0, s.n),
        rowWindow(b.F, f.r0, f.n),
        { buffer: b.scales },
        { buffer: b.zeros },
        { buffer: b.perm },
        rowWindow(b.Err, s.r0, s.n),
        rowWindow(C, s.r0, s.n),
        { buffer: b.rowLoss },
      ],
      [Math.ceil(s.rows / (R * SWEEP_WG))],
    );
  }
}

/** The lazy update after a block: W[:, i2:] −= Err · U[i1:i2, i2:]. */
export function encodeLazyUpdate(rec: Recorder, b: SweepBuffers, i1: number, i2: number, bindingLimit: number): void {
  const n = b.W.cols;
  if (i2 >= n) return;
  const f = singleSpan(n - i2, n - i1, b.F, bindingLimit, 'GPTQ lazy update (block of the inverse factor)');
  for (const s of rowSpans(0, b.W.rows, [b.W, b.Err], bindingLimit)) {
    encodeGemm(rec, {
      M: s.rows,
      N: n - i2,
      K: i2 - i1,
      A: { binding: rowWindow(b.Err, s.r0, s.n), off: (s.rowStart - s.r0) * b.Err.ld, rs: b.Err.ld, cs: 1 },
      // B(k, c) = U[i1 + k, i2 + c] = F[n−1−i1−k, n−1−i2−c]
      B: { binding: rowWindow(b.F, f.r0, f.n), off: (n - 1 - i1 - f.r0) * b.F.ld + (n - 1 - i2), rs: -b.F.ld, cs: -1 },
      C: { binding: rowWindow(b.W, s.r0, s.n), off: (s.rowStart - s.r0) * b.W.ld + i2, ld: b.W.ld },
      alpha: 1,
      beta: -1,
    });
  }
}

/** Q[r, c] = Qp[r, invperm[c]], and the codes likewise. */
export function encodeUnpermute(
  rec: Recorder,
  Qp: GpuMatrix,
  Q: GpuMatrix,
  codesP: GPUBuffer,
  codes: GPUBuffer,
  invperm: GPUBuffer,
  bindingLimit: number,
): void {
  const ldCodes = codesLayout(Qp).ld;
  const CP = { buffer: codesP, ld: ldCodes };
  const C = { buffer: codes, ld: ldCodes };
  for (const s of rowSpans(0, Qp.rows, [Qp, Q, CP], bindingLimit)) {
    rec.dispatch(
      unpermuteKernel,
      { WG_X: UNPERMUTE_WG },
      { ncols: Qp.cols, rows: s.rows, rowStart: s.rowStart, winRow0: s.r0, ld: Qp.ld, ldCodes },
      [rowWindow(Qp, s.r0, s.n), rowWindow(Q, s.r0, s.n), rowWindow(CP, s.r0, s.n), rowWindow(C, s.r0, s.n), { buffer: invperm }],
      [Math.ceil(Qp.cols / 4 / UNPERMUTE_WG), s.rows],
    );
  }
}
