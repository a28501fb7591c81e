/**
 * The whole model on the GPU, one block's weights at a time: embeddings (scaled, projected in,
 * + learned positions), the blocks, the final norm, project_out, the LM head in chunks of tokens
 * (softcapped where the family says so), and per-token negative log-likelihood and argmax.
 * Perplexity and greedy decoding are built on it.
 */
import type { GpuRuntime } from '../../gpu/runtime';
import type { GpuMatrix } from '../../gpu/matrix';
import type { Recorder } from '../../gpu/recorder';
import {
  ELEMENTWISE,
  encodeElementwise,
  encodeEmbed,
  encodeLinear,
  encodeNll,
  FORWARD_STATUS,
  FORWARD_STATUS_SLOTS,
  NO_TARGET,
  type NormWeights,
  type StatusSlot,
} from '../../gpu/kernels/forward';
import { blockNorms, runEmbedScale, type ModelLayout, type NormSpec } from '../../core/model/architecture';
import { BlockRunner, type BlockShape, type GpuBlock } from './block-forward';
import { encodeHeadScores } from './lm-head';
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
  /** By module name inside the block (every norm of blockNorms(layout.block)). */
  norms: Map<string, HostNorm>;
}

export interface ModelSpec {
  /** The family's description: names, block structure, norms, RoPE and windows per layer. */
  layout: ModelLayout;
  hidden: number;
  /** MLP width (padded by the export plan where it pads). */
  intermediate: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  vocab: number;
  maxPositions: number;
  /** Width of the token embeddings and of the LM head's input (layout.embedDim). */
  embedDim: number;
}

/** Weights outside the blocks, on the host. */
export interface HostGlobals {
  /** [vocab, embedDim] */
  embed: Float32Array;
  /** [maxPositions + positionOffset, hidden] (learned positions) */
  positions?: Float32Array;
  /** [hidden, embedDim] (OPT's project_in) */
  projectIn?: Float32Array;
  /** [embedDim, hidden] (OPT's project_out) */
  projectOut?: Float32Array;
  /** null when the family has no final norm (post-LN OPT) */
  finalNorm: HostNorm | null;
  /** [vocab, embedDim]; the same array as embed when tied */
  lmHead: Float32Array;
}

/** Gives the weights of block b (the original, or a quantized version of them). */
export type BlockSource = (b: number) => Promise<HostBlock>;

/** Uploads a norm; Gemma's (1 + w) is formed here in f32, as Gemma3RMSNorm does. */
export function uploadNorm(rt: GpuRuntime, n: HostNorm, spec: NormSpec, label: string): NormWeights {
  const values = spec.kind === 'rms_plus_one' ? n.weight.map((w) => 1 + w) : n.weight;
  const weight = rt.storage(values.byteLength, `${label}.weight`);
  rt.upload(weight, 0, values);
  let bias = weight;
  if (n.bias) {
    bias = rt.storage(n.bias.byteLength, `${label}.bias`);
    rt.upload(bias, 0, n.bias);
  }
  return { kind: spec.kind === 'layer' ? 'layer' : 'rms', eps: spec.eps, weight, bias };
}

export function releaseNorm(rt: GpuRuntime, n: NormWeights): void {
  rt.release(n.weight, n.bias === n.weight ? null : n.bias);
}

function uploadMatrix(rt: GpuRuntime, rows: number, cols: number, data: Float32Array, label: string): GpuMatrix {
  const m = rt.matrix(rows, cols, label);
  rt.uploadMatrix(m, data);
  return m;
}

/** Uploads block b's weights. */
export function uploadBlock(rt: GpuRuntime, spec: ModelSpec, host: HostBlock, b: number): GpuBlock {
  const label = `block${b}`;
  const linears = new Map<string, { W: GpuMatrix; bias: GPUBuffer | null }>();
  for (const [name, l] of host.linears) {
    const W = uploadMatrix(rt, l.out, l.in, l.W, `${label}.${name}`);
    let bias: GPUBuffer | null = null;
    if (l.bias) {
      bias = rt.storage(l.bias.byteLength, `${label}.${name}.bias`);
      rt.upload(bias, 0, l.bias);
    }
    linears.set(name, { W, bias });
  }
  const norms = new Map<string, NormWeights>();
  for (const n of blockNorms(spec.layout.block)) {
    const h = host.norms.get(n.name);
    if (!h) throw new Error(`block ${b} weights have no ${n.name}`);
    norms.set(n.name, uploadNorm(rt, h, n, `${label}.${n.name}`));
  }
  return { index: b, linears, norms };
}

