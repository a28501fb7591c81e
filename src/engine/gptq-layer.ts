/**
 * GPTQ for one linear layer on the GPU (IST-DASLab/gptq's GPTQ class: add_batch, fasterquant).
 * W: [rows = out features, cols = in features]; calibration inputs X: [tokens, cols].
 *
 * Every numeric step runs in WGSL; this class only orchestrates:
 *   addBatch   H = n/(n+k)·H + 2/(n+k)·XᵀX                          (running mean, k sequences)
 *   quantize   diag(H) → dead columns, damping, act-order perm
 *              F = chol(J·Pᵀ(H + dead + damp·I)P·J), F ← F⁻¹        (upper factor of H⁻¹, reversed)
 *              for each block of columns: group params (from W at the block start), the sweep,
 *              the lazy update of the later columns; undo the permutation
 * With J the reversal, U = J·F⁻¹·J is upper triangular and H⁻¹ = UᵀU: one Cholesky and one
 * triangular inverse give the reference's chol(chol_inverse(chol(H)), upper) (see linalg.test).
 *
 * Linears that read the same input (q/k/v, gate/up) have the same H. A layer made with
 * `hessianOf` shares that layer's H instead of accumulating its own copy, and the layers sharing
 * one H share its factor F too: it is computed once for given damping options and kept until the
 * last of them is disposed. The results are those of separate copies, bit for bit (same kernels
 * on the same H).
 */
import type { GpuRuntime } from '../gpu/runtime';
import type { GpuMatrix } from '../gpu/matrix';
import type { Recorder } from '../gpu/recorder';
import { encodeHessianUpdate, encodeDiag, encodeDiagStats, encodeArgsort } from '../gpu/kernels/hessian';
import { encodeGatherCols, encodeGatherRows } from '../gpu/kernels/gather';
import {
  CHOL_NB,
  choleskyScratchBytes,
  encodeCholesky,
  encodeTriangularInverse,
  inverseScratchBytes,
} from '../gpu/kernels/cholesky';
import { codesLayout, encodeGroupParams } from '../gpu/kernels/quantize';
import { readQuantized, rtnOnGpu } from './rtn';
import { encodeLazyUpdate, encodeSweep, encodeUnpermute, type SweepBuffers } from '../gpu/kernels/gptq';
import { encodeCheckFinite, STATUS, STATUS_SLOTS } from '../gpu/kernels/checks';
import { tuneGemm } from '../gpu/kernels/gemm';
import { encodeOutputError, outputErrorChunk } from '../gpu/kernels/output-error';
import { groupIndex, effectiveGroupSize } from '../core/groups';
import {
  DAMP_RETRY,
  defaultQuantOptions,
  groupCount,
  validateQuantOptions,
  type GptqResult,
  type QuantOptions,
  type QuantResult,
} from '../core/types';

/** Wall-clock seconds per stage of one quantization (the GPU is awaited at each stage's end). */
export interface StageSeconds {
  /** All addBatch calls so far (Hessian accumulation). */
  hessian: number;
  /** Diagonal, dead columns, damping, act-order permutation, working copies. */
  prepare: number;
  /** Cholesky and triangular inverse, over all damping attempts. */
  inverse: number;
  /** Group parameters, the per-block sweep and the lazy updates. */
  sweep: number;
  /** Undoing the permutation and reading the results back. */
  finalize: number;
  total: number;
}

export interface GpuGptqResult extends GptqResult {
  seconds: StageSeconds;
  /** Damping attempts made (1 when the first factorization succeeded). */
  dampAttempts: number;
}

export interface LayerQuantizeOptions extends Partial<QuantOptions> {
  /** Damping retries after the first attempt (default DAMP_RETRY.retries). */
  maxDampRetries?: number;
}

const now = () => performance.now() / 1000;

/** The factor F of (H + damp·I) for one set of damping options, kept for the layers sharing H. */
interface SharedFactor {
  /** percDamp, actOrder and the retries it was made with. */
  key: string;
  F: GpuMatrix;
  /** The damping of the attempt that succeeded, percent as a fraction, and the attempts before it. */
  percDamp: number;
  attempts: number;
}

