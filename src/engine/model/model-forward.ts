/**
 * The whole model on the GPU, one block's weights at a time: embeddings (+ learned positions),
 * the blocks, the final norm, the LM head in chunks of tokens, and per-token negative
 * log-likelihood and argmax. Perplexity and greedy decoding are built on it.
 */
import type { GpuRuntime } from '../../gpu/runtime';
import type { GpuMatrix } from '../../gpu/matrix';
import type { Recorder } from '../../gpu/recorder';
import {
  encodeEmbed,
  encodeLinear,
  encodeNll,
  FORWARD_STATUS,
  FORWARD_STATUS_SLOTS,
  NO_TARGET,
  type NormWeights,
} from '../../gpu/kernels/forward';
import { BlockRunner, type BlockShape, type Family, type GpuBlock } from './block-forward';
import { roundedToHalf } from '../../core/export/f16';

export interface HostNorm {
  weight: Float32Array;
  bias?: Float32Array;
}

export interface HostLinear {
  /** [out, in] */
  W: Float32Array;
  out: number;
  in: number;
  bias?: Float32Array;
}

export interface HostBlock {
  linears: Map<string, HostLinear>;
  norm1: HostNorm;
  norm2: HostNorm;
}

export interface ModelSpec {
  family: Family;
  hidden: number;
  intermediate: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  vocab: number;
  maxPositions: number;
  ropeTheta: number;
  norm: 'rms' | 'layer';
  normEps: number;
}

/** Weights outside the blocks, on the host. */
export interface HostGlobals {
  /** [vocab, hidden] */
  embed: Float32Array;
  /** [maxPositions, hidden] (GPT-2's learned positions) */
  positions?: Float32Array;
  finalNorm: HostNorm;
  /** [vocab, hidden]; the same array as embed when tied */
  lmHead: Float32Array;
}

/** Gives the weights of block b (the original, or a quantized version of them). */
export type BlockSource = (b: number) => Promise<HostBlock>;

export function uploadNorm(rt: GpuRuntime, n: HostNorm, kind: 'rms' | 'layer', eps: number, label: string): NormWeights {
  const weight = rt.storage(n.weight.byteLength, `${label}.weight`);
  rt.upload(weight, 0, n.weight);
  let bias = weight;
  if (n.bias) {
    bias = rt.storage(n.bias.byteLength, `${label}.bias`);
    rt.upload(bias, 0, n.bias);
  }
  return { kind, eps, weight, bias };
}

export function releaseNorm(rt: GpuRuntime, n: NormWeights): void {
  rt.release(n.weight, n.bias === n.weight ? null : n.bias);
}

export function uploadBlock(rt: GpuRuntime, spec: ModelSpec, host: HostBlock, label: string): GpuBlock {
  const linears = new Map<string, { W: GpuMatrix; bias: GPUBuffer | null }>();
  for (const [name, l] of host.linears) {
    const W = rt.matrix(l.out, l.in, `${label}.${name}`);
    rt.uploadMatrix(W, l.W);
    let bias: GPUBuffer | null = null;
    if (l.bias) {
      bias = rt.storage(l.bias.byteLength, `${label}.${name}.bias`);
      rt.upload(bias, 0, l.bias);
    }
    linears.set(name, { W, bias });
  }
  return {
    linears,
    norm1: uploadNorm(rt, host.norm1, spec.norm, spec.normEps, `${label}.norm1`),
    norm2: uploadNorm(rt, host.norm2, spec.norm, spec.normEps, `${label}.norm2`),
  };
}

export function releaseBlock(rt: GpuRuntime, b: GpuBlock): void {
  for (const l of b.linears.values()) rt.release(l.W, l.bias);
  releaseNorm(rt, b.norm1);
  releaseNorm(rt, b.norm2);
}

export function blockShape(spec: ModelSpec, seqlen: number, sequences: number): BlockShape {
  return {
    family: spec.family,
    hidden: spec.hidden,
    intermediate: spec.intermediate,
    heads: spec.heads,
    kvHeads: spec.kvHeads,
    headDim: spec.headDim,
    ropeTheta: spec.ropeTheta,
    seqlen,
    tokens: seqlen * sequences,
  };
}

export interface TokenScores {
  /** The final norm's output [T, hidden] (the LM head's input), when asked for with keepNormed. */
  normed?: Float32Array;
  /** −log p(next token) for every position whose next token is in the same sequence. */
  nll: Float64Array;
  /** How many positions were scored (seqlen − 1 per sequence). */
  scored: number;
  /** Argmax of the logits at every position. */
  argmax: Uint32Array;
  /** The logits of the last position [vocab]. */
  lastLogits: Float32Array;
}

/** Bytes rounded to F16 per upload piece, so that no second host copy of a large matrix is made. */
const HALF_UPLOAD_BYTES = 16 << 20;

