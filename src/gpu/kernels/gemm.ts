/**
 * Strided GEMM: C = alpha·C + beta·(A·B) on a window of C (see shaders/matmul_gemm.wgsl).
 * Used for the Hessian, the Cholesky trailing update, the triangular inverse and GPTQ's lazy
 * update between blocks.
 */
import source from '../../../shaders/matmul_gemm.wgsl?raw';
import { defineKernel } from '../kernel';
import { ParamStruct } from '../params';
import type { Recorder } from '../recorder';

export const GEMM_WG = { x: 16, y: 16 } as const;
/** Output entries per invocation along each axis (the 4×4 register block). */
const PER_INVOCATION = 4;

const params = new ParamStruct('GemmParams', {
  M: 'u32',
  N: 'u32',
  K: 'u32',
  aOff: 'i32',
  aRs: 'i32',
  aCs: 'i32',
  bOff: 'i32',
  bRs: 'i32',
  bCs: 'i32',
  cOff: 'u32',
  ldc: 'u32',
  lower: 'u32',
  diagShift: 'i32',
  kFromN: 'u32',
  kShift: 'i32',
  alpha: 'f32',
  beta: 'f32',
});

export const gemmKernel = defineKernel({
  name: 'matmul.gemm',
  source,
  entryPoint: 'main',
  params,
  storage: ['read', 'read', 'rw'],
});

export interface Operand {
  binding: GPUBufferBinding;
  /** Element offset of (0, 0) inside the binding. */
  off: number;
  /** Element stride between rows (m or k) and columns (k or n); may be negative. */
  rs: number;
  cs: number;
}

export interface GemmCall {
  M: number;
  N: number;
  K: number;
  A: Operand;
  B: Operand;
  C: { binding: GPUBufferBinding; off: number; ld: number };
  alpha: number;
  beta: number;
  /** Write only C(m, n) with n + diagShift <= m. */
  lowerDiagShift?: number;
  /**
   * B(k, n) = 0 for k < n + shift (B lower triangular): the sum skips those terms. The result
   * is the full sum's, bit for bit (the skipped products are zeros).
   */
  bLowerShift?: number;
}

export function encodeGemm(rec: Recorder, g: GemmCall): void {
  if (g.M <= 0 || g.N <= 0) return;
  rec.dispatch(
    gemmKernel,
    { WG_X: GEMM_WG.x, WG_Y: GEMM_WG.y },
    {
      M: g.M,
      N: g.N,
      K: g.K,
      aOff: g.A.off,
      aRs: g.A.rs,
      aCs: g.A.cs,
      bOff: g.B.off,
      bRs: g.B.rs,
      bCs: g.B.cs,
      cOff: g.C.off,
      ldc: g.C.ld,
      lower: g.lowerDiagShift === undefined ? 0 : 1,
      diagShift: g.lowerDiagShift ?? 0,
      kFromN: g.bLowerShift === undefined ? 0 : 1,
      kShift: g.bLowerShift ?? 0,
      alpha: g.alpha,
      beta: g.beta,
    },
    [g.A.binding, g.B.binding, g.C.binding],
    [Math.ceil(g.N / (PER_INVOCATION * GEMM_WG.x)), Math.ceil(g.M / (PER_INVOCATION * GEMM_WG.y))],
  );
}