/** H [cols, cols] and what goes with it, owned jointly by the layers that read one input. */
interface SharedHessian {
  H: GpuMatrix;
  /** u32 flags [STATUS_SLOTS]: the inputs' nonFiniteX. */
  status: GPUBuffer;
  nsamples: number;
  /** Layers not yet disposed that use this H. */
  users: number;
  factor: SharedFactor | null;
}

export interface GptqLayerOptions {
  /** Use this layer's H (the linears read the same input): inputs added to either go to both. */
  hessianOf?: GptqLayer;
}

export class GptqLayer {
  private readonly W: GpuMatrix;
  private readonly hessian: SharedHessian;
  /** u32 flags [STATUS_SLOTS] raised by kernels on this layer (non-finite W, not positive definite). */
  private readonly status: GPUBuffer;
  private hessianSeconds = 0;
  private disposed = false;

  /**
   * W [rows, cols] row-major (out features × in features), uploaded now. Throws a RangeError when
   * W's length is not rows·cols, or when `hessianOf` has another number of columns.
   */
  constructor(
    private readonly rt: GpuRuntime,
    readonly name: string,
    W: Float32Array,
    readonly rows: number,
    readonly cols: number,
    options: GptqLayerOptions = {},
  ) {
    if (!(rows > 0 && cols > 0) || W.length !== rows * cols) {
      throw new RangeError(`Layer "${name}": W has ${W.length} values, expected ${rows}×${cols}`);
    }
    const other = options.hessianOf;
    if (other && (other.cols !== cols || other.rt !== rt)) {
      throw new RangeError(`Layer "${name}": cannot share the H of "${other.name}" (${other.cols} columns${other.rt !== rt ? ', another device' : ''}), it has ${cols}`);
    }
    other?.live();
    this.W = rt.matrix(rows, cols, `${name}.W`);
    this.status = rt.storage(STATUS_SLOTS * 4, `${name}.status`);
    rt.uploadMatrix(this.W, W);
    const rec = rt.recorder(`${name}.init`);
    if (other) {
      this.hessian = other.hessian;
      this.hessian.users++;
    } else {
      this.hessian = {
        H: rt.matrix(cols, cols, `${name}.H`),
        status: rt.storage(STATUS_SLOTS * 4, `${name}.H.status`),
        nsamples: 0,
        users: 1,
        factor: null,
      };
      rec.clear(this.hessian.H.buffer);
      rec.clear(this.hessian.status);
    }
    rec.clear(this.status);
    encodeCheckFinite(rec, this.W, this.status, STATUS.nonFiniteW, rt.bindingLimit);
    rec.finish();
  }

  /** Samples (sequences) accumulated into H so far. */
  get samples(): number {
    return this.hessian.nsamples;
  }

  private get H(): GpuMatrix {
    return this.hessian.H;
  }

  /** Adds calibration inputs X [tokens, cols] holding `sequences` sequences to H. */
  async addBatch(X: Float32Array, tokens: number, sequences = 1): Promise<void> {
    this.live();
    if (X.length !== tokens * this.cols) {
      throw new RangeError(`Layer "${this.name}": X has ${X.length} values, expected ${tokens}×${this.cols}`);
    }
    const rt = this.rt;
    await tuneGemm(rt);
    const t0 = now();
    const Xg = rt.matrix(tokens, this.cols, `${this.name}.X`);
    rt.uploadMatrix(Xg, X);
    await rt.scoped(`Layer "${this.name}" Hessian`, async () => {
      const rec = rt.recorder(`${this.name}.hessian`);
      this.encodeAddBatch(rec, Xg, sequences);
      rec.finish();
      await rt.idle();
    });
    rt.release(Xg);
    this.hessianSeconds += now() - t0;
  }