export function releaseBlock(rt: GpuRuntime, b: GpuBlock): void {
  for (const l of b.linears.values()) rt.release(l.W, l.bias);
  for (const n of b.norms.values()) releaseNorm(rt, n);
}

export function blockShape(spec: ModelSpec, seqlen: number, sequences: number): BlockShape {
  return { spec, seqlen, tokens: seqlen * sequences };
}

export interface TokenScores {
  /** The LM head's input [T, embedDim] (final norm, then project_out, when the model has them), when asked for with keepNormed. */
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
  /** [vocab, embedDim] */
  readonly E: GpuMatrix;
  readonly positions: GpuMatrix | null;
  readonly projectIn: GpuMatrix | null;
  readonly projectOut: GpuMatrix | null;
  readonly head: GpuMatrix;
  readonly finalNorm: NormWeights | null;
  /** The token embeddings' scale: the stored dtype's, or with `half` the float16 export's (layout.embedScaleF16). */
  readonly embedScale: number;
  /** Every value was uploaded rounded to F16 (the exported file's values). */
  readonly half: boolean;

  /**
   * With `half`, every value is uploaded rounded to F16, as the exported file holds it (the run's
   * RTN and GPTQ models), and the embedding scale is the float16 one; the host arrays are not
   * changed and no full rounded copy is made.
   */
  constructor(
    private readonly rt: GpuRuntime,
    readonly spec: ModelSpec,
    host: HostGlobals,
    options: { half?: boolean } = {},
  ) {
    const half = options.half === true;
    this.embedScale = runEmbedScale(spec.layout, half);
    this.half = half;
    const upload = (rows: number, cols: number, data: Float32Array, label: string) => {
      const m = rt.matrix(rows, cols, label);
      if (half) uploadMatrixAsHalf(rt, m, data);
      else rt.uploadMatrix(m, data);
      return m;
    };
    const { layout, vocab, embedDim, hidden, maxPositions } = spec;
    this.E = upload(vocab, embedDim, host.embed, 'model.embed');
    this.positions = host.positions ? upload(maxPositions + layout.positionOffset, hidden, host.positions, 'model.positions') : null;
    this.projectIn = host.projectIn ? upload(hidden, embedDim, host.projectIn, 'model.projectIn') : null;
    this.projectOut = host.projectOut ? upload(embedDim, hidden, host.projectOut, 'model.projectOut') : null;
    this.head = host.lmHead === host.embed ? this.E : upload(vocab, embedDim, host.lmHead, 'model.lmHead');
    const finalNorm = host.finalNorm && half
      ? { weight: roundedToHalf(host.finalNorm.weight), bias: host.finalNorm.bias && roundedToHalf(host.finalNorm.bias) }
      : host.finalNorm;
    this.finalNorm = finalNorm && layout.finalNorm ? uploadNorm(rt, finalNorm, layout.finalNorm, 'model.finalNorm') : null;
  }

  /**
   * Records h [tokens, hidden] = the embeddings of ids (sequences of seqlen): E[id] · scale,
   * through project_in, plus the learned position positionBase + t mod seqlen + offset (positionBase:
   * the tokens already in a KV cache). An id outside the
   * vocabulary raises `status`. Returns the temporary buffers, for the caller to release once the
   * recorder has finished.
   */
  encodeEmbedding(rec: Recorder, ids: GPUBuffer, h: GpuMatrix, seqlen: number, status: StatusSlot, positionBase = 0): (GPUBuffer | GpuMatrix)[] {
    const { rt, spec } = this;
    const limit = rt.bindingLimit;
    const T = h.rows;
    const temps: (GPUBuffer | GpuMatrix)[] = [];
    if (this.projectIn) {
      const e = rt.matrix(T, spec.embedDim, 'embed.tokens');
      temps.push(e);
      encodeEmbed(rec, this.E, ids, e, false, limit, status, this.embedScale);
      encodeLinear(rec, e, this.projectIn, h, limit);
    } else {
      encodeEmbed(rec, this.E, ids, h, false, limit, status, this.embedScale);
    }
    if (this.positions) {
      const offset = spec.layout.positionOffset;
      const pos = rt.storage(T * 4, 'embed.positions');
      temps.push(pos);
      rt.upload(pos, 0, Uint32Array.from({ length: T }, (_, t) => positionBase + (t % seqlen) + offset));
      encodeEmbed(rec, this.positions, pos, h, true, limit, status);
    }
    return temps;
  }

