/**
 * Perplexity with the divergence of quantized models from the original (src/core/divergence.ts:
 * KLD, top-1 agreement, Δp), measured during evaluation without keeping any logits.
 *
 * How it is wired (one module, so the evaluation can be restructured around it):
 *   1. DivergenceReference.measure runs the ORIGINAL model over the text's windows, pass by pass
 *      as perplexity() does, and keeps the LM head's input [tokens, embedDim] of every pass on
 *      the host (embedding-sized, never vocabulary-sized).
 *   2. reference.score(variant) runs a quantized model over the same passes. At each chunk of its
 *      logits (model-forward's ScoreHooks.onLogits), the original's logits for the same rows are
 *      recomputed from the kept hidden states with the original's LM head (the same GEMM and final
 *      softcap, so the same values as in step 1) and shaders/divergence.wgsl scores the two chunks together; the
 *      4 floats per token are read back after the pass into a DivergenceAccumulator.
 * When the variant's globals are the F16 ones (an F16 export), the original's head is uploaded
 * once more beside them (its values as stored) and released with the reference.
 */
import type { GpuRuntime } from '../gpu/runtime';
import type { GpuMatrix } from '../gpu/matrix';
import { ELEMENTWISE, encodeElementwise, encodeLinear } from '../gpu/kernels/forward';
import { DIVERGENCE_FIELDS, encodeDivergence } from '../gpu/kernels/divergence';
import { DivergenceAccumulator, type DivergenceStats } from '../core/divergence';
import type { ModelVariant } from '../core/run';
import { GpuGlobals, scoreSequences, type BlockSource } from './model/model-forward';
import type { LoadedModel } from './model/load-model';
import { throwIfCancelled, type QuantizedWeights } from './quantize-model';
import { forEachVariant, variantModels } from './evaluate';

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
 * The original model's side of the divergence on one text: its perplexity, and its final hidden
 * states per pass (host memory: tokens × hidden floats). Release it to free the original head
 * it may hold on the GPU.
 */
export class DivergenceReference {
  private head: GpuMatrix | null = null;

  private constructor(
    private readonly rt: GpuRuntime,
    private readonly model: LoadedModel,
    readonly windows: Uint32Array,
    readonly seqlen: number,
    private readonly passes: [number, number][],
    private readonly normed: Float32Array[],
    /** Perplexity of the original model on these windows. */
    readonly perplexity: number,
  ) {}

  /**
   * Scores the original model (its globals as stored, `globals`, and its blocks) on `windows`
   * (whole windows of `seqlen` ids), `windowsPerPass` at a time. Throws RangeError on ids that
   * are not whole windows; RunCancelledError when `signal` aborts between passes.
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
    return new DivergenceReference(rt, model, windows, seqlen, passes, normed, Math.exp(sum / scored));
  }

  /** The original's LM head beside `globals`: theirs when they hold the stored values, else a copy of the stored head. */
  private headFor(globals: GpuGlobals): GpuMatrix {
    if (!globals.half) return globals.head;
    if (!this.head) {
      const { spec, globals: host } = this.model;
      this.head = this.rt.matrix(spec.vocab, spec.embedDim, 'divergence.originalHead');
      this.rt.uploadMatrix(this.head, host.lmHead);
    }
    return this.head;
  }

  /**
   * Perplexity of a quantized model (its globals and blocks) on the same windows and passes, and
   * its divergence from the original. Throws RunCancelledError when `signal` aborts between passes.
   */
  async score(globals: GpuGlobals, blocks: BlockSource, hooks: PassHooks = {}): Promise<VariantScore> {
    const { rt, seqlen } = this;
    const head = this.headFor(globals);
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
    if (!this.rt.isLost) this.rt.release(this.head);
    this.head = null;
  }
}

/** The quantized models a run compares with the original. */
export type QuantizedVariant = Exclude<ModelVariant, 'original'>;

/**
 * perplexities() with the divergence: the original, RTN and GPTQ models on the same windows (see
 * variantModels for the values each uses), and the divergence of RTN and GPTQ from the original.
 * `onEach` hears each perplexity as it is measured, `onPass` each pass of windows.
 */
export async function perplexitiesWithDivergence(
  rt: GpuRuntime,
  model: LoadedModel,
  q: QuantizedWeights,
  windows: Uint32Array,
  seqlen: number,
  windowsPerPass: number,
  hooks: {
    signal?: AbortSignal;
    onEach?: (variant: ModelVariant, value: number) => void;
    onDivergence?: (variant: QuantizedVariant, stats: DivergenceStats) => void;
    onPass?: (variant: ModelVariant, windowsDone: number, windows: number) => void;
    half?: boolean;
  } = {},
): Promise<{ perplexity: Record<ModelVariant, number>; divergence: Record<QuantizedVariant, DivergenceStats> }> {
  const perplexity = {} as Record<ModelVariant, number>;
  const divergence = {} as Record<QuantizedVariant, DivergenceStats>;
  let reference: DivergenceReference | null = null;
  try {
    await forEachVariant(rt, model, variantModels(model, q, hooks.half === true), async (variant, globals, blocks) => {
      const passHooks = { signal: hooks.signal, onPass: (done: number, all: number) => hooks.onPass?.(variant, done, all) };
      if (variant === 'original') {
        reference = await DivergenceReference.measure(rt, model, globals, blocks, windows, seqlen, windowsPerPass, passHooks);
        perplexity.original = reference.perplexity;
      } else {
        const s = await reference!.score(globals, blocks, passHooks);
        perplexity[variant] = s.perplexity;
        divergence[variant] = s.divergence;
        hooks.onDivergence?.(variant, s.divergence);
      }
      hooks.onEach?.(variant, perplexity[variant]);
    });
  } finally {
    (reference as DivergenceReference | null)?.release();
  }
  return { perplexity, divergence };
}
