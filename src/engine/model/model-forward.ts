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
import { encodeHeadScores, LOGITS_CHUNK_BYTES } from './lm-head';
import { roundedToHalf } from '../../core/export/f16';
import { elementBytes, type ElementFormat } from '../../gpu/matrix';
import { packedRows } from '../../gpu/packed-rows';
import { HalfPatchBuilder, type HalfPatch } from './half-patch';

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

/** The matrices outside the blocks. */
export type GlobalMatrix = 'embed' | 'lmHead' | 'positions' | 'projectIn' | 'projectOut';

/**
 * The weights outside the blocks, read from where they are kept (the checkpoint's files, by byte
 * range) each time they are needed: a run holds none of them on the host (src/engine/model/load-model.ts).
 */
export interface GlobalWeights {
  /** Whether the model has this matrix (embed and lmHead always). */
  has(m: GlobalMatrix): boolean;
  /** The LM head is the embedding. */
  tied: boolean;
  /**
   * How a matrix is stored: every value readRows gives is exactly a value of this format, so the
   * GPU can hold it as stored in 2 bytes for F16 and BF16 (the checkpoint's dtype).
   */
  format(m: GlobalMatrix): ElementFormat;
  /** Rows [r0, r0 + n) of a matrix as f32, [n, cols] row-major (a fresh array). */
  readRows(m: GlobalMatrix, r0: number, n: number): Promise<Float32Array>;
  readFinalNorm(): Promise<HostNorm | null>;
}

/** [rows, cols] of a global matrix of the spec. */
export function globalShape(spec: ModelSpec, m: GlobalMatrix): [number, number] {
  const { vocab, embedDim, hidden, maxPositions, layout } = spec;
  switch (m) {
    case 'embed':
    case 'lmHead':
      return [vocab, embedDim];
    case 'positions':
      return [maxPositions + layout.positionOffset, hidden];
    case 'projectIn':
      return [hidden, embedDim];
    case 'projectOut':
      return [embedDim, hidden];
  }
}

/**
 * GlobalWeights over arrays already on the host (synthetic models, tests), stored as f32 unless
 * `formats` says otherwise (its values must then be exactly values of that format).
 */
export function hostGlobalWeights(spec: ModelSpec, h: HostGlobals, formats: Partial<Record<GlobalMatrix, ElementFormat>> = {}): GlobalWeights {
  const arrays: Record<GlobalMatrix, Float32Array | undefined> = {
    embed: h.embed, lmHead: h.lmHead, positions: h.positions, projectIn: h.projectIn, projectOut: h.projectOut,
  };
  const tied = h.lmHead === h.embed;
  return {
    has: (m) => arrays[m] !== undefined,
    tied,
    format: (m) => formats[tied && m === 'lmHead' ? 'embed' : m] ?? 'f32',
    async readRows(m, r0, n) {
      const a = arrays[m];
      if (!a) throw new RangeError(`the model has no ${m}`);
      const cols = globalShape(spec, m)[1];
      return a.slice(r0 * cols, (r0 + n) * cols);
    },
    readFinalNorm: async () => h.finalNorm && { weight: h.finalNorm.weight.slice(), bias: h.finalNorm.bias?.slice() },
  };
}