  /**
   * Records the accumulation of inputs already on the GPU (X [tokens, cols], `sequences`
   * sequences) into H, in the caller's command stream: the model driver captures a linear's
   * inputs this way while it runs the block.
   */
  encodeAddBatch(rec: Recorder, X: GpuMatrix, sequences: number): void {
    this.live();
    if (X.cols !== this.cols) throw new RangeError(`Layer "${this.name}": inputs have ${X.cols} columns, expected ${this.cols}`);
    if (!(sequences > 0)) throw new RangeError(`Layer "${this.name}": a batch holds at least one sequence`);
    const hs = this.hessian;
    const a = hs.nsamples / (hs.nsamples + sequences);
    const b = 2 / (hs.nsamples + sequences);
    hs.nsamples += sequences;
    this.dropFactor();
    encodeCheckFinite(rec, X, hs.status, STATUS.nonFiniteX, this.rt.bindingLimit);
    encodeHessianUpdate(rec, this.H, X, a, b, this.rt.bindingLimit);
  }

  /** The Hessian as accumulated so far, [cols, cols] row-major. */
  async readHessian(): Promise<Float32Array> {
    this.live();
    return this.rt.readMatrix(this.H);
  }

  /**
   * diag(H) [cols] as accumulated so far: before damping and the dead-column fix, original column
   * order (what imatrix.gguf needs: Σ x_j² = diag(H)_j · samples / 2).
   */
  async readHessianDiag(): Promise<Float32Array> {
    this.live();
    const rt = this.rt;
    const diag = rt.storage(this.cols * 4, `${this.name}.diagH`);
    try {
      const rec = rt.recorder(`${this.name}.diagH`);
      encodeDiag(rec, this.H, diag, rt.bindingLimit);
      rec.finish();
      return await rt.readF32(diag, 0, this.cols);
    } finally {
      rt.release(diag);
    }
  }

  async quantize(options: LayerQuantizeOptions = {}): Promise<GpuGptqResult> {
    const { maxDampRetries = DAMP_RETRY.retries, ...rest } = options;
    const o: QuantOptions = { ...defaultQuantOptions, ...rest };
    validateQuantOptions(o);
    await this.checkInputs();
    if (this.hessian.nsamples === 0) {
      throw new Error(`Layer "${this.name}": no calibration inputs yet; call addBatch before quantize`);
    }
    // Once per device: the GEMM kernel every stage uses is the faster one measured there.
    await tuneGemm(this.rt);
    return this.rt.scoped(`Layer "${this.name}" GPTQ`, () => this.runGptq(o, maxDampRetries));
  }

  /** Round to nearest on the same grid (no Hessian needed): src/engine/rtn.ts rtnOnGpu on this layer's W. */
  async rtn(options: Partial<QuantOptions> = {}): Promise<QuantResult> {
    const o: QuantOptions = { ...defaultQuantOptions, ...options };
    validateQuantOptions(o);
    await this.checkInputs(false);
    return this.rt.scoped(`Layer "${this.name}" RTN`, () => rtnOnGpu(this.rt, this.W, o, this.name, true));
  }

  /** ‖W Xᵀ − Q̂ Xᵀ‖² / (rows · tokens) for a quantized weight Q̂ [rows, cols] and X [tokens, cols]. */
  async outputMse(Qhat: Float32Array, X: Float32Array | GpuMatrix, tokens = X instanceof Float32Array ? X.length / this.cols : X.rows): Promise<number> {
    this.live();
    const onHost = X instanceof Float32Array;
    if (Qhat.length !== this.rows * this.cols || (onHost ? X.length !== tokens * this.cols : X.cols !== this.cols)) {
      throw new RangeError(`Layer "${this.name}": outputMse needs Q̂ ${this.rows}×${this.cols} and X ${tokens}×${this.cols}`);
    }
    const rt = this.rt;
    return rt.scoped(`Layer "${this.name}" output error`, async () => {
      const Q = rt.matrix(this.rows, this.cols, `${this.name}.mse.Q`);
      rt.uploadMatrix(Q, Qhat);
      let Xg = X as GpuMatrix;
      if (onHost) {
        Xg = rt.matrix(tokens, this.cols, `${this.name}.mse.X`);
        rt.uploadMatrix(Xg, X);
      }
      const E = rt.matrix(outputErrorChunk(this.rows, Xg.rows, rt.bindingLimit), this.rows, `${this.name}.mse.E`);
      const partial = rt.storage(Xg.rows * 4, `${this.name}.mse.partial`);
      const rec = rt.recorder(`${this.name}.mse`);
      encodeOutputError(rec, this.W, Q, Xg, E, partial, rt.bindingLimit);
      rec.finish();
      const sums = await rt.readF32(partial, 0, Xg.rows);
      rt.release(Q, E, partial, onHost ? Xg : null);
      let total = 0;
      for (const s of sums) total += s;
      return total / (this.rows * Xg.rows);
    });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.rt.release(this.W, this.status);
    if (--this.hessian.users === 0) {
      this.dropFactor();
      this.rt.release(this.hessian.H, this.hessian.status);
    }
  }

