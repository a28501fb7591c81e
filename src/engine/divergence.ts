/**
 * Perplexity with the divergence of quantized models from the original (src/core/divergence.ts:
 * KLD, top-1 agreement, Δp), measured during evaluation without keeping any logits.
 *
 * A run (perplexitiesWithDivergence) measures it inside the streamed evaluation
 * (src/engine/evaluate.ts, StreamedEvaluation): the three models advance block by block on the
 * same windows, and at the head of each pass (EvaluationHooks.atHead) the original's and each
 * quantized model's logits are made for the same chunk of tokens, each with its own head values
 * (the globals switched in place between the stored and the F16 ones), and shaders/divergence.wgsl
 * scores the two chunks together; the 4 floats per token are read back after the pass into a
 * DivergenceAccumulator per model.
 *
 * The strategy sweep (src/engine/sweep.ts), which evaluates many quantized models against one
 * original, uses DivergenceReference instead:
 *   1. DivergenceReference.measure runs the ORIGINAL model over the text's windows, pass by pass
 *      as perplexity() does, and keeps the LM head's input [tokens, embedDim] of every pass on
 *      the host (embedding-sized, never vocabulary-sized).
 *   2. reference.score(variant) runs a quantized model over the same passes. At each chunk of its
 *      logits (model-forward's ScoreHooks.onLogits), the original's logits for the same rows are
 *      recomputed from the kept hidden states with the original's LM head (the same GEMM and final
 *      softcap, so the same values as in step 1) and scored beside the quantized chunk.
 * When the variant's globals are the F16 ones (an F16 export), the original's head is uploaded
 * once more beside them (its values as stored: OriginalHead), once for all the texts that share it,
 * and released by whoever made it.
 */
import type { GpuRuntime } from '../gpu/runtime';
import { paddedLd, type GpuMatrix } from '../gpu/matrix';
import { ELEMENTWISE, encodeElementwise, encodeLinear } from '../gpu/kernels/forward';
import { DIVERGENCE_FIELDS, encodeDivergence } from '../gpu/kernels/divergence';
import { DivergenceAccumulator, type DivergenceStats } from '../core/divergence';
import type { ModelVariant } from '../core/run';
import { scoreSequences, uploadGlobal, type BlockSource, type GpuGlobals } from './model/model-forward';
import { LOGITS_CHUNK_BYTES } from './model/lm-head';
import type { LoadedModel } from './model/load-model';
import { throwIfCancelled, type QuantizedWeights } from './quantize-model';
import { perplexities, type EvaluationHooks, type EvaluationSeconds, type HeadPass } from './evaluate';

export interface PassHooks {
  signal?: AbortSignal;
  /** Hears each finished pass: windows scored so far, of all. */
  onPass?: (windowsDone: number, windows: number) => void;
}

/** Perplexity and divergence of one quantized model on one text. */
export interface VariantScore {
  perplexity: number;
  divergence: DivergenceStats;
}

/** The passes of `count` windows, `perPass` at a time: [first window, windows] each. */
function passesOf(count: number, perPass: number): [number, number][] {
  const out: [number, number][] = [];
  for (let w0 = 0; w0 < count; w0 += perPass) out.push([w0, Math.min(perPass, count - w0)]);
  return out;
}

/**
 * The original model's LM head with its values as stored [vocab, embedDim], for scoring the original
 * beside quantized models whose globals hold F16 values: uploaded on first use, then shared by every
 * reference given it (a sweep's texts), so that one copy is on the GPU however many texts there
 * are. Release it after them.
 */
export class OriginalHead {
  private head: GpuMatrix | null = null;

  constructor(
    private readonly rt: GpuRuntime,
    private readonly model: LoadedModel,
  ) {}

  /** The original's head beside `globals`: theirs when they hold the stored values, else the copy. */
  async beside(globals: GpuGlobals): Promise<GpuMatrix> {
    if (!globals.half) return globals.head;
    this.head ??= await uploadGlobal(this.rt, this.model.spec, this.model.globals, 'lmHead', 'divergence.originalHead');
    return this.head;
  }

  release(): void {
    if (!this.rt.isLost) this.rt.release(this.head);
    this.head = null;
  }
}

/**
 * The original model's side of the divergence on one text: its perplexity, and its final hidden
 * states per pass (host memory: tokens × hidden floats). Release it to free the original head it
 * may hold on the GPU (unless the head was given to it: its maker releases that).
 */
export class DivergenceReference {
  private constructor(
    private readonly rt: GpuRuntime,
    private readonly model: LoadedModel,
    readonly windows: Uint32Array,
    readonly seqlen: number,
    private readonly passes: [number, number][],
    private readonly normed: Float32Array[],
    /** Perplexity of the original model on these windows. */
    readonly perplexity: number,
    private readonly head: OriginalHead,
    private readonly ownsHead: boolean,
  ) {}