/** A whole global matrix as f32 [rows, cols] (a fresh array: the host holds it until dropped). */
export function readGlobal(spec: ModelSpec, g: GlobalWeights, m: GlobalMatrix): Promise<Float32Array> {
  return g.readRows(m, 0, globalShape(spec, m)[0]);
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

/** Bytes of a global matrix read, converted and uploaded at a time: no whole host copy is made. */
const GLOBAL_PIECE_BYTES = 16 << 20;

/** Rows of a matrix as it stores them (packedRows); throws when its format cannot hold a value exactly. */
function rowsOf(m: GpuMatrix, r0: number, values: Float32Array): Uint32Array {
  const words = packedRows(values, m.cols, m.ld, m.format ?? 'f32');
  if (!words) throw new RangeError(`${m.buffer.label}: rows from ${r0} hold values that are not ${m.format} values`);
  return words;
}

/** Writes rows from r0 as the matrix stores them (rowsOf or packedRows). */
function uploadWords(rt: GpuRuntime, m: GpuMatrix, r0: number, words: Uint32Array): void {
  rt.upload(m.buffer, r0 * m.ld * elementBytes(m), words);
}

/**
 * One global matrix of `source` uploaded as stored (in its format, GlobalWeights.format), read
 * piece by piece (no whole host copy). The caller releases it.
 */
export async function uploadGlobal(rt: GpuRuntime, spec: ModelSpec, source: GlobalWeights, m: GlobalMatrix, label: string): Promise<GpuMatrix> {
  const [rows, cols] = globalShape(spec, m);
  const out = rt.matrix(rows, cols, label, source.format(m));
  try {
    const perPiece = Math.max(1, Math.floor(GLOBAL_PIECE_BYTES / (cols * 4)));
    for (let r0 = 0; r0 < rows; r0 += perPiece) uploadWords(rt, out, r0, rowsOf(out, r0, await source.readRows(m, r0, Math.min(perPiece, rows - r0))));
    return out;
  } catch (e) {
    if (!rt.isLost) rt.release(out);
    throw e;
  }
}

/** How GpuGlobals holds the values outside the blocks. */
export interface GlobalValues {
  /**
   * Rounded to F16, as the exported file holds them (the run's RTN and GPTQ models); default the
   * stored values (the original model).
   */
  half?: boolean;
  /**
   * Both: the stored values, plus what switches them to the F16 ones in place (encodeValues): the
   * elements that differ (a HalfPatch), or a second matrix where most differ (F32 checkpoints).
   * The streamed evaluation runs the three models on one set of globals this way.
   */
  switchable?: boolean;
}

interface GlobalSlot {
  /** In the source's format (GlobalWeights.format), or F16 when only the F16 values are held. */
  stored: GpuMatrix;
  /** The F16 values as a second, F16 matrix, when too many differ for a patch. */
  half: GpuMatrix | null;
  patch: HalfPatch | null;
}

/** Weights outside the blocks on the GPU, uploaded once from their source in pieces. */
export class GpuGlobals {
  private halfValues: boolean;

  private constructor(
    private readonly rt: GpuRuntime,
    readonly spec: ModelSpec,
    private readonly slots: Map<GlobalMatrix, GlobalSlot>,
    private readonly norms: { stored: NormWeights | null; half: NormWeights | null },
    /** The values are switchable (GlobalValues.switchable). */
    readonly switchable: boolean,
    half: boolean,
  ) {
    this.halfValues = half;
  }

  /**
   * Reads the weights outside the blocks from `source` piece by piece and uploads them (see
   * GlobalValues). The host arrays are not changed and no whole rounded copy is made.
   */
  static async load(rt: GpuRuntime, spec: ModelSpec, source: GlobalWeights, values: GlobalValues = {}): Promise<GpuGlobals> {
    const half = values.half === true;
    const switchable = values.switchable === true;
    const slots = new Map<GlobalMatrix, GlobalSlot>();
    const norms: { stored: NormWeights | null; half: NormWeights | null } = { stored: null, half: null };
    const made: GpuGlobals = new GpuGlobals(rt, spec, slots, norms, switchable, half && !switchable);
    try {
      for (const m of ['embed', 'lmHead', 'positions', 'projectIn', 'projectOut'] as const) {
        if (!source.has(m)) continue;
        if (m === 'lmHead' && source.tied) {
          slots.set(m, slots.get('embed')!);
          continue;
        }
        const [rows, cols] = globalShape(spec, m);
        const label = `model.${m}`;
        const onlyHalf = half && !switchable;
        const slot: GlobalSlot = { stored: rt.matrix(rows, cols, label, onlyHalf ? 'f16' : source.format(m)), half: null, patch: null };
        slots.set(m, slot);
        const perPiece = Math.max(1, Math.floor(GLOBAL_PIECE_BYTES / (cols * 4)));
        const builder = switchable ? new HalfPatchBuilder(slot.stored) : null;
        for (let r0 = 0; r0 < rows; r0 += perPiece) {
          const piece = await source.readRows(m, r0, Math.min(perPiece, rows - r0));
          const rounded = half || switchable ? roundedToHalf(piece) : piece;
          const words = rowsOf(slot.stored, r0, onlyHalf ? rounded : piece);
          uploadWords(rt, slot.stored, r0, words);
          if (builder && !builder.overflow) {
            builder.add(r0, words, rounded === piece ? words : packedRows(rounded, cols, slot.stored.ld, slot.stored.format ?? 'f32'));
          }
        }
        if (builder?.overflow) {
          const second = rt.matrix(rows, cols, `${label}.f16`, 'f16');
          slot.half = second;
          for (let r0 = 0; r0 < rows; r0 += perPiece) {
            uploadWords(rt, second, r0, rowsOf(second, r0, roundedToHalf(await source.readRows(m, r0, Math.min(perPiece, rows - r0)))));
          }
        } else if (builder) {
          slot.patch = builder.build(rt, label);
        }
      }
      const layoutNorm = spec.layout.finalNorm;
      const host = layoutNorm ? await source.readFinalNorm() : null;
      if (host && layoutNorm) {
        const rounded = { weight: roundedToHalf(host.weight), bias: host.bias && roundedToHalf(host.bias) };
        norms.stored = uploadNorm(rt, half && !switchable ? rounded : host, layoutNorm, 'model.finalNorm');
        if (switchable) norms.half = uploadNorm(rt, rounded, layoutNorm, 'model.finalNorm.f16');
      }
      return made;
    } catch (e) {
      if (!rt.isLost) made.release();
      throw e;
    }
  }

  private matrix(m: GlobalMatrix): GpuMatrix | null {
    const s = this.slots.get(m);
    if (!s) return null;
    return this.halfValues && s.half ? s.half : s.stored;
  }

  /** [vocab, embedDim] */
  get E(): GpuMatrix {
    return this.matrix('embed')!;
  }

  /** [maxPositions + positionOffset, hidden] or null */
  get positions(): GpuMatrix | null {
    return this.matrix('positions');
  }

  /** [hidden, embedDim] or null */
  get projectIn(): GpuMatrix | null {
    return this.matrix('projectIn');
  }

  /** [embedDim, hidden] or null */
  get projectOut(): GpuMatrix | null {
    return this.matrix('projectOut');
  }

  /** [vocab, embedDim] (the embedding itself when tied) */
  get head(): GpuMatrix {
    return this.matrix('lmHead')!;
  }

  get finalNorm(): NormWeights | null {
    return this.halfValues && this.norms.half ? this.norms.half : this.norms.stored;
  }

  /**
   * The token embeddings' scale for the values encoded from now on: the stored dtype's, or with the
   * F16 values the float16 export's (runEmbedScale, layout.embedScaleF16).
   */
  get embedScale(): number {
    return runEmbedScale(this.spec.layout, this.halfValues);
  }

  /** Whether the values encoded from now on are the F16 ones. */
  get half(): boolean {
    return this.halfValues;
  }

  /** The runtime's placeholder binding (for kernels that leave an operand unread). */
  get placeholder(): GPUBuffer {
    return this.rt.placeholder;
  }

  /**
   * Records the switch of every value to its F16 rounding (`half`) or back to the stored one;
   * work recorded after it reads those values. Only for switchable globals.
   */
  encodeValues(rec: Recorder, half: boolean): void {
    if (!this.switchable) throw new Error('these globals hold one set of values; load them switchable to change them');
    if (half === this.halfValues) return;
    const done = new Set<HalfPatch>();
    for (const s of this.slots.values()) {
      if (s.patch && !done.has(s.patch)) {
        s.patch.encode(rec, half);
        done.add(s.patch);
      }
    }
    this.halfValues = half;
  }

  /** GPU bytes held for the F16 values beside the stored ones (patches and second matrices). */
  get halfBytes(): number {
    let bytes = 0;
    for (const s of new Set(this.slots.values())) bytes += (s.patch?.bytes ?? 0) + (s.half ? s.half.buffer.size : 0);
    return bytes;
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
    const projectIn = this.projectIn;
    const positions = this.positions;
    if (projectIn) {
      const e = rt.matrix(T, spec.embedDim, 'embed.tokens');
      temps.push(e);
      encodeEmbed(rec, this.E, ids, e, false, limit, status, this.embedScale);
      encodeLinear(rec, e, projectIn, h, limit);
    } else {
      encodeEmbed(rec, this.E, ids, h, false, limit, status, this.embedScale);
    }
    if (positions) {
      const offset = spec.layout.positionOffset;
      const pos = rt.storage(T * 4, 'embed.positions');
      temps.push(pos);
      rt.upload(pos, 0, Uint32Array.from({ length: T }, (_, t) => positionBase + (t % seqlen) + offset));
      encodeEmbed(rec, positions, pos, h, true, limit, status);
    }
    return temps;
  }

  release(): void {
    for (const s of new Set(this.slots.values())) {
      this.rt.release(s.stored, s.half);
      s.patch?.release();
    }
    this.slots.clear();
    if (this.norms.stored) releaseNorm(this.rt, this.norms.stored);
    if (this.norms.half) releaseNorm(this.rt, this.norms.half);
    this.norms.stored = this.norms.half = null;
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
    const head = encodeHeadInput(rt, rec, runner, globals, h);
    if (head.projected) temps.push(head.projected);
    const headIn = head.input;
    let lastLogits: Float32Array;
    let normed: Float32Array | undefined;
    if (hooks.onLogits) {
      // A divergence pass (src/engine/divergence.ts) needs whole vocabulary rows beside the
      // original's: the LM head in chunks of tokens whose logits fit one binding and, with the
      // original's chunk beside them, LOGITS_CHUNK_BYTES together.
      const onLogits = hooks.onLogits;
      const { logits, temps: headTemps } = encodeHeadNll(rt, rec, globals, headIn, { targets: targetsBuf, nll: nllBuf, argmax: argmaxBuf, status }, LOGITS_CHUNK_BYTES / 2,
        (chunk, t0) => onLogits(rec, chunk, t0, headIn, targetsBuf));
      temps.push(logits, ...headTemps);
      rec.finish();
      normed = hooks.keepNormed ? await rt.readMatrix(headIn) : undefined;
      const lastRow = (T - 1) % logits.rows;
      lastLogits = await rt.readF32(logits.buffer, lastRow * logits.ld * 4, spec.vocab);
    } else {
      // The LM head and the log-softmax a chunk of logits at a time (lm-head.ts).
      const scores = encodeHeadScores(rt, rec, headIn, globals.head, spec.layout.logitSoftcap, {
        targets: targetsBuf, nll: nllBuf, argmax: argmaxBuf, status: { buffer: status, slot: FORWARD_STATUS.targetOutOfRange },
      });
      temps.push(...scores.temps);
      rec.finish();
      normed = hooks.keepNormed ? await rt.readMatrix(headIn) : undefined;
      lastLogits = await rt.readF32(scores.lastLogits, 0, spec.vocab);
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
 * Records the LM head's input of hidden states h [tokens, hidden]: the final norm (if any), then
 * project_out (if any). `input` is the runner's normed scratch, h itself, or `projected` (a new
 * matrix the caller releases after the recorder has finished).
 */
export function encodeHeadInput(rt: GpuRuntime, rec: Recorder, runner: BlockRunner, globals: GpuGlobals, h: GpuMatrix): { input: GpuMatrix; projected: GpuMatrix | null } {
  let input = h;
  const norm = globals.finalNorm;
  if (norm) {
    runner.encodeFinalNorm(rec, h, norm);
    input = runner.normed;
  }
  const projectOut = globals.projectOut;
  if (!projectOut) return { input, projected: null };
  const projected = rt.matrix(h.rows, globals.spec.embedDim, 'head.projectOut');
  encodeLinear(rec, input, projectOut, projected, rt.bindingLimit);
  return { input: projected, projected };
}

/**
 * Records logits [rows, vocab] of the head's input rows [t0, t0 + out.rows) into `out` (one
 * binding): headIn · headᵀ, softcapped where the family says so.
 */
export function encodeLogits(rec: Recorder, globals: GpuGlobals, headIn: GpuMatrix, t0: number, out: GpuMatrix, bindingLimit: number): void {
  encodeLinear(rec, headIn, globals.head, out, bindingLimit, t0);
  const cap = globals.spec.layout.logitSoftcap;
  if (cap !== null) encodeElementwise(rec, { op: ELEMENTWISE.softcap, y: out, alpha: cap, placeholder: globals.placeholder }, bindingLimit);
}

/**
 * Records the NLL of every row's target and the argmax of every row of headIn [tokens, embedDim]
 * through the LM head, in chunks of rows whose logits fit one binding (at most `maxChunkBytes` of
 * logits when given); `onChunk` records more work on each chunk after its NLL, before the chunk
 * is submitted. The NLL is the chunked head's (encodeNll, shaders/nll_chunk.wgsl) with one chunk
 * spanning the vocabulary. Returns the logits matrix holding the last chunk and the other buffers
 * it made (the caller releases them after the recorder has finished). Whole vocabulary rows per
 * chunk: for the hooks that need them (the divergence); plain scoring uses encodeHeadScores
 * (lm-head.ts), whose chunks split the vocabulary.
 */
export function encodeHeadNll(
  rt: GpuRuntime,
  rec: Recorder,
  globals: GpuGlobals,
  headIn: GpuMatrix,
  out: { targets: GPUBuffer; nll: GPUBuffer; argmax: GPUBuffer; status: GPUBuffer },
  maxChunkBytes = Infinity,
  onChunk?: (chunk: GpuMatrix, t0: number) => void,
): { logits: GpuMatrix; temps: GPUBuffer[] } {
  const { vocab } = globals.spec;
  const T = headIn.rows;
  const byBytes = Math.max(1, Math.floor(maxChunkBytes / (Math.ceil(vocab / 64) * 64 * 4)));
  const chunkRows = Math.min(T, maxLogitRows(rt, vocab), byBytes);
  const logits = rt.matrix(chunkRows, vocab, 'head.logits');
  // One chunk spans the vocabulary: the NLL kernel's running state is bound but never read.
  const state = rt.storage(16, 'head.logsumexp');
  const nllOut = { targets: out.targets, nll: out.nll, argmax: out.argmax, state, status: { buffer: out.status, slot: FORWARD_STATUS.targetOutOfRange } };
  for (let t0 = 0; t0 < T; t0 += chunkRows) {
    const chunk = { ...logits, rows: Math.min(chunkRows, T - t0) };
    encodeLogits(rec, globals, headIn, t0, chunk, rt.bindingLimit);
    encodeNll(rec, chunk, nllOut, t0);
    onChunk?.(chunk, t0);
    rec.submit();
  }
  return { logits, temps: [state] };
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
