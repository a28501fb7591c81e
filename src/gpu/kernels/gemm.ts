/**
 * Strided GEMM: C = alpha·C + beta·(A·B) on a window of C, A and C f32, B f32 or 16-bit (F16,
 * BF16: Operand.format). Used for the Hessian, the Cholesky
 * trailing update, the triangular inverse, GPTQ's lazy update between blocks and the forward.
 *
 * Two kernels compute it, with the same parameters and the same result bit for bit (every
 * entry of C is summed from 0 in the order k = 0, 1, …; they differ only in which invocation
 * computes which entries):
 *   - shaders/matmul_gemm.wgsl: 4×4 entries per invocation, 16×16 invocations (GPU-shaped);
 *   - shaders/matmul_gemm_rows.wgsl: 32 rows × 16 columns per invocation, the rows shared by
 *     the workgroup (CPU adapters, where it is several times faster).
 * tuneGemm times both on the device once and encodeGemm then uses the faster one; before that
 * (or when never tuned) it uses the first.
 */
import source from '../../../shaders/matmul_gemm.wgsl?raw';
import rowsSource from '../../../shaders/matmul_gemm_rows.wgsl?raw';
import { defineKernel, type Kernel } from '../kernel';
import { ParamStruct } from '../params';
import type { Recorder } from '../recorder';
import type { GpuRuntime } from '../runtime';
import { FORMAT_CODE, type ElementFormat } from '../matrix';

export const GEMM_WG = { x: 16, y: 16 } as const;
/** Output entries per invocation along each axis (the 4×4 register block). */
const PER_INVOCATION = 4;
/** The rows kernel: rows per workgroup, vec4 columns per invocation, invocations per workgroup. */
const ROWS = { rm: 32, cv: 4, wg: 8 } as const;

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

type GemmFields = typeof params extends ParamStruct<infer F> ? F : never;

export const gemmKernel = defineKernel({
  name: 'matmul.gemm',
  source,
  entryPoint: 'main',
  params,
  storage: ['read', 'read', 'rw'],
});

const gemmRowsKernel = defineKernel({
  name: 'matmul.gemmRows',
  source: `const RM: u32 = ${ROWS.rm}u;\nconst CV: u32 = ${ROWS.cv}u;\n${rowsSource}`,
  entryPoint: 'main',
  params,
  storage: ['read', 'read', 'rw'],
});

/** One kernel of the GEMM and how it is dispatched. */
export interface GemmVariant {
  name: string;
  kernel: Kernel<GemmFields>;
  constants: Record<string, number>;
  /** Rows and columns of C one workgroup covers. */
  tileM: number;
  tileN: number;
  /** Shaped for CPU adapters; other kernels (the GPTQ sweep) follow this choice. */
  forCpu: boolean;
}

export const GEMM_VARIANTS: readonly GemmVariant[] = [
  {
    name: '4×4 per invocation, 16×16 invocations',
    kernel: gemmKernel,
    constants: { WG_X: GEMM_WG.x, WG_Y: GEMM_WG.y },
    tileM: PER_INVOCATION * GEMM_WG.y,
    tileN: PER_INVOCATION * GEMM_WG.x,
    forCpu: false,
  },
  {
    name: `${ROWS.rm}×${4 * ROWS.cv} per invocation, shared rows, ${ROWS.wg} invocations`,
    kernel: gemmRowsKernel,
    constants: { WG: ROWS.wg },
    tileM: ROWS.rm,
    tileN: 4 * ROWS.cv * ROWS.wg,
    forCpu: true,
  },
];

