/**
 * GPTQ on a small layer, one column at a time, recording every step (the lessons' view of
 * gptq-reference.ts). W: [rows, cols] row-major, H: [cols, cols].
 *
 * Same order of work as the reference with groupSize −1:
 *   per-row grid (findParams on W, unless a fixed grid is given) → dead columns → act-order
 *   → damp → U = chol(chol_inverse(chol(H + damp·I)), upper) → for each column j in sweep order:
 *     q = quant(w_j), err = (w_j − q)/U[j,j], w_k −= err·U[j,k] for every later column k.
 * The reference defers the updates to columns past the current block of blockSize columns and
 * applies them in one product after the block; applying them at once is the same sum, and for a
 * layer no wider than one block (cols ≤ blockSize) the very same operations in the same order.
 */
import { actOrderPermutation } from '../gptq-reference';
import { cholesky, choleskyInverse, upperCholesky } from '../linalg';
import { findParams, maxQ, quantCode, type Matrix, type QuantParams } from '../quantizer';
import { defaultQuantOptions } from '../types';

export interface TraceOptions {
  /** Bits per weight, 2..8. */
  bits: number;
  /** Symmetric grid (ignored when `params` is given). */
  sym: boolean;
  /** Visit columns by decreasing diag(H). */
  actOrder: boolean;
  /** Damping as a fraction of mean(diag H); the reference's default is 0.01. */
  percDamp: number;
  /** A fixed per-row grid; by default findParams on W, as the reference does. */
  params?: QuantParams;
}

export const defaultTraceOptions: TraceOptions = {
  bits: defaultQuantOptions.bits,
  sym: defaultQuantOptions.sym,
  actOrder: defaultQuantOptions.actOrder,
  percDamp: defaultQuantOptions.percDamp,
};

/** One column of the sweep. Matrices are in sweep order: column i is original column order[i]. */
export interface TraceStep {
  /** Position in the sweep, 0-based. */
  index: number;
  /** The original column quantized in this step (order[index]). */
  column: number;
  /** U[index, index], the divisor of this column's error. */
  d: number;
  /** The column as GPTQ met it, after the earlier steps' compensation [rows]. */
  w: Float64Array;
  /** Its quantized values [rows]. */
  q: Float64Array;
  /** Integer codes [rows]. */
  codes: Uint8Array;
  /** w − q [rows]. */
  err: Float64Array;
  /** The change this step pushed into the later columns [rows, cols], sweep order; 0 elsewhere. */
  update: Float64Array;
  /** The working W after this step [rows, cols], sweep order; columns 0..index hold Q. */
  W: Float64Array;
  /** Σ (w − q)²/d²/2 over the steps so far (the reference's loss). */
  loss: number;
}

export interface GptqTrace {
  rows: number;
  cols: number;
  /** order[i] = original column quantized i-th (identity without act-order). */
  order: Int32Array;
  /** The grid of each row (found on the original W, before dead columns are zeroed). */
  params: QuantParams;
  maxq: number;
  /** Input columns with diag(H) = 0: their weights are set to 0 and H[i,i] to 1. */
  deadColumns: number[];
  /** Absolute damping added to the diagonal. */
  damp: number;
  /** H [cols, cols], sweep order (dead columns' diagonal set to 1), undamped. */
  H: Float64Array;
  /** H + damp·I [cols, cols], sweep order. */
  Hd: Float64Array;
  /** (H + damp·I)⁻¹ [cols, cols], sweep order. */
  Hinv: Float64Array;
  /** Upper U with Hinv = UᵀU [cols, cols], sweep order: row i is what step i pushes along. */
  U: Float64Array;
  /** W before the first step [rows, cols], sweep order (dead columns zeroed). */
  start: Float64Array;
  steps: TraceStep[];
  /** The quantized layer [rows, cols], original column order. */
  Q: Float64Array;
  /** Its codes [rows, cols], original column order. */
  codes: Uint8Array;
  loss: number;
}