  /** Releases the shared factor F (H changed, or its last user left). */
  private dropFactor(): void {
    const f = this.hessian.factor;
    this.hessian.factor = null;
    if (f && !this.rt.isLost) this.rt.release(f.F);
  }

  private live(): void {
    if (this.disposed) throw new Error(`Layer "${this.name}" was disposed`);
    this.rt.check();
  }

  /** Throws a clear error when W or any X batch held NaN or Inf. */
  private async checkInputs(needX = true): Promise<void> {
    this.live();
    const flags = await this.rt.readU32(this.status, 0, STATUS_SLOTS);
    if (flags[STATUS.nonFiniteW]) {
      throw new Error(`Layer "${this.name}": the weights contain NaN or Inf. Check the checkpoint (or the previous layer's output) for corrupt values.`);
    }
    if (needX && (await this.rt.readU32(this.hessian.status, 0, STATUS_SLOTS))[STATUS.nonFiniteX]) {
      throw new Error(`Layer "${this.name}": the calibration inputs contain NaN or Inf. The model's activations overflow on this text; check the previous layers or use another calibration text.`);
    }
  }

  private async runGptq(o: QuantOptions, maxDampRetries: number): Promise<GpuGptqResult> {
    const rt = this.rt;
    const n = this.cols;
    const rows = this.rows;
    const limit = rt.bindingLimit;
    const name = this.name;
    const tStart = now();
    const seconds: StageSeconds = { hessian: this.hessianSeconds, prepare: 0, inverse: 0, sweep: 0, finalize: 0, total: 0 };
    const owned: (GPUBuffer | GpuMatrix)[] = [];
    const buf = (bytes: number, label: string) => {
      const b = rt.storage(bytes, `${name}.${label}`);
      owned.push(b);
      return b;
    };
    const mat = (r: number, c: number, label: string) => {
      const m = rt.matrix(r, c, `${name}.${label}`);
      owned.push(m);
      return m;
    };
    try {
      // --- prepare: diag, dead columns, act-order permutation, working weights
      const diag = buf(n * 4, 'diag');
      const dead = buf(n * 4, 'dead');
      const scalars = buf(16, 'scalars');
      const perm = buf(n * 4, 'perm');
      const invperm = buf(n * 4, 'invperm');
      const gs = effectiveGroupSize(n, o.groupSize);
      const G = groupCount(n, o.groupSize);
      const scales = buf(G * rows * 4, 'scales');
      const zeros = buf(G * rows * 4, 'zeros');
      const Wa = mat(rows, n, 'Wwork');
      let rec = rt.recorder(`${name}.prepare`);
      encodeDiag(rec, this.H, diag, limit);
      encodeDiagStats(rec, n, o.percDamp, diag, dead, scalars);
      encodeArgsort(rec, n, false, diag, dead, perm, invperm);
      // Per-row parameters come from W before its dead columns are zeroed (as the reference).
      if (o.groupSize === -1) encodeGroupParams(rec, this.W, o, n, 0, 1, scales, zeros, limit);
      encodeGatherCols(rec, this.W, Wa, { perm, dead, scalars, zeroDead: true }, limit);
      if (o.groupSize !== -1 && o.staticGroups) encodeGroupParams(rec, Wa, o, gs, 0, G, scales, zeros, limit);
      let Wk = Wa;
      if (o.actOrder) {
        encodeArgsort(rec, n, true, diag, dead, perm, invperm);
        Wk = mat(rows, n, 'Wperm');
        encodeGatherCols(rec, Wa, Wk, { perm, dead, scalars }, limit);
      }
      rec.finish();
      const permHost = await rt.readU32(perm, 0, n);
      seconds.prepare = now() - tStart;

      // --- inverse chain, raising the damping while H + damp·I is not positive definite; the
      // layers sharing H share its factor (the same for the same damping and permutation).
      let t = now();
      const key = `${o.percDamp}/${o.actOrder}/${maxDampRetries}`;
      const shared = this.hessian.factor?.key === key ? this.hessian.factor : null;
      let F: GpuMatrix | null = null;
      let percDamp = o.percDamp;
      let attempts = 0;
      if (shared) {
        ({ F, percDamp, attempts } = shared);
        rec = rt.recorder(`${name}.damp`);
        encodeDiagStats(rec, n, percDamp, diag, dead, scalars);
        rec.finish();
      } else {
        ({ F, percDamp, attempts } = await this.factor(o.percDamp, maxDampRetries, { diag, dead, scalars, perm }, permHost));
        // Kept for the other layers on this H; a factor kept already (other damping options) stays,
        // as a layer may still be sweeping with it, and this one is released with this run.
        if (F && this.hessian.users > 1 && this.hessian.factor === null) {
          this.hessian.factor = { key, F, percDamp, attempts };
        } else if (F) {
          owned.push(F);
        }
      }
      seconds.inverse = now() - t;
      if (!F) return await this.fallBackToRtn(o, percDamp, attempts, dead, seconds, tStart);

      // --- the sweep, block by block
      t = now();
      const Err = mat(rows, Math.min(o.blockSize, n), 'Err');
      const codes = buf(codesLayout(Wk).bytes, 'codes');
      const rowLoss = buf(rows * 4, 'rowLoss');
      const sweep: SweepBuffers = { W: Wk, F, scales, zeros, perm, Err, codes, rowLoss };
      rec = rt.recorder(`${name}.sweep`);
      rec.clear(codes);
      rec.clear(rowLoss);
      for (let i1 = 0; i1 < n; i1 += o.blockSize) {
        const i2 = Math.min(i1 + o.blockSize, n);
        if (o.groupSize !== -1 && !o.staticGroups) {
          // Groups starting in this block take their grid from W as it stands now, at the block start.
          encodeGroupParams(rec, Wk, o, gs, Math.ceil(i1 / gs), Math.ceil(i2 / gs), scales, zeros, limit);
        }
        encodeSweep(rec, sweep, i1, i2, { bits: o.bits, gs, staticGroups: o.staticGroups }, limit);
        encodeLazyUpdate(rec, sweep, i1, i2, limit);
      }
      rec.finish();
      await rt.idle();
      seconds.sweep = now() - t;

      // --- finalize: undo the permutation, read back
      t = now();
      let Q = Wk;
      let codesOut = codes;
      if (o.actOrder) {
        Q = Wa; // free again: Wk holds the permuted copy
        codesOut = buf(codesLayout(Wk).bytes, 'codesOut');
        rec = rt.recorder(`${name}.finalize`);
        encodeUnpermute(rec, Wk, Q, codes, codesOut, invperm, limit);
        rec.finish();
      }
      const out = await this.readQuantized(Q, codesOut, scales, zeros, G);
      const rowLossHost = await rt.readF32(rowLoss, 0, rows);
      const scalarsHost = await rt.readF32(scalars, 0, 1);
      const deadColumns = await this.readDead(dead);
      let loss = 0;
      for (const l of rowLossHost) loss += l;
      const permOut = o.actOrder ? Int32Array.from(permHost) : null;
      seconds.finalize = now() - t;
      seconds.total = now() - tStart + seconds.hessian;
      return {
        ...out,
        gIdx: groupIndex(n, o.groupSize, permOut, o.staticGroups),
        perm: permOut,
        loss,
        percDampUsed: percDamp,
        damp: scalarsHost[0],
        fellBackToRtn: false,
        deadColumns,
        seconds,
        dampAttempts: attempts + 1,
      };
    } finally {
      if (!rt.isLost) rt.release(...owned);
    }
  }

