/**
 * Kernels of the transformer forward pass: embedding gather, RMS/Layer norm, rotary
 * embeddings, causal grouped-query attention, elementwise ops (residual, bias, SiLU gate,
 * GELU), linear layers (the strided GEMM), and log-softmax NLL with argmax.
 * Activations are row-major [tokens, width] matrices; tokens of one sequence are consecutive.
 */
import embedSource from '../../../shaders/embed.wgsl?raw';
import normSource from '../../../shaders/norm.wgsl?raw';
import ropeSource from '../../../shaders/rope.wgsl?raw';
import attentionSource from '../../../shaders/attention.wgsl?raw';
import elementwiseSource from '../../../shaders/elementwise.wgsl?raw';
import nllSource from '../../../shaders/nll_chunk.wgsl?raw';
import { defineKernel } from '../kernel';
import { ParamStruct } from '../params';
import type { Recorder } from '../recorder';
import { FORMAT_CODE, rowSpans, rowWindow, type GpuMatrix } from '../matrix';
import { encodeGemm } from './gemm';

const EMBED_WG = 64;
const NORM_WG = 64;
const ROPE_WG = 64;
const ATTENTION_WG = 64;
const ELEMENTWISE_WG = 64;
const NLL_WG = 64;
/** The attention kernel keeps one head's output in registers: head_dim up to this. */
export const MAX_HEAD_DIM = 256;
/** Dispatch grids are folded into 2D past this many workgroups per dimension. */
const MAX_GROUPS = 65535;

const embedKernel = defineKernel({
  name: 'forward.embed',
  source: embedSource,
  entryPoint: 'main',
  params: new ParamStruct('EmbedParams', {
    cols: 'u32',
    count: 'u32',
    tokenBase: 'u32',
    outRow0: 'u32',
    v0: 'u32',
    vRows: 'u32',
    ldE: 'u32',
    ldOut: 'u32',
    accumulate: 'u32',
    vocab: 'u32',
    slot: 'u32',
    scale: 'f32',
  }),
  storage: ['read', 'read', 'rw', 'rw'],
});

const normKernel = defineKernel({
  name: 'forward.norm',
  source: normSource,
  entryPoint: 'main',
  params: new ParamStruct('NormParams', {
    rows: 'u32',
    rowStart: 'u32',
    winRow0: 'u32',
    ld: 'u32',
    cols: 'u32',
    segments: 'u32',
    kind: 'u32',
    eps: 'f32',
  }),
  storage: ['read', 'rw', 'read', 'read'],
});

const ropeKernel = defineKernel({
  name: 'forward.rope',
  source: ropeSource,
  entryPoint: 'main',
  params: new ParamStruct('RopeParams', {
    rows: 'u32',
    rowStart: 'u32',
    winRow0: 'u32',
    ld: 'u32',
    colOff: 'u32',
    heads: 'u32',
    headDim: 'u32',
    rotDim: 'u32',
    seqlen: 'u32',
    posBase: 'u32',
  }),
  storage: ['rw', 'read'],
});

const attentionKernel = defineKernel({
  name: 'forward.attention',
  source: attentionSource,
  entryPoint: 'main',
  params: new ParamStruct('AttentionParams', {
    rows: 'u32',
    rowStart: 'u32',
    winRow0: 'u32',
    seqlen: 'u32',
    heads: 'u32',
    kvHeads: 'u32',
    headDim: 'u32',
    qOff: 'u32',
    kOff: 'u32',
    vOff: 'u32',
    ldq: 'u32',
    ldk: 'u32',
    ldv: 'u32',
    ldo: 'u32',
    window: 'u32',
    scale: 'f32',
  }),
  storage: ['read', 'read', 'read', 'rw'],
});

const elementwiseKernel = defineKernel({
  name: 'forward.elementwise',
  source: elementwiseSource,
  entryPoint: 'main',
  params: new ParamStruct('ElementwiseParams', {
    op: 'u32',
    rows: 'u32',
    rowStart: 'u32',
    winRow0: 'u32',
    cols: 'u32',
    ld: 'u32',
    ldx: 'u32',
    xColOff: 'u32',
    alpha: 'f32',
  }),
  storage: ['rw', 'read', 'read'],
});

const nllKernel = defineKernel({
  name: 'forward.nll',
  source: nllSource,
  entryPoint: 'main',
  params: new ParamStruct('NllParams', { rows: 'u32', cols: 'u32', ld: 'u32', outBase: 'u32', rowsPerY: 'u32', slot: 'u32', v0: 'u32', vocab: 'u32' }),
  storage: ['read', 'read', 'rw', 'rw', 'rw', 'rw'],
});