  /**
   * Scores the original model (its globals as stored, `globals`, and its blocks) on `windows`
   * (whole windows of `seqlen` ids), `windowsPerPass` at a time. Throws RangeError on ids that
   * are not whole windows; RunCancelledError when `signal` aborts between passes. `head` is the
   * original's head to share with other references (default: one of its own).
   */
  static async measure(
    rt: GpuRuntime,
    model: LoadedModel,
    globals: GpuGlobals,
    blocks: BlockSource,
    windows: Uint32Array,
    seqlen: number,
    windowsPerPass: number,
    hooks: PassHooks = {},
    head?: OriginalHead,
  ): Promise<DivergenceReference> {
    const count = windows.length / seqlen;
    if (!Number.isInteger(count) || count === 0) throw new RangeError(`${windows.length} ids are not whole windows of ${seqlen}`);
    if (globals.half) throw new RangeError('the divergence reference is the original model: its globals are the stored ones, not F16');
    const passes = passesOf(count, windowsPerPass);
    const normed: Float32Array[] = [];
    let sum = 0;
    let scored = 0;
    for (const [w0, n] of passes) {
      throwIfCancelled(hooks.signal);
      const s = await scoreSequences(rt, globals, blocks, windows.subarray(w0 * seqlen, (w0 + n) * seqlen), seqlen, hooks.signal, { keepNormed: true });
      normed.push(s.normed!);
      for (const v of s.nll) sum += v;
      scored += s.scored;
      hooks.onPass?.(w0 + n, count);
    }
    return new DivergenceReference(rt, model, windows, seqlen, passes, normed, Math.exp(sum / scored), head ?? new OriginalHead(rt, model), !head);
  }

  /**
   * Perplexity of a quantized model (its globals and blocks) on the same windows and passes, and
   * its divergence from the original. Throws RunCancelledError when `signal` aborts between passes.
   */
  async score(globals: GpuGlobals, blocks: BlockSource, hooks: PassHooks = {}): Promise<VariantScore> {
    const { rt, seqlen } = this;
    const head = await this.head.beside(globals);
    const cap = this.model.spec.layout.logitSoftcap;
    const count = this.windows.length / seqlen;
    const acc = new DivergenceAccumulator();
    let sum = 0;
    let scored = 0;
    for (const [p, [w0, n]] of this.passes.entries()) {
      throwIfCancelled(hooks.signal);
      const T = n * seqlen;
      const original = rt.matrix(T, this.model.spec.embedDim, 'divergence.originalNormed');
      const values = rt.storage(T * DIVERGENCE_FIELDS * 4, 'divergence.values');
      let logits: GpuMatrix | null = null;
      try {
        rt.uploadMatrix(original, this.normed[p]);
        const s = await scoreSequences(rt, globals, blocks, this.windows.subarray(w0 * seqlen, (w0 + n) * seqlen), seqlen, hooks.signal, {
          onLogits: (rec, chunk, t0, _normed, targets) => {
            logits ??= rt.matrix(chunk.rows, chunk.cols, 'divergence.originalLogits');
            const mine = { ...logits, rows: chunk.rows };
            encodeLinear(rec, original, head, mine, rt.bindingLimit, t0);
            if (cap !== null) encodeElementwise(rec, { op: ELEMENTWISE.softcap, y: mine, alpha: cap, placeholder: rt.placeholder }, rt.bindingLimit);
            encodeDivergence(rec, mine, chunk, targets, values, t0);
          },
        });
        for (const v of s.nll) sum += v;
        scored += s.scored;
        const out = await rt.readF32(values, 0, T * DIVERGENCE_FIELDS);
        for (let t = 0; t < T; t++) {
          if ((t + 1) % seqlen === 0) continue; // the last position of a window predicts nothing
          const o = t * DIVERGENCE_FIELDS;
          acc.add(out[o], out[o + 1] === 1, out[o + 2], out[o + 3]);
        }
      } finally {
        if (!rt.isLost) rt.release(original, values, logits);
      }
      hooks.onPass?.(w0 + n, count);
    }
    return { perplexity: Math.exp(sum / scored), divergence: acc.stats() };
  }

  release(): void {
    if (this.ownsHead) this.head.release();
  }
}

/** The quantized models a run compares with the original. */
export type QuantizedVariant = Exclude<ModelVariant, 'original'>;

type QuantizedRecord<T> = Record<QuantizedVariant, T>;

const QUANTIZED: readonly QuantizedVariant[] = ['rtn', 'gptq'];

/**
 * Tokens per chunk of the run's divergence (divergenceAtHead) for a pass of T tokens: whole
 * vocabulary rows, the original's and a quantized model's chunk at most LOGITS_CHUNK_BYTES
 * together and one binding each. Throws RangeError when one row of logits exceeds a binding.
 */