  /**
   * F [cols, cols]: the inverse of the Cholesky factor of J·Pᵀ·(H + dead + damp·I)·P·J, raising
   * the damping by DAMP_RETRY.step while that matrix is not positive definite (at most `retries`
   * times after the first). F is null when every attempt failed; `scalars` then holds the last
   * attempt's damping. `perm`/`permHost`: the column order P [cols].
   */
  private async factor(
    percDamp0: number,
    retries: number,
    buffers: { diag: GPUBuffer; dead: GPUBuffer; scalars: GPUBuffer; perm: GPUBuffer },
    permHost: Uint32Array,
  ): Promise<{ F: GpuMatrix | null; percDamp: number; attempts: number }> {
    const rt = this.rt;
    const n = this.cols;
    const limit = rt.bindingLimit;
    const name = this.name;
    const { diag, dead, scalars, perm } = buffers;
    const reversed = Int32Array.from({ length: n }, (_, i) => permHost[n - 1 - i]);
    const scratch = choleskyScratchBytes(n, limit);
    const lkk = rt.storage(scratch.lkk, `${name}.chol.lkk`);
    const panel = rt.storage(scratch.panel, `${name}.chol.panel`);
    const dinv = rt.storage(inverseScratchBytes(n), `${name}.chol.dinv`);
    const T = rt.matrix(CHOL_NB, n, `${name}.chol.T`);
    try {
      let percDamp = percDamp0;
      let attempts = 0;
      for (; attempts <= retries; attempts++) {
        percDamp = percDamp0 + attempts * DAMP_RETRY.step;
        const rowsP = rt.matrix(n, n, `${name}.Hrows`);
        const A = rt.matrix(n, n, `${name}.Hdamped`);
        const rec = rt.recorder(`${name}.inverse`);
        encodeDiagStats(rec, n, percDamp, diag, dead, scalars);
        // A = J·Pᵀ·(H + dead + damp·I)·P·J: rows by copies, then columns by a gather.
        encodeGatherRows(rec, this.H, rowsP, reversed);
        encodeGatherCols(rec, rowsP, A, { perm, dead, scalars, flip: true, addDiag: true }, limit);
        rec.submit();
        rt.release(rowsP);
        rec.clear(this.status, STATUS.notPositiveDefinite * 4, 4);
        encodeCholesky(rec, A, { lkk, panel }, this.status, STATUS.notPositiveDefinite, limit);
        const Finv = rt.matrix(n, n, `${name}.F`);
        encodeTriangularInverse(rec, A, Finv, { dinv, T }, this.status, STATUS.notPositiveDefinite, limit);
        rec.finish();
        const flags = await rt.readU32(this.status, 0, STATUS_SLOTS);
        rt.release(A);
        if (!flags[STATUS.notPositiveDefinite]) return { F: Finv, percDamp, attempts };
        rt.release(Finv);
      }
      return { F: null, percDamp, attempts };
    } finally {
      if (!rt.isLost) rt.release(lkk, panel, dinv, T);
    }
  }