/**
 * Slots (u32 each) of a forward pass's status buffer: the embedding and NLL kernels set a slot to
 * 1 when an id or a target is outside the vocabulary, instead of skipping or scoring it silently.
 */
export const FORWARD_STATUS = { embedRowOutOfRange: 0, targetOutOfRange: 1 } as const;
export const FORWARD_STATUS_SLOTS = 4;

/** Where a kernel raises its flag: a status buffer (cleared by the caller) and a slot in it. */
export interface StatusSlot {
  buffer: GPUBuffer;
  slot: number;
}

export const ELEMENTWISE = { add: 0, bias: 1, siluGate: 2, geluNew: 3, copy: 4, geluTanhGate: 5, relu: 6, softcap: 7, subtractFrom: 8 } as const;
export type ElementwiseOp = (typeof ELEMENTWISE)[keyof typeof ELEMENTWISE];

/**
 * out[t] = E[ids[t]] · scale (+= with accumulate, for learned positions); E [rows, cols] (f32 or
 * 16-bit), ids
 * [out.rows]. An id ≥ E.rows raises `status` (and leaves its row unwritten): read it back.
 */
export function encodeEmbed(
  rec: Recorder,
  E: GpuMatrix,
  ids: GPUBuffer,
  out: GpuMatrix,
  accumulate: boolean,
  bindingLimit: number,
  status: StatusSlot,
  scale = 1,
): void {
  for (const o of rowSpans(0, out.rows, [out], bindingLimit)) {
    for (const e of rowSpans(0, E.rows, [E], bindingLimit)) {
      for (let tokenBase = o.rowStart; tokenBase < o.rowStart + o.rows; tokenBase += MAX_GROUPS) {
        const count = Math.min(MAX_GROUPS, o.rowStart + o.rows - tokenBase);
        rec.dispatch(
          embedKernel,
          { WG_X: EMBED_WG, E_FORMAT: FORMAT_CODE[E.format ?? 'f32'] },
          {
            cols: E.cols,
            count,
            tokenBase,
            outRow0: o.r0,
            v0: e.rowStart,
            vRows: e.rows,
            ldE: E.ld,
            ldOut: out.ld,
            accumulate: accumulate ? 1 : 0,
            vocab: E.rows,
            slot: status.slot,
            scale,
          },
          [rowWindow(E, e.r0, e.n), { buffer: ids }, rowWindow(out, o.r0, o.n), { buffer: status.buffer }],
          [Math.ceil(E.cols / EMBED_WG), count],
        );
      }
    }
  }
}

export interface NormWeights {
  kind: 'rms' | 'layer';
  eps: number;
  /** [cols] */
  weight: GPUBuffer;
  /** [cols]; for RMS norms any buffer (unread). */
  bias: GPUBuffer;
}

/**
 * y = norm(x) row by row, or by segments of `width` columns (q/k norms: one per head); x and y
 * [rows, ld] may not be the same matrix.
 */
export function encodeNorm(rec: Recorder, x: GpuMatrix, y: GpuMatrix, w: NormWeights, bindingLimit: number, width = x.cols): void {
  if (x.cols % width !== 0) throw new RangeError(`${x.cols} columns are not whole segments of ${width}`);
  const segments = x.cols / width;
  for (const s of rowSpans(0, x.rows, [x, y], bindingLimit)) {
    rec.dispatch(
      normKernel,
      { WG: NORM_WG },
      { rows: s.rows, rowStart: s.rowStart, winRow0: s.r0, ld: x.ld, cols: width, segments, kind: w.kind === 'rms' ? 0 : 1, eps: w.eps },
      [rowWindow(x, s.r0, s.n), rowWindow(y, s.r0, s.n), { buffer: w.weight }, { buffer: w.bias }],
      [Math.ceil((s.rows * segments) / NORM_WG)],
    );
  }
}

/**
 * Rotary embedding in place on `heads` heads (of headDim columns) starting at column colOff of x;
 * the first rotDim columns of each head rotate (the table's width: [positions, rotDim/2, 2]).
 * Row t is at position posBase + t mod seqlen (posBase: the tokens already in a KV cache).
 */
export function encodeRope(
  rec: Recorder,
  x: GpuMatrix,
  colOff: number,
  heads: number,
  headDim: number,
  seqlen: number,
  table: GPUBuffer,
  bindingLimit: number,
  rotDim = headDim,
  posBase = 0,
): void {
  for (const s of rowSpans(0, x.rows, [x], bindingLimit)) {
    rec.dispatch(
      ropeKernel,
      { WG_X: ROPE_WG },
      { rows: s.rows, rowStart: s.rowStart, winRow0: s.r0, ld: x.ld, colOff, heads, headDim, rotDim, seqlen, posBase },
      [rowWindow(x, s.r0, s.n), { buffer: table }],
      [Math.ceil((heads * rotDim) / 2 / ROPE_WG), s.rows],
    );
  }
}