export function divergenceChunkRows(T: number, vocab: number, bindingLimit: number): number {
  const ld = paddedLd(vocab);
  const byBinding = Math.floor(bindingLimit / (ld * 4));
  if (byBinding < 1) throw new RangeError(`the divergence needs one row of ${vocab} logits in one binding of ${bindingLimit} bytes`);
  return Math.max(1, Math.min(T, byBinding, 65535, Math.floor(LOGITS_CHUNK_BYTES / 2 / (ld * 4))));
}

/**
 * Records and reads back, at the head of one pass of the streamed evaluation, the divergence of
 * the RTN and GPTQ models from the original on the pass's tokens, into `acc`, and records each
 * model's NLL from the same logits (the pass runs no head of its own: nllAtHead). Logits are made a
 * chunk of tokens at a time in whole vocabulary rows (the divergence kernel reduces a row at
 * once): the original's chunk and one quantized model's beside it, at most LOGITS_CHUNK_BYTES
 * together and one binding each.
 */
async function divergenceAtHead(rt: GpuRuntime, pass: HeadPass, vocab: number, acc: QuantizedRecord<DivergenceAccumulator>): Promise<void> {
  const T = pass.windows * pass.seqlen;
  const rows = divergenceChunkRows(T, vocab, rt.bindingLimit);
  const original = rt.matrix(rows, vocab, 'divergence.originalLogits');
  const quantized = rt.matrix(rows, vocab, 'divergence.quantizedLogits');
  const values: QuantizedRecord<GPUBuffer> = {
    rtn: rt.storage(T * DIVERGENCE_FIELDS * 4, 'divergence.rtn.values'),
    gptq: rt.storage(T * DIVERGENCE_FIELDS * 4, 'divergence.gptq.values'),
  };
  try {
    const rec = pass.recorder('eval.divergence');
    for (let t0 = 0; t0 < T; t0 += rows) {
      const n = Math.min(rows, T - t0);
      const p = { ...original, rows: n };
      const q = { ...quantized, rows: n };
      pass.encodeLogits(rec, 'original', t0, p);
      pass.encodeNll(rec, 'original', t0, p);
      for (const v of QUANTIZED) {
        pass.encodeLogits(rec, v, t0, q);
        pass.encodeNll(rec, v, t0, q);
        encodeDivergence(rec, p, q, pass.targets, values[v], t0);
      }
      rec.submit();
    }
    rec.finish();
    for (const v of QUANTIZED) {
      const out = await rt.readF32(values[v], 0, T * DIVERGENCE_FIELDS);
      for (let t = 0; t < T; t++) {
        if ((t + 1) % pass.seqlen === 0) continue; // the last position of a window predicts nothing
        const o = t * DIVERGENCE_FIELDS;
        acc[v].add(out[o], out[o + 1] === 1, out[o + 2], out[o + 3]);
      }
    }
  } finally {
    if (!rt.isLost) rt.release(original, quantized, values.rtn, values.gptq);
  }
}

/**
 * perplexities() with the divergence: the original, RTN and GPTQ models streamed block by block on
 * the same windows (see variantModels for the values each uses), and the divergence of RTN and
 * GPTQ from the original measured at the head of each pass. `onDivergence` hears each quantized
 * model's divergence just before `onEach` hears its perplexity (both once the text is measured in
 * full), `onPass` each pass of windows; `seconds` gets the evaluation's seconds added. Throws
 * RunCancelledError when `signal` aborts (between blocks), RangeError on ids that are not whole
 * windows or lie outside the vocabulary.
 */
export async function perplexitiesWithDivergence(
  rt: GpuRuntime,
  model: LoadedModel,
  q: QuantizedWeights,
  windows: Uint32Array,
  seqlen: number,
  windowsPerPass: number,
  hooks: Omit<EvaluationHooks, 'atHead'> & {
    onDivergence?: (variant: QuantizedVariant, stats: DivergenceStats) => void;
    half?: boolean;
    seconds?: EvaluationSeconds;
  } = {},
): Promise<{ perplexity: Record<ModelVariant, number>; divergence: Record<QuantizedVariant, DivergenceStats> }> {
  const acc: QuantizedRecord<DivergenceAccumulator> = { rtn: new DivergenceAccumulator(), gptq: new DivergenceAccumulator() };
  const divergence = {} as Record<QuantizedVariant, DivergenceStats>;
  const perplexity = await perplexities(rt, model, q, windows, seqlen, windowsPerPass, {
    signal: hooks.signal,
    half: hooks.half,
    seconds: hooks.seconds,
    onPass: hooks.onPass,
    onStep: hooks.onStep,
    atHead: (pass) => divergenceAtHead(rt, pass, model.spec.vocab, acc),
    // Each model's NLL from the logits the divergence makes: one head per model, not two.
    nllAtHead: true,
    onEach: (variant, value) => {
      if (variant !== 'original') {
        divergence[variant] = acc[variant].stats();
        hooks.onDivergence?.(variant, divergence[variant]);
      }
      hooks.onEach?.(variant, value);
    },
  });
  return { perplexity, divergence };
}
