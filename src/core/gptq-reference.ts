/**
 * f64 reference of IST-DASLab/gptq gptq.py GPTQ.fasterquant, line for line (paper: Algorithm 1).
 * W: [rows = out features, cols = in features] row-major; H: [cols, cols].
 *
 *   per-row params from W → dead columns → static groups → act-order perm → damp
 *   → U = chol(chol_inverse(chol(H)), upper) → blocks of blockSize columns:
 *     quantize column, err = (w − q)/U[j,j], W1[:, j:] −= err ⊗ U[j, j:]   (inside the block)
 *     W[:, i2:] −= Err1 · U[i1:i2, i2:]                                     (lazy, after the block)
 *   → unpermute Q.
 */
import { assertFiniteMatrix } from './finite';
import { effectiveGroupSize, groupIndex, packGroupParams } from './groups';
import { choleskyInverse, cholesky, NotPositiveDefiniteError, upperCholesky } from './linalg';
import { hessianLoss } from './metrics';
import { findParams, maxQ, quantCode, type Matrix, type QuantParams } from './quantizer';
import { rtnReference } from './rtn';
import {
  DAMP_RETRY,
  defaultQuantOptions,
  groupCount,
  validateQuantOptions,
  type GptqResult,
  type QuantOptions,
} from './types';

export interface GptqReferenceOptions extends Partial<QuantOptions> {
  /** Damping retries after the first attempt (default DAMP_RETRY.retries). */
  maxDampRetries?: number;
}

export function gptqReference(
  W0: Matrix,
  H0: Matrix,
  rows: number,
  cols: number,
  options: GptqReferenceOptions = {},
): GptqResult {
  const { maxDampRetries = DAMP_RETRY.retries, ...quantOptions } = options;
  const o: QuantOptions = { ...defaultQuantOptions, ...quantOptions };
  validateQuantOptions(o);
  if (!Number.isInteger(maxDampRetries) || maxDampRetries < 0) {
    throw new RangeError(`maxDampRetries must be an integer ≥ 0, got ${maxDampRetries}`);
  }
  assertFiniteMatrix(W0, rows, cols, 'W (weights)');
  assertFiniteMatrix(H0, cols, cols, 'H (Hessian)');

  const W = Float64Array.from(W0.subarray(0, rows * cols)); // [rows, cols]
  const H = Float64Array.from(H0.subarray(0, cols * cols)); // [cols, cols]
  const gs = effectiveGroupSize(cols, o.groupSize);

  // The reference finds per-row params before dead columns are zeroed.
  const rowParams = findParams(W, rows, cols, 0, cols, o.bits, o.sym, o.mse);
  const deadColumns = fixDeadColumns(W, H, rows, cols);

  let staticParams: QuantParams[] | null = null;
  if (o.staticGroups && o.groupSize !== -1) {
    staticParams = [];
    for (let g = 0; g < cols; g += gs) {
      staticParams.push(findParams(W, rows, cols, g, Math.min(cols, g + gs), o.bits, o.sym, o.mse));
    }
  }

  const perm = o.actOrder ? actOrderPermutation(H, cols) : null;
  if (perm) {
    permuteColumns(W, rows, cols, perm);
    permuteSymmetric(H, cols, perm);
  }

  const factor = dampedInverseFactor(H, cols, o.percDamp, maxDampRetries);
  if (!factor.U) {
    const rtn = rtnReference(W0, rows, cols, o);
    return {
      ...rtn,
      perm: null,
      loss: hessianLoss(W0, rtn.Q, H0, rows, cols),
      percDampUsed: factor.percDamp,
      damp: factor.damp,
      fellBackToRtn: true,
      deadColumns,
    };
  }

  // Group params in the order the sweep meets them (permuted-group order under act-order).
  const foundParams: QuantParams[] = [];
  const paramsFor = (j: number, Wstart: Float64Array): QuantParams => {
    if (o.groupSize === -1) return rowParams;
    if (staticParams) return staticParams[Math.floor((perm ? perm[j] : j) / gs)];
    if (j % gs === 0) {
      // Reads W as it stood at the start of the block, not the block's updated copy W1.
      foundParams.push(findParams(Wstart, rows, cols, j, Math.min(cols, j + gs), o.bits, o.sym, o.mse));
    }
    return foundParams[foundParams.length - 1];
  };

  const sweep = sweepBlocks(W, factor.U, rows, cols, o.blockSize, maxQ(o.bits), paramsFor);

  const Q = new Float64Array(rows * cols);
  const codes = new Uint8Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < cols; j++) {
      const c = perm ? perm[j] : j;
      Q[r * cols + c] = sweep.Q[r * cols + j];
      codes[r * cols + c] = sweep.codes[r * cols + j];
    }
  }

  const groupParams = o.groupSize === -1 ? [rowParams] : (staticParams ?? foundParams);
  const { scales, zeros } = packGroupParams(groupParams, rows);
  return {
    rows,
    cols,
    Q,
    codes,
    scales,
    zeros,
    gIdx: groupIndex(cols, o.groupSize, perm, o.staticGroups),
    groups: groupCount(cols, o.groupSize),
    perm,
    loss: sweep.loss,
    percDampUsed: factor.percDamp,
    damp: factor.damp,
    fellBackToRtn: false,
    deadColumns,
  };
}