/** Uploads a dense [rows, cols] array into a padded matrix, each value rounded to F16 on the way. */
function uploadMatrixAsHalf(rt: GpuRuntime, m: GpuMatrix, data: Float32Array): void {
  if (data.length !== m.rows * m.cols) throw new RangeError(`${m.buffer.label}: expected ${m.rows}×${m.cols} values, got ${data.length}`);
  const rowsPerPiece = Math.max(1, Math.floor(HALF_UPLOAD_BYTES / (m.ld * 4)));
  const staging = new Float32Array(Math.min(rowsPerPiece, m.rows) * m.ld);
  for (let r0 = 0; r0 < m.rows; r0 += rowsPerPiece) {
    const n = Math.min(rowsPerPiece, m.rows - r0);
    const piece = roundedToHalf(data.subarray(r0 * m.cols, (r0 + n) * m.cols));
    for (let r = 0; r < n; r++) staging.set(piece.subarray(r * m.cols, (r + 1) * m.cols), r * m.ld);
    rt.upload(m.buffer, r0 * m.ld * 4, staging.subarray(0, n * m.ld));
  }
}

/** Weights outside the blocks, uploaded once. */
export class GpuGlobals {
  readonly E: GpuMatrix;
  readonly positions: GpuMatrix | null;
  readonly head: GpuMatrix;
  readonly finalNorm: NormWeights;
  /** Every value was uploaded rounded to F16 (the exported file's values). */
  readonly half: boolean;

  /**
   * With `half`, every value is uploaded rounded to F16, as the exported file holds it (the run's
   * RTN and GPTQ models); the host arrays are not changed and no full rounded copy is made.
   */
  constructor(
    private readonly rt: GpuRuntime,
    readonly spec: ModelSpec,
    host: HostGlobals,
    options: { half?: boolean } = {},
  ) {
    const half = options.half === true;
    this.half = half;
    const upload = (m: GpuMatrix, data: Float32Array) => (half ? uploadMatrixAsHalf(rt, m, data) : rt.uploadMatrix(m, data));
    this.E = rt.matrix(spec.vocab, spec.hidden, 'model.embed');
    upload(this.E, host.embed);
    this.positions = null;
    if (host.positions) {
      this.positions = rt.matrix(spec.maxPositions, spec.hidden, 'model.positions');
      upload(this.positions, host.positions);
    }
    if (host.lmHead === host.embed) {
      this.head = this.E;
    } else {
      this.head = rt.matrix(spec.vocab, spec.hidden, 'model.lmHead');
      upload(this.head, host.lmHead);
    }
    const norm = half ? { weight: roundedToHalf(host.finalNorm.weight), bias: host.finalNorm.bias && roundedToHalf(host.finalNorm.bias) } : host.finalNorm;
    this.finalNorm = uploadNorm(rt, norm, spec.norm, spec.normEps, 'model.finalNorm');
  }

  release(): void {
    this.rt.release(this.E, this.positions, this.head === this.E ? null : this.head);
    releaseNorm(this.rt, this.finalNorm);
  }
}

/** What else a scoring pass does at the LM head (evaluation metrics beside the NLL). */
export interface ScoreHooks {
  /** Read the final norm's output [T, hidden] back into TokenScores.normed. */
  keepNormed?: boolean;
  /**
   * Records more work on each chunk of logits after its NLL, in the same command stream: `logits`
   * holds tokens t0 … t0 + logits.rows − 1 ([rows, vocab], one binding); `normed` is the head's
   * input [T, hidden]; `targets` [T] the next token of each position (NO_TARGET at a sequence's end).
   */
  onLogits?: (rec: Recorder, logits: GpuMatrix, t0: number, normed: GpuMatrix, targets: GPUBuffer) => void;
}

/**
 * Runs sequences (each `seqlen` ids, concatenated) through the model and scores them: NLL of
 * each next token within its sequence, and the argmax at every position.
 */
export function scoreSequences(
  rt: GpuRuntime,
  globals: GpuGlobals,
  blocks: BlockSource,
  ids: Uint32Array,
  seqlen: number,
  signal?: AbortSignal,
  hooks: ScoreHooks = {},
): Promise<TokenScores> {
  return rt.scoped('Forward pass', () => score(rt, globals, blocks, ids, seqlen, signal, hooks));
}