/** cos/sin table [seqlen, headDim/2, 2] of plain RoPE for positions 0..seqlen−1 (computed in f64). */
export function ropeTable(seqlen: number, headDim: number, theta: number): Float32Array {
  const half = headDim / 2;
  const invFreq = Float64Array.from({ length: half }, (_, i) => 1 / Math.pow(theta, (2 * i) / headDim));
  return ropeTableOf(seqlen, invFreq, 1);
}

/**
 * cos/sin table [seqlen, invFreq.length, 2] from inverse frequencies (ropeInverseFrequencies), with
 * cos and sin times `attentionScale`. As transformers: inv_freq held in f32, angle pos · inv_freq in f32.
 */
export function ropeTableOf(seqlen: number, invFreq: ArrayLike<number>, attentionScale: number): Float32Array {
  const half = invFreq.length;
  const out = new Float32Array(seqlen * half * 2);
  for (let p = 0; p < seqlen; p++) {
    for (let i = 0; i < half; i++) {
      const angle = Math.fround(p * Math.fround(invFreq[i]));
      out[(p * half + i) * 2] = Math.cos(angle) * attentionScale;
      out[(p * half + i) * 2 + 1] = Math.sin(angle) * attentionScale;
    }
  }
  return out;
}

/** The heads of an attention: grouped-query counts, head size, score scale and sliding window. */
export interface AttentionHeads {
  heads: number;
  kvHeads: number;
  headDim: number;
  /** Scores are q·k times this (default headDim^−0.5). */
  scale?: number;
  /** Sliding window: query t sees keys s with t − window < s (null or absent: all s ≤ t). */
  window?: number | null;
}

/** The inputs of a full forward's attention, for both kernels (this per-query one and attention-tiled.ts). */
export interface AttentionInputs extends AttentionHeads {
  /** The matrices holding Q, K, V (possibly one and the same) and their column offsets. */
  Q: GpuMatrix;
  qOff: number;
  K: GpuMatrix;
  kOff: number;
  V: GpuMatrix;
  vOff: number;
  /** Tokens per sequence; sequences are consecutive rows. */
  seqlen: number;
}

/** O = causal attention of each sequence of seqlen tokens (windows are whole sequences). */
export function encodeAttention(rec: Recorder, a: AttentionInputs, O: GpuMatrix, bindingLimit: number): void {
  if (a.headDim > MAX_HEAD_DIM) throw new RangeError(`head_dim ${a.headDim} is above the supported ${MAX_HEAD_DIM}`);
  const mats = [a.Q, a.K, a.V, O];
  for (const s of rowSpans(0, O.rows, mats, bindingLimit, a.seqlen)) {
    rec.dispatch(
      attentionKernel,
      { WG: ATTENTION_WG },
      {
        rows: s.rows,
        rowStart: s.rowStart,
        winRow0: s.r0,
        seqlen: a.seqlen,
        heads: a.heads,
        kvHeads: a.kvHeads,
        headDim: a.headDim,
        qOff: a.qOff,
        kOff: a.kOff,
        vOff: a.vOff,
        ldq: a.Q.ld,
        ldk: a.K.ld,
        ldv: a.V.ld,
        ldo: O.ld,
        window: a.window ?? 0,
        scale: a.scale ?? 1 / Math.sqrt(a.headDim),
      },
      [rowWindow(a.Q, s.r0, s.n), rowWindow(a.K, s.r0, s.n), rowWindow(a.V, s.r0, s.n), rowWindow(O, s.r0, s.n)],
      [Math.ceil((s.rows * a.heads) / ATTENTION_WG)],
    );
  }
}

export interface ElementwiseArgs {
  op: ElementwiseOp;
  y: GpuMatrix;
  /** The second operand (add, siluGate, copy, subtractFrom), read from column xColOff. */
  x?: GpuMatrix;
  xColOff?: number;
  /** [cols] for the bias op. */
  bias?: GPUBuffer;
  /** Columns of y to touch (default all). */
  cols?: number;
  /** Bound in place of an operand the op does not read (WebGPU forbids binding y twice). */
  placeholder: GPUBuffer;
  /** The softcap op's c. */
  alpha?: number;
}