  release(): void {
    this.rt.release(this.E, this.positions, this.projectIn, this.projectOut, this.head === this.E ? null : this.head);
    if (this.finalNorm) releaseNorm(this.rt, this.finalNorm);
  }
}

/** What else a scoring pass does at the LM head (evaluation metrics beside the NLL). */
export interface ScoreHooks {
  /** Read the LM head's input [T, embedDim] back into TokenScores.normed. */
  keepNormed?: boolean;
  /**
   * Records more work on each chunk of logits after its NLL, in the same command stream: `logits`
   * holds tokens t0 … t0 + logits.rows − 1 ([rows, vocab], one binding, after the final softcap
   * if the model has one); `normed` is the head's input [T, embedDim]; `targets` [T] the next token of each position (NO_TARGET at a sequence's end).
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
  const temps: (GPUBuffer | GpuMatrix | null)[] = [];
  try {
    let rec = rt.recorder('score.embed');
    rec.clear(status);
    temps.push(...globals.encodeEmbedding(rec, idsBuf, h, seqlen, { buffer: status, slot: FORWARD_STATUS.embedRowOutOfRange }));
    rec.finish();
    for (let b = 0; b < spec.layers; b++) {
      if (signal?.aborted) throw signal.reason ?? new Error('cancelled');
      const block = uploadBlock(rt, spec, await blocks(b), b);
      rec = rt.recorder(`score.block${b}`);
      runner.encode(rec, h, next, block);
      rec.finish();
      releaseBlock(rt, block);
      [h, next] = [next, h];
    }
    rec = rt.recorder('score.head');
    // The head's input: final norm (if any), then project_out (if any).
    let headIn = h;
    if (globals.finalNorm) {
      runner.encodeFinalNorm(rec, h, globals.finalNorm);
      headIn = runner.normed;
    }
    if (globals.projectOut) {
      const projected = rt.matrix(T, spec.embedDim, 'score.projectOut');
      temps.push(projected);
      encodeLinear(rec, headIn, globals.projectOut, projected, rt.bindingLimit);
      headIn = projected;
    }
    let lastLogits: Float32Array;
    let normed: Float32Array | undefined;
    if (hooks.onLogits) {
      // A divergence pass (src/engine/divergence.ts) needs whole vocabulary rows beside the
      // original's: the LM head in chunks of tokens whose logits fit one binding.
      const cap = spec.layout.logitSoftcap;
      const chunkRows = Math.min(T, maxLogitRows(rt, spec.vocab));
      const logits = rt.matrix(chunkRows, spec.vocab, 'score.logits');
      temps.push(logits);
      for (let t0 = 0; t0 < T; t0 += chunkRows) {
        const chunk = { ...logits, rows: Math.min(chunkRows, T - t0) };
        encodeLinear(rec, headIn, globals.head, chunk, rt.bindingLimit, t0);
        if (cap !== null) encodeElementwise(rec, { op: ELEMENTWISE.softcap, y: chunk, alpha: cap, placeholder: rt.placeholder }, rt.bindingLimit);
        encodeNll(rec, chunk, targetsBuf, nllBuf, argmaxBuf, t0, { buffer: status, slot: FORWARD_STATUS.targetOutOfRange });
        hooks.onLogits(rec, chunk, t0, headIn, targetsBuf);
        rec.submit();
      }
      rec.finish();
      normed = hooks.keepNormed ? await rt.readMatrix(headIn) : undefined;
      const lastRow = (T - 1) % chunkRows;
      lastLogits = await rt.readF32(logits.buffer, lastRow * logits.ld * 4, spec.vocab);
    } else {
      // The LM head and the log-softmax a chunk of logits at a time (lm-head.ts).
      const head = encodeHeadScores(rt, rec, headIn, globals.head, spec.layout.logitSoftcap, {
        targets: targetsBuf, nll: nllBuf, argmax: argmaxBuf, status: { buffer: status, slot: FORWARD_STATUS.targetOutOfRange },
      });
      temps.push(...head.temps);
      rec.finish();
      normed = hooks.keepNormed ? await rt.readMatrix(headIn) : undefined;
      lastLogits = await rt.readF32(head.lastLogits, 0, spec.vocab);
    }
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
      rt.release(idsBuf, targetsBuf, nllBuf, argmaxBuf, status, h, next, ...temps);
    }
  }
}

/** Rows of whole-vocabulary logits that fit one storage binding (rows padded to 64 columns). */
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