/** diag(H) == 0 → H[i,i] = 1 and W[:, i] = 0 (in place). Returns the dead column indices. */
function fixDeadColumns(W: Float64Array, H: Float64Array, rows: number, cols: number): number[] {
  const dead: number[] = [];
  for (let i = 0; i < cols; i++) {
    if (H[i * cols + i] !== 0) continue;
    dead.push(i);
    H[i * cols + i] = 1;
    for (let r = 0; r < rows; r++) W[r * cols + i] = 0;
  }
  return dead;
}

/** argsort(diag H) descending; ties keep the lower index first (stable). perm[j] = original column. */
export function actOrderPermutation(H: Matrix, cols: number): Int32Array {
  const idx = Array.from({ length: cols }, (_, i) => i);
  idx.sort((a, b) => H[b * cols + b] - H[a * cols + a] || a - b);
  return Int32Array.from(idx);
}

/** W ← W[:, perm] in place; W: [rows, cols]. */
function permuteColumns(W: Float64Array, rows: number, cols: number, perm: Int32Array): void {
  const row = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < cols; j++) row[j] = W[r * cols + perm[j]];
    W.set(row, r * cols);
  }
}

/** H ← H[perm][:, perm] in place; H: [cols, cols]. */
function permuteSymmetric(H: Float64Array, cols: number, perm: Int32Array): void {
  const src = H.slice();
  for (let i = 0; i < cols; i++) {
    for (let j = 0; j < cols; j++) H[i * cols + j] = src[perm[i] * cols + perm[j]];
  }
}

interface DampedFactor {
  /** Upper U [cols, cols] with (H + damp·I)⁻¹ = UᵀU, or null when every attempt failed. */
  U: Float64Array | null;
  /** Fraction of the last attempt (the successful one, if any). */
  percDamp: number;
  /** Absolute damping of the last attempt. */
  damp: number;
}

/** H + percDamp·mean(diag H)·I → U; on NotPositiveDefinite raise percDamp by DAMP_RETRY.step. */
function dampedInverseFactor(H: Float64Array, cols: number, percDamp: number, retries: number): DampedFactor {
  let meanDiag = 0;
  for (let i = 0; i < cols; i++) meanDiag += H[i * cols + i];
  meanDiag /= cols;
  let pd = percDamp;
  for (let attempt = 0; ; attempt++) {
    const damp = pd * meanDiag;
    const Hd = H.slice();
    for (let i = 0; i < cols; i++) Hd[i * cols + i] += damp;
    try {
      const Hinv = choleskyInverse(cholesky(Hd, cols), cols);
      return { U: upperCholesky(Hinv, cols), percDamp: pd, damp };
    } catch (e) {
      if (!(e instanceof NotPositiveDefiniteError)) throw e;
      if (attempt >= retries) return { U: null, percDamp: pd, damp };
      pd += DAMP_RETRY.step;
    }
  }
}

interface SweepResult {
  /** [rows, cols], permuted column order */
  Q: Float64Array;
  /** [rows, cols], permuted column order */
  codes: Uint8Array;
  loss: number;
}

/**
 * The blockwise sweep. W [rows, cols] is updated in place by the lazy inter-block updates only;
 * paramsFor(j, W) gives the grid for (permuted) column j and may read W.
 */
function sweepBlocks(
  W: Float64Array,
  U: Float64Array,
  rows: number,
  cols: number,
  blockSize: number,
  maxq: number,
  paramsFor: (j: number, W: Float64Array) => QuantParams,
): SweepResult {
  const Q = new Float64Array(rows * cols);
  const codes = new Uint8Array(rows * cols);
  let loss = 0;
  for (let i1 = 0; i1 < cols; i1 += blockSize) {
    const i2 = Math.min(i1 + blockSize, cols);
    const count = i2 - i1;
    const W1 = new Float64Array(rows * count); // W[:, i1:i2]
    const Err1 = new Float64Array(rows * count); // [rows, count]
    for (let r = 0; r < rows; r++) W1.set(W.subarray(r * cols + i1, r * cols + i2), r * count);

    for (let i = 0; i < count; i++) {
      const j = i1 + i;
      const d = U[j * cols + j];
      const { scale, zero } = paramsFor(j, W);
      for (let r = 0; r < rows; r++) {
        const w = W1[r * count + i];
        const code = quantCode(w, scale[r], zero[r], maxq);
        const q = scale[r] * (code - zero[r]);
        Q[r * cols + j] = q;
        codes[r * cols + j] = code;
        loss += ((w - q) * (w - q)) / (d * d) / 2;
        const err = (w - q) / d;
        Err1[r * count + i] = err;
        // W1[r, i:] −= err · U[j, j:i2]
        for (let k = i; k < count; k++) W1[r * count + k] -= err * U[j * cols + i1 + k];
      }
    }

    // W[:, i2:] −= Err1 · U[i1:i2, i2:]  (the product first, then one subtraction, like the GEMM)
    const acc = new Float64Array(cols); // [cols], only [i2, cols) used
    for (let r = 0; r < rows; r++) {
      acc.fill(0);
      for (let i = 0; i < count; i++) {
        const e = Err1[r * count + i];
        if (e === 0) continue;
        const Ui = (i1 + i) * cols;
        for (let c = i2; c < cols; c++) acc[c] += e * U[Ui + c];
      }
      for (let c = i2; c < cols; c++) W[r * cols + c] -= acc[c];
    }
  }
  return { Q, codes, loss };
}