  private async fallBackToRtn(
    o: QuantOptions,
    percDamp: number,
    attempts: number,
    dead: GPUBuffer,
    seconds: StageSeconds,
    tStart: number,
  ): Promise<GpuGptqResult> {
    const t = now();
    const r = await this.rtn(o);
    const deadColumns = await this.readDead(dead);
    seconds.finalize = now() - t;
    seconds.total = now() - tStart + seconds.hessian;
    return {
      ...r,
      perm: null,
      // No GPTQ loss exists: the layer was rounded to nearest. NaN says so plainly.
      loss: Number.NaN,
      percDampUsed: percDamp,
      damp: Number.NaN,
      fellBackToRtn: true,
      deadColumns,
      seconds,
      dampAttempts: attempts,
    };
  }

  private async readDead(dead: GPUBuffer): Promise<number[]> {
    const flags = await this.rt.readU32(dead, 0, this.cols);
    const out: number[] = [];
    flags.forEach((f, i) => f && out.push(i));
    return out;
  }

  private async readQuantized(Q: GpuMatrix, codes: GPUBuffer, scales: GPUBuffer, zeros: GPUBuffer, G: number) {
    const Qhost = await this.rt.readMatrix(Q);
    return { ...(await readQuantized(this.rt, Q, codes, scales, zeros, G)), Q: Qhost };
  }
}