/** y op= x elementwise over y's first `cols` columns (see shaders/elementwise.wgsl). */
export function encodeElementwise(rec: Recorder, a: ElementwiseArgs, bindingLimit: number): void {
  const cols = a.cols ?? a.y.cols;
  const mats = a.x ? [a.y, a.x] : [a.y];
  for (const s of rowSpans(0, a.y.rows, mats, bindingLimit)) {
    rec.dispatch(
      elementwiseKernel,
      { WG_X: ELEMENTWISE_WG },
      { op: a.op, rows: s.rows, rowStart: s.rowStart, winRow0: s.r0, cols, ld: a.y.ld, ldx: a.x?.ld ?? 0, xColOff: a.xColOff ?? 0, alpha: a.alpha ?? 1 },
      [rowWindow(a.y, s.r0, s.n), a.x ? rowWindow(a.x, s.r0, s.n) : { buffer: a.placeholder }, { buffer: a.bias ?? a.placeholder }],
      [Math.ceil(cols / ELEMENTWISE_WG), s.rows],
    );
  }
}

/**
 * Y [tokens, out] = X [tokens, in] · Wᵀ with W [out, in] (all windowed as needed; W f32 or
 * 16-bit, X and Y f32). With xRow0,
 * Y's rows are X's rows [xRow0, xRow0 + Y.rows) (Y must then fit one binding).
 */
export function encodeLinear(rec: Recorder, X: GpuMatrix, W: GpuMatrix, Y: GpuMatrix, bindingLimit: number, xRow0 = 0): void {
  const paired = xRow0 === 0 && Y.rows === X.rows;
  const xSpans = paired ? rowSpans(0, X.rows, [X, Y], bindingLimit) : rowSpans(xRow0, xRow0 + Y.rows, [X], bindingLimit);
  for (const xs of xSpans) {
    const yBinding = paired ? rowWindow(Y, xs.r0, xs.n) : { buffer: Y.buffer, size: Y.rows * Y.ld * 4 };
    const yRow = paired ? xs.rowStart - xs.r0 : xs.rowStart - xRow0;
    for (const ws of rowSpans(0, W.rows, [W], bindingLimit)) {
      encodeGemm(rec, {
        M: xs.rows,
        N: ws.rows,
        K: W.cols,
        A: { binding: rowWindow(X, xs.r0, xs.n), off: (xs.rowStart - xs.r0) * X.ld, rs: X.ld, cs: 1 },
        B: { binding: rowWindow(W, ws.r0, ws.n), off: (ws.rowStart - ws.r0) * W.ld, rs: 1, cs: W.ld, format: W.format },
        C: { binding: yBinding, off: yRow * Y.ld + ws.rowStart, ld: Y.ld },
        alpha: 0,
        beta: 1,
      });
    }
  }
}

/** The target of a sequence's last position, which has no next token to score. */
export const NO_TARGET = 0xffffffff;

/** Where encodeNll reads its targets and writes its results. */
export interface NllOutputs {
  /** [T] u32: each token's next token (NO_TARGET where there is none). */
  targets: GPUBuffer;
  /** [T] f32 and [T] u32, written by the chunk that ends the vocabulary. */
  nll: GPUBuffer;
  argmax: GPUBuffer;
  /** [T, 4] f32: each token's running [max, Σ exp, target logit, argmax]; 16 bytes (never read) when one chunk spans the vocabulary. */
  state: GPUBuffer;
  status: StatusSlot;
}

/**
 * Log-softmax NLL and argmax over the vocabulary a chunk of logits at a time (shaders/nll_chunk.wgsl,
 * an online log-sum-exp): `logits` [rows, cols] (one binding) holds vocabulary columns
 * [v0, v0 + cols) of tokens outBase … outBase + rows − 1, which it folds into their `state`; the
 * chunk that ends the vocabulary (v0 + cols = vocab) writes nll[outBase + t] = −log softmax(z)[target]
 * and argmax[outBase + t] (the first index of the max). Targets are indexed from outBase too; a
 * target of NO_TARGET gets nll 0, any other target ≥ vocab gets NaN and raises `status`: read it
 * back. Whole vocabulary rows are one chunk (v0 = 0, vocab = logits.cols, the default).
 */
export function encodeNll(rec: Recorder, logits: GpuMatrix, out: NllOutputs, outBase: number, v0 = 0, vocab = logits.cols): void {
  const rowsPerY = Math.min(logits.rows, MAX_GROUPS);
  rec.dispatch(
    nllKernel,
    { WG: NLL_WG },
    { rows: logits.rows, cols: logits.cols, ld: logits.ld, outBase, rowsPerY, slot: out.status.slot, v0, vocab },
    [rowWindow(logits, 0, logits.rows), { buffer: out.targets }, { buffer: out.state }, { buffer: out.nll }, { buffer: out.argmax }, { buffer: out.status.buffer }],
    [rowsPerY, Math.ceil(logits.rows / rowsPerY)],
  );
}