async function score(
  rt: GpuRuntime,
  globals: GpuGlobals,
  blocks: BlockSource,
  ids: Uint32Array,
  seqlen: number,
  signal: AbortSignal | undefined,
  hooks: ScoreHooks,
): Promise<TokenScores> {
  const spec = globals.spec;
  const T = ids.length;
  if (T === 0 || T % seqlen !== 0) throw new RangeError(`${T} tokens are not whole sequences of ${seqlen}`);
  if (seqlen > spec.maxPositions) throw new RangeError(`sequences of ${seqlen} tokens exceed the model's context of ${spec.maxPositions}`);
  const idsBuf = rt.storage(T * 4, 'score.ids');
  rt.upload(idsBuf, 0, ids);
  const targets = new Uint32Array(T);
  for (let t = 0; t < T; t++) targets[t] = (t + 1) % seqlen === 0 ? NO_TARGET : ids[t + 1];
  const targetsBuf = rt.storage(T * 4, 'score.targets');
  rt.upload(targetsBuf, 0, targets);
  const nllBuf = rt.storage(T * 4, 'score.nll');
  const argmaxBuf = rt.storage(T * 4, 'score.argmax');
  const status = rt.storage(FORWARD_STATUS_SLOTS * 4, 'score.status');
  let h = rt.matrix(T, spec.hidden, 'score.h0');
  let next = rt.matrix(T, spec.hidden, 'score.h1');
  const runner = new BlockRunner(rt, blockShape(spec, seqlen, T / seqlen));
  let posBuf: GPUBuffer | null = null;
  try {
    let rec = rt.recorder('score.embed');
    rec.clear(status);
    const embedStatus = { buffer: status, slot: FORWARD_STATUS.embedRowOutOfRange };
    encodeEmbed(rec, globals.E, idsBuf, h, false, rt.bindingLimit, embedStatus);
    if (globals.positions) {
      const pos = Uint32Array.from({ length: T }, (_, t) => t % seqlen);
      posBuf = rt.storage(T * 4, 'score.positions');
      rt.upload(posBuf, 0, pos);
      encodeEmbed(rec, globals.positions, posBuf, h, true, rt.bindingLimit, embedStatus);
    }
    rec.finish();
    for (let b = 0; b < spec.layers; b++) {
      if (signal?.aborted) throw signal.reason ?? new Error('cancelled');
      const block = uploadBlock(rt, spec, await blocks(b), `block${b}`);
      rec = rt.recorder(`score.block${b}`);
      runner.encode(rec, h, next, block);
      rec.finish();
      releaseBlock(rt, block);
      [h, next] = [next, h];
    }
    rec = rt.recorder('score.head');
    runner.encodeFinalNorm(rec, h, globals.finalNorm);
    // The LM head in chunks of tokens whose logits fit one binding.
    const chunkRows = Math.min(T, maxLogitRows(rt, spec.vocab));
    const logits = rt.matrix(chunkRows, spec.vocab, 'score.logits');
    for (let t0 = 0; t0 < T; t0 += chunkRows) {
      const chunk = { ...logits, rows: Math.min(chunkRows, T - t0) };
      encodeLinear(rec, runner.normed, globals.head, chunk, rt.bindingLimit, t0);
      encodeNll(rec, chunk, targetsBuf, nllBuf, argmaxBuf, t0, { buffer: status, slot: FORWARD_STATUS.targetOutOfRange });
      hooks.onLogits?.(rec, chunk, t0, runner.normed, targetsBuf);
      rec.submit();
    }
    rec.finish();
    const normed = hooks.keepNormed ? await rt.readMatrix(runner.normed) : undefined;
    const lastRow = (T - 1) % chunkRows;
    const lastLogits = await rt.readF32(logits.buffer, lastRow * logits.ld * 4, spec.vocab);
    rt.release(logits);
    const flags = await rt.readU32(status, 0, FORWARD_STATUS_SLOTS);
    if (flags[FORWARD_STATUS.embedRowOutOfRange] || flags[FORWARD_STATUS.targetOutOfRange]) {
      throw new RangeError(`a token id is outside the model's vocabulary of ${spec.vocab} (flagged by the ` +
        `${flags[FORWARD_STATUS.embedRowOutOfRange] ? 'embedding' : 'NLL'} kernel); check the ids before the forward pass`);
    }
    const nll32 = await rt.readF32(nllBuf, 0, T);
    const argmax = await rt.readU32(argmaxBuf, 0, T);
    const nll = Float64Array.from(nll32);
    return { nll, scored: T - T / seqlen, argmax, lastLogits, normed };
  } finally {
    if (!rt.isLost) {
      runner.release();
      rt.release(idsBuf, targetsBuf, nllBuf, argmaxBuf, status, h, next, posBuf);
    }
  }
}

/** Rows of logits that fit one binding. */
function maxLogitRows(rt: GpuRuntime, vocab: number): number {
  const ld = Math.ceil(vocab / 64) * 64;
  return Math.max(1, Math.min(65535, Math.floor(rt.bindingLimit / (ld * 4))));
}

/**
 * Greedy continuation of a prompt by `count` tokens (the whole sequence is rerun per token);
 * `onToken` hears each new token as it is chosen.
 */
export async function greedy(
  rt: GpuRuntime,
  globals: GpuGlobals,
  blocks: BlockSource,
  prompt: readonly number[],
  count: number,
  signal?: AbortSignal,
  onToken?: (id: number, index: number) => void,
): Promise<number[]> {
  const ids = [...prompt];
  const out: number[] = [];
  for (let i = 0; i < count && ids.length <= globals.spec.maxPositions; i++) {
    const scores = await scoreSequences(rt, globals, blocks, Uint32Array.from(ids), ids.length, signal);
    const next = scores.argmax[ids.length - 1];
    out.push(next);
    ids.push(next);
    onToken?.(next, out.length - 1);
  }
  return out;
}