export interface Operand {
  binding: GPUBufferBinding;
  /** Element offset of (0, 0) inside the binding. */
  off: number;
  /** Element stride between rows (m or k) and columns (k or n); may be negative. */
  rs: number;
  cs: number;
  /** How the elements are stored (default f32). Only B may be 16-bit (an F16 or BF16 LM head). */
  format?: ElementFormat;
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

/** The variant tuneGemm chose per device. */
const chosen = new WeakMap<GPUDevice, GemmVariant>();

/** The GEMM variant encodeGemm uses on `device`: the tuned one, else the first. */
export function gemmVariantOf(device: GPUDevice): GemmVariant {
  return chosen.get(device) ?? GEMM_VARIANTS[0];
}

/** Records C = alpha·C + beta·(A·B) with the device's tuned kernel (or `variant`, for tests). */
export function encodeGemm(rec: Recorder, g: GemmCall, variant: GemmVariant = gemmVariantOf(rec.device)): void {
  if (g.M <= 0 || g.N <= 0) return;
  if ((g.A.format ?? 'f32') !== 'f32') throw new TypeError(`encodeGemm reads A as f32, not ${g.A.format}`);
  const bFormat = g.B.format ?? 'f32';
  rec.dispatch(
    variant.kernel,
    bFormat === 'f32' ? variant.constants : { ...variant.constants, B_FORMAT: FORMAT_CODE[bFormat] },
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
    [Math.ceil(g.N / variant.tileN), Math.ceil(g.M / variant.tileM)],
  );
}

/** C = A·B of n × n row-major f32 matrices, each a whole buffer (contents as they are): a timing product. */
export function squareProduct(n: number, A: GPUBuffer, B: GPUBuffer, C: GPUBuffer): GemmCall {
  const size = n * n * 4;
  return {
    M: n,
    N: n,
    K: n,
    A: { binding: { buffer: A, size }, off: 0, rs: n, cs: 1 },
    B: { binding: { buffer: B, size }, off: 0, rs: n, cs: 1 },
    C: { binding: { buffer: C, size }, off: 0, ld: n },
    alpha: 0,
    beta: 1,
  };
}

export interface GemmTuning {
  /** The variant encodeGemm now uses on this device. */
  variant: GemmVariant;
  /** GFLOP/s of each variant by name on the tuning product (wall clock, best of the runs). */
  gflops: Record<string, number>;
}

/** Square size of the product timed by tuneGemm: about 34 MFLOP, tens of ms on a CPU adapter. */
const TUNE_N = 256;
const TUNE_RUNS = 3;
const tunings = new WeakMap<GPUDevice, Promise<GemmTuning>>();

/**
 * Times every GEMM variant on `rt`'s device (a TUNE_N³ product, best of TUNE_RUNS after a
 * compiling run) and makes encodeGemm use the fastest there. Runs once per device; later calls
 * return the first answer. A variant that fails to compile on the adapter, or computes a long sum
 * wrongly there (computesCorrectly), is skipped.
 */
export function tuneGemm(rt: GpuRuntime): Promise<GemmTuning> {
  let t = tunings.get(rt.device);
  if (!t) {
    const mine: Promise<GemmTuning> = measureVariants(rt).then((tuning) => {
      // Unless useGemmVariant chose meanwhile.
      if (tunings.get(rt.device) === mine) chosen.set(rt.device, tuning.variant);
      return tuning;
    });
    t = mine;
    tunings.set(rt.device, t);
  }
  return t;
}

/**
 * Makes `variant` the device's GEMM (and kernel shape) without measuring; a later tuneGemm
 * keeps it. For tests that run both shapes on one adapter.
 */
export function useGemmVariant(rt: GpuRuntime, variant: GemmVariant): void {
  chosen.set(rt.device, variant);
  tunings.set(rt.device, Promise.resolve({ variant, gflops: {} }));
}

/** Columns and sum length of the product each variant must get right before it is timed. */
const CHECK_COLS = 16;
const CHECK_K = 4096;

/**
 * Whether `v` computes C = Xᵀ·X (the Hessian's product: X [CHECK_K, CHECK_COLS], A read down its
 * columns; 256 KiB) within f32 rounding of the f64 sum on this adapter. A CPU adapter in Chromium
 * (SwiftShader) was found to give NaN from the CPU-shaped kernel once sums ran past about 1900
 * terms, while the same kernel is right on Dawn's llvmpipe: a variant is used only where it
 * computes correctly.
 */
async function computesCorrectly(rt: GpuRuntime, v: GemmVariant): Promise<boolean> {
  const n = CHECK_COLS;
  const K = CHECK_K;
  const x = new Float32Array(K * n);
  let seed = 12345;
  for (let i = 0; i < x.length; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    x[i] = (seed / 2 ** 32) * 2 - 1;
  }
  const X = rt.storage(x.byteLength, 'gemmCheck.X');
  const C = rt.storage(n * n * 4, 'gemmCheck.C');
  try {
    rt.upload(X, 0, x);
    const rec = rt.recorder('gemmCheck');
    encodeGemm(rec, {
      M: n, N: n, K,
      A: { binding: { buffer: X }, off: 0, rs: 1, cs: n },
      B: { binding: { buffer: X }, off: 0, rs: n, cs: 1 },
      C: { binding: { buffer: C }, off: 0, ld: n },
      alpha: 0,
      beta: 1,
    }, v);
    rec.finish();
    const c = await rt.readF32(C, 0, n * n);
    for (let m = 0; m < n; m++) {
      for (let j = 0; j < n; j++) {
        let sum = 0;
        let bound = 0;
        for (let k = 0; k < K; k++) {
          const p = x[k * n + m] * x[k * n + j];
          sum += p;
          bound += Math.abs(p);
        }
        // A sum of K f32 products is within about K·2⁻²⁴ of Σ|products|; 1e-3 is far above that.
        if (!(Math.abs(c[m * n + j] - sum) <= 1e-3 * bound)) return false;
      }
    }
    return true;
  } finally {
    rt.release(X, C);
  }
}

async function measureVariants(rt: GpuRuntime): Promise<GemmTuning> {
  // Checked before the timing's buffers are made, so that the two never add up (a run's peak GPU
  // bytes include its device's first tuning).
  const correct: GemmVariant[] = [];
  for (const v of GEMM_VARIANTS) {
    rt.device.pushErrorScope('validation');
    const right = await computesCorrectly(rt, v);
    if (!(await rt.device.popErrorScope()) && right) correct.push(v);
  }
  const n = TUNE_N;
  const bytes = n * n * 4;
  const A = rt.storage(bytes, 'gemmTune.A');
  const B = rt.storage(bytes, 'gemmTune.B');
  const C = rt.storage(bytes, 'gemmTune.C');
  const call = squareProduct(n, A, B, C);
  const run = async (v: GemmVariant) => {
    const t0 = performance.now();
    const rec = rt.recorder('gemmTune');
    encodeGemm(rec, call, v);
    rec.finish();
    await rt.idle();
    return (performance.now() - t0) / 1000;
  };
  const best = new Map<GemmVariant, number>();
  try {
    for (const v of correct) {
      await run(v);
      best.set(v, Infinity);
    }
    for (let r = 0; r < TUNE_RUNS; r++) {
      for (const v of best.keys()) best.set(v, Math.min(best.get(v)!, await run(v)));
    }
  } finally {
    rt.release(A, B, C);
  }
  const gflops: Record<string, number> = {};
  let variant: GemmVariant | undefined;
  for (const [v, s] of best) {
    gflops[v.name] = (2 * n ** 3) / s / 1e9;
    if (!variant || s < best.get(variant)!) variant = v;
  }
  return { variant: variant ?? GEMM_VARIANTS[0], gflops };
}