export function gptqTrace(W0: Matrix, H0: Matrix, rows: number, cols: number, options: Partial<TraceOptions> = {}): GptqTrace {
  const o: TraceOptions = { ...defaultTraceOptions, ...options };
  const maxq = maxQ(o.bits);
  const W = Float64Array.from(W0.subarray(0, rows * cols)); // [rows, cols], original order
  const H = Float64Array.from(H0.subarray(0, cols * cols)); // [cols, cols], original order
  const params = o.params ?? findParams(W, rows, cols, 0, cols, o.bits, o.sym, false);

  const deadColumns: number[] = [];
  for (let c = 0; c < cols; c++) {
    if (H[c * cols + c] !== 0) continue;
    deadColumns.push(c);
    H[c * cols + c] = 1;
    for (let r = 0; r < rows; r++) W[r * cols + c] = 0;
  }

  const order = o.actOrder ? actOrderPermutation(H, cols) : Int32Array.from({ length: cols }, (_, i) => i);
  const Wp = permuteColumns(W, rows, cols, order); // [rows, cols], sweep order
  const Hp = new Float64Array(cols * cols); // H[order][:, order]
  for (let i = 0; i < cols; i++) for (let j = 0; j < cols; j++) Hp[i * cols + j] = H[order[i] * cols + order[j]];

  let meanDiag = 0;
  for (let i = 0; i < cols; i++) meanDiag += Hp[i * cols + i];
  meanDiag /= cols;
  const damp = o.percDamp * meanDiag;
  const Hd = Hp.slice();
  for (let i = 0; i < cols; i++) Hd[i * cols + i] += damp;
  const Hinv = choleskyInverse(cholesky(Hd, cols), cols);
  const U = upperCholesky(Hinv, cols);

  const start = Wp.slice();
  const steps: TraceStep[] = [];
  const Qp = new Float64Array(rows * cols);
  const codesP = new Uint8Array(rows * cols);
  let loss = 0;
  for (let j = 0; j < cols; j++) {
    const d = U[j * cols + j];
    const w = new Float64Array(rows);
    const q = new Float64Array(rows);
    const codes = new Uint8Array(rows);
    const err = new Float64Array(rows);
    const update = new Float64Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      const wr = Wp[r * cols + j];
      const code = quantCode(wr, params.scale[r], params.zero[r], maxq);
      const qr = params.scale[r] * (code - params.zero[r]);
      w[r] = wr;
      q[r] = qr;
      codes[r] = code;
      err[r] = wr - qr;
      loss += ((wr - qr) * (wr - qr)) / (d * d) / 2;
      const e = (wr - qr) / d;
      // W[r, k] −= e·U[j, k] for the later columns k > j
      for (let k = j + 1; k < cols; k++) {
        const before = Wp[r * cols + k];
        Wp[r * cols + k] -= e * U[j * cols + k];
        update[r * cols + k] = Wp[r * cols + k] - before;
      }
      Wp[r * cols + j] = qr;
      Qp[r * cols + j] = qr;
      codesP[r * cols + j] = code;
    }
    steps.push({ index: j, column: order[j], d, w, q, codes, err, update, W: Wp.slice(), loss });
  }

  const Q = new Float64Array(rows * cols);
  const codes = new Uint8Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < cols; j++) {
      Q[r * cols + order[j]] = Qp[r * cols + j];
      codes[r * cols + order[j]] = codesP[r * cols + j];
    }
  }
  return { rows, cols, order, params, maxq, deadColumns, damp, H: Hp, Hd, Hinv, U, start, steps, Q, codes, loss };
}

/** M[:, order] as a new [rows, cols] matrix. */
export function permuteColumns(M: ArrayLike<number>, rows: number, cols: number, order: ArrayLike<number>): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) out[r * cols + j] = M[r * cols + order[j]];
  return out;
}

/** The inverse of permuteColumns: out[:, order[j]] = M[:, j]. */
export function unpermuteColumns(M: ArrayLike<number>, rows: number, cols: number, order: ArrayLike<number>): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) out[r * cols + order[j]] = M[r * cols + j];
  return out;
}
