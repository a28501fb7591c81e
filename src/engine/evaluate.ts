/**
 * Perplexity on held-out text: non-overlapping windows of seqlen tokens, each scored on its
 * own (every position predicts the next token of its window), mean NLL over all scored
 * positions, exp. Windows are scored in passes of at most `windowsPerPass`.
 *
 * The three models a run compares: the original with the checkpoint's values as stored, and the
 * RTN and GPTQ models with the values the exported file holds: with an F16 export every value
 * outside the quantized linears (embeddings, norms, biases, full-precision linears) rounded to
 * F16, and the quantized linears dequantized from their codes and F16 scales (quantizeModel's
 * halfScales).
 *
 * The run evaluates the three streamed block by block (perplexities, StreamedEvaluation), as the
 * quantization runs: a pass of windows is embedded once, then each block's original weights are
 * read once and the three models run through it one after the other, the RTN and GPTQ blocks made
 * on the GPU from the codes (RTN's codes made again from the original weights first, one linear
 * at a time, src/engine/rtn-weights.ts); at the head each model's NLL is computed on the same
 * windows. The GPU holds one block of weights, one set of globals (switched in place between the
 * stored and the F16 values, src/engine/model/half-patch.ts) and three hidden-state matrices per
 * pass.
 */
import type { GpuRuntime } from '../gpu/runtime';
import type { GpuMatrix } from '../gpu/matrix';
import type { Recorder } from '../gpu/recorder';
import { encodeNll, FORWARD_STATUS, FORWARD_STATUS_SLOTS, NO_TARGET } from '../gpu/kernels/forward';
import {
  blockShape,
  encodeHeadInput,
  encodeLogits,
  GpuGlobals,
  releaseBlock,
  scoreSequences,
  uploadBlock,
  type BlockSource,
  type HostLinear,
} from './model/model-forward';
import { BlockRunner, type GpuBlock } from './model/block-forward';
import { encodeHeadScores } from './model/lm-head';
import type { LoadedModel } from './model/load-model';
import { releaseCodes, sharedValues, uploadQuantizedBlock } from './model/variant-block';
import { throwIfCancelled, weightKey, type QuantizedWeights } from './quantize-model';
import type { ModelVariant } from '../core/run';

export const VARIANTS: readonly ModelVariant[] = ['original', 'rtn', 'gptq'];

export async function perplexity(
  rt: GpuRuntime,
  globals: GpuGlobals,
  blocks: BlockSource,
  windows: Uint32Array,
  seqlen: number,
  windowsPerPass: number,
  signal?: AbortSignal,
  /** Hears each finished pass: windows scored so far, of all. */
  onPass?: (windowsDone: number, windows: number) => void,
): Promise<number> {
  const count = windows.length / seqlen;
  if (!Number.isInteger(count) || count === 0) throw new RangeError(`${windows.length} ids are not whole windows of ${seqlen}`);
  let sum = 0;
  let scored = 0;
  for (let w0 = 0; w0 < count; w0 += windowsPerPass) {
    throwIfCancelled(signal);
    const n = Math.min(windowsPerPass, count - w0);
    const s = await scoreSequences(rt, globals, blocks, windows.subarray(w0 * seqlen, (w0 + n) * seqlen), seqlen, signal);
    for (const v of s.nll) sum += v;
    scored += s.scored;
    onPass?.(w0 + n, count);
  }
  return Math.exp(sum / scored);
}

/**
 * A block source with the given linears' weights swapped in and, with `half`, every other value
 * of the block (norms, biases, the linears not swapped) rounded to F16 as the export stores it.
 * `weights` is asked once per linear and block, with the linear's original weights `l` (from
 * `base`); it may answer asynchronously (RTN's weights are made again from them, rtn-weights.ts).
 */
export function storedBlocks(
  base: BlockSource,
  weights: (b: number, linear: string, l: HostLinear) => Float32Array | undefined | Promise<Float32Array | undefined>,
  half: boolean,
): BlockSource {
  return async (b) => {
    const host = await base(b);
    const swapped = new Map<string, Float32Array>();
    for (const [name, l] of host.linears) {
      const w = await weights(b, name, l);
      if (w) swapped.set(name, w);
    }
    const shared = sharedValues(host, (name) => swapped.has(name), half);
    const linears = new Map([...shared.linears].map(([name, l]) => [name, { ...l, W: swapped.get(name) ?? l.W }]));
    return { linears, norms: shared.norms };
  };
}

/** How each of the three models is evaluated: its blocks, and whether its globals are the F16 ones. */
export interface VariantModel {
  blocks: BlockSource;
  /** Upload the weights outside the blocks rounded to F16 (GpuGlobals' half option). */
  half: boolean;
}

/**
 * The three models a run compares as host block sources: the checkpoint's as stored, and the RTN
 * and GPTQ models as the export holds them (`half`: every value F16, ExportPlan.f16), their
 * weights dequantized on the host from the codes, one linear at a time (RTN's codes made again on
 * `rt` from the original weights each time a block is read). Generation runs on these.
 */
export function variantModels(rt: GpuRuntime, model: LoadedModel, q: QuantizedWeights, half: boolean): Record<ModelVariant, VariantModel> {
  return {
    original: { blocks: model.block, half: false },
    rtn: { blocks: storedBlocks(model.block, async (b, n, l) => (await q.rtn.linear(rt, b, n, l))?.Q, half), half },
    gptq: { blocks: storedBlocks(model.block, (b, n) => q.gptq.get(weightKey(b, n))?.Q, half), half },
  };
}

/**
 * Calls `fn` for the original, RTN and GPTQ models in turn with their globals on the GPU. The
 * globals are uploaded once for the variants that share them; the F16 ones replace the stored
 * ones (released first), so the GPU never holds two copies of the embedding.
 */
export async function forEachVariant(
  rt: GpuRuntime,
  model: LoadedModel,
  variants: Record<ModelVariant, VariantModel>,
  fn: (variant: ModelVariant, globals: GpuGlobals, blocks: BlockSource) => Promise<void>,
): Promise<void> {
  let globals: GpuGlobals | null = null;
  let half = false;
  try {
    for (const variant of VARIANTS) {
      const v = variants[variant];
      if (!globals || half !== v.half) {
        globals?.release();
        globals = null;
        globals = await GpuGlobals.load(rt, model.spec, model.globals, { half: v.half });
        half = v.half;
      }
      await fn(variant, globals, v.blocks);
    }
  } finally {
    if (globals && !rt.isLost) globals.release();
  }
}

/**
 * What the evaluation offers at the LM head of each pass, with the three models' final hidden
 * states side by side (for measures that compare the quantized models with the original, such as
 * KL divergence, without running any model again).
 */
export interface HeadPass {
  /** The pass: its first window, its windows, and their length; T = windows · seqlen rows. */
  firstWindow: number;
  windows: number;
  seqlen: number;
  /** Next-token targets [T] u32 on the GPU (NO_TARGET at each window's last position). */
  targets: GPUBuffer;
  /** The LM head's input of each model [T, embedDim]: final norm and project_out applied. */
  inputs: Record<ModelVariant, GpuMatrix>;
  /**
   * Records the logits of `variant` for head-input rows [t0, t0 + out.rows) into out [rows, vocab]
   * (one binding): its head with its own values (the stored or the F16 ones), softcapped where the
   * family says so. Work recorded after it sees the globals switched to that variant's values.
   */
  encodeLogits(rec: Recorder, variant: ModelVariant, t0: number, out: GpuMatrix): void;
  /**
   * Records `variant`'s NLL of head-input rows [t0, t0 + logits.rows) from those rows' logits
   * [rows, vocab] (whole rows, as encodeLogits makes them): what the pass records with the model's
   * own head when the hook does not score (EvaluationHooks.nllAtHead).
   */
  encodeNll(rec: Recorder, variant: ModelVariant, t0: number, logits: GpuMatrix): void;
  /** A recorder on the evaluation's device, for the hook's own work. */
  recorder(label: string): Recorder;
}

/**
 * Seconds of the evaluation by model (their blocks and heads, the GPU awaited after each), of
 * reading the original weights, and of the atHead hook (the divergence, src/engine/divergence.ts;
 * with nllAtHead the three models' heads are in it, not in theirs).
 */
export type EvaluationSeconds = Record<ModelVariant | 'reading' | 'divergence', number>;

export interface EvaluationHooks {
  signal?: AbortSignal;
  /** Hears each model's perplexity on the text once measured. */
  onEach?: (variant: ModelVariant, value: number) => void;
  /** Hears each finished pass, for each model: windows scored so far, of all. */
  onPass?: (variant: ModelVariant, windowsDone: number, windows: number) => void;
  /**
   * Hears the pass of windows `from` + 1 to `to` (of `windows`) go on: the three models have run
   * `step` of its `steps` steps (the model's blocks, then the head, which onPass ends).
   */
  onStep?: (from: number, to: number, windows: number, step: number, steps: number) => void;
  /** Called at the head of each pass (see HeadPass), after the NLL is recorded (unless nllAtHead); awaited. */
  atHead?: (pass: HeadPass) => Promise<void> | void;
  /**
   * atHead records every model's NLL itself (HeadPass.encodeNll, for every row), on logits it
   * makes anyway: the pass then runs no head of its own, so that each model's logits are made
   * once, not twice (the divergence). Needs atHead.
   */
  nllAtHead?: boolean;
}

/**
 * The three models of a run on one GPU, streamed block by block (see the module comment). Open it
 * once, measure any number of texts, release it.
 */
export class StreamedEvaluation {
  /** Seconds spent so far, by model (see EvaluationSeconds). */
  readonly seconds: EvaluationSeconds = { reading: 0, original: 0, rtn: 0, gptq: 0, divergence: 0 };

  private constructor(
    private readonly rt: GpuRuntime,
    private readonly model: LoadedModel,
    private readonly q: QuantizedWeights,
    /** The RTN and GPTQ models use the F16 values (an F16 export). */
    private readonly half: boolean,
    private readonly globals: GpuGlobals,
  ) {}

  /** Uploads the weights outside the blocks (stored values, and the F16 ones beside them when `half`). */
  static async open(rt: GpuRuntime, model: LoadedModel, q: QuantizedWeights, half: boolean): Promise<StreamedEvaluation> {
    const globals = await GpuGlobals.load(rt, model.spec, model.globals, { switchable: half });
    return new StreamedEvaluation(rt, model, q, half, globals);
  }

  /**
   * Perplexity of the three models on `windows` (whole windows of `seqlen` ids), `windowsPerPass`
   * windows at a time. Throws RunCancelledError when `signal` aborts (between blocks), RangeError
   * on ids that are not whole windows or lie outside the vocabulary.
   */
  async perplexities(windows: Uint32Array, seqlen: number, windowsPerPass: number, hooks: EvaluationHooks = {}): Promise<Record<ModelVariant, number>> {
    const count = windows.length / seqlen;
    if (!Number.isInteger(count) || count === 0) throw new RangeError(`${windows.length} ids are not whole windows of ${seqlen}`);
    if (hooks.nllAtHead && !hooks.atHead) throw new TypeError('nllAtHead needs an atHead hook that records the NLL');
    if (seqlen > this.model.spec.maxPositions) throw new RangeError(`windows of ${seqlen} tokens exceed the model's context of ${this.model.spec.maxPositions}`);
    const sums = { original: 0, rtn: 0, gptq: 0 };
    let scored = 0;
    for (let w0 = 0; w0 < count; w0 += windowsPerPass) {
      throwIfCancelled(hooks.signal);
      const n = Math.min(windowsPerPass, count - w0);
      const onBlock = (b: number) => hooks.onStep?.(w0, w0 + n, count, b + 1, this.model.spec.layers + 1);
      const nll = await this.pass(windows.subarray(w0 * seqlen, (w0 + n) * seqlen), seqlen, w0, hooks, onBlock);
      // Summed in token order per model, as perplexity() sums each model's passes.
      for (const v of VARIANTS) for (const x of nll[v]) sums[v] += x;
      scored += n * (seqlen - 1);
      for (const v of VARIANTS) hooks.onPass?.(v, w0 + n, count);
    }
    const out = {} as Record<ModelVariant, number>;
    for (const v of VARIANTS) {
      out[v] = Math.exp(sums[v] / scored);
      hooks.onEach?.(v, out[v]);
    }
    return out;
  }

  /** One pass of windows through the three models: each one's NLL per token [T] (f32 values). */
  private async pass(ids: Uint32Array, seqlen: number, firstWindow: number, hooks: EvaluationHooks, onBlock: (b: number) => void): Promise<Record<ModelVariant, Float32Array>> {
    const { rt, model, q, half, globals } = this;
    const { spec } = model;
    const T = ids.length;
    const idsBuf = rt.storage(T * 4, 'eval.ids');
    rt.upload(idsBuf, 0, ids);
    const targets = new Uint32Array(T);
    for (let t = 0; t < T; t++) targets[t] = (t + 1) % seqlen === 0 ? NO_TARGET : ids[t + 1];
    const targetsBuf = rt.storage(T * 4, 'eval.targets');
    rt.upload(targetsBuf, 0, targets);
    const status = rt.storage(FORWARD_STATUS_SLOTS * 4, 'eval.status');
    const argmax = rt.storage(T * 4, 'eval.argmax');
    const nll = {} as Record<ModelVariant, GPUBuffer>;
    const h = {} as Record<ModelVariant, GpuMatrix>;
    const inputs = {} as Record<ModelVariant, GpuMatrix>;
    const temps: (GPUBuffer | GpuMatrix | null)[] = [idsBuf, targetsBuf, status, argmax];
    for (const v of VARIANTS) {
      nll[v] = rt.storage(T * 4, `eval.${v}.nll`);
      h[v] = rt.matrix(T, spec.hidden, `eval.${v}.h`);
      temps.push(nll[v]);
    }
    let spare = rt.matrix(T, spec.hidden, 'eval.spare');
    const runner = new BlockRunner(rt, blockShape(spec, seqlen, T / seqlen));
    const time = async <T>(what: keyof EvaluationSeconds, fn: () => Promise<T>): Promise<T> => {
      const t = performance.now();
      const out = await fn();
      this.seconds[what] += (performance.now() - t) / 1000;
      return out;
    };
    try {
      // The embeddings: the original's with the stored values, the quantized models' (the same for both) with the F16 ones.
      let rec = rt.recorder('eval.embed');
      rec.clear(status);
      const embedStatus = { buffer: status, slot: FORWARD_STATUS.embedRowOutOfRange };
      if (half) globals.encodeValues(rec, false);
      temps.push(...globals.encodeEmbedding(rec, idsBuf, h.original, seqlen, embedStatus));
      if (half) {
        globals.encodeValues(rec, true);
        temps.push(...globals.encodeEmbedding(rec, idsBuf, h.rtn, seqlen, embedStatus));
      } else {
        rec.copy(h.original.buffer, 0, h.rtn.buffer, 0, h.rtn.buffer.size);
      }
      rec.copy(h.rtn.buffer, 0, h.gptq.buffer, 0, h.gptq.buffer.size);
      rec.finish();

      for (let b = 0; b < spec.layers; b++) {
        throwIfCancelled(hooks.signal);
        const t = performance.now();
        const original = await model.block(b);
        this.seconds.reading += (performance.now() - t) / 1000;
        /** Runs model v through block b: its weights uploaded (or made) into `rec`, the block, then released. */
        const run = (v: ModelVariant, upload: (rec: Recorder) => { block: GpuBlock; release: () => void }) => time(v, async () => {
          const rec = rt.recorder(`eval.block${b}.${v}`);
          const made = upload(rec);
          try {
            runner.encode(rec, h[v], spare, made.block);
            rec.finish();
            await rt.idle();
          } finally {
            if (!rt.isLost) made.release();
          }
          [h[v], spare] = [spare, h[v]];
        });
        await run('original', () => {
          const block = uploadBlock(rt, spec, original, b);
          return { block, release: () => releaseBlock(rt, block) };
        });
        const shared = sharedValues(original, (name) => q.gptq.has(weightKey(b, name)) || q.rtn.has(weightKey(b, name)), half);
        for (const v of ['rtn', 'gptq'] as const) {
          // RTN's codes are made again from the original weights, one linear at a time on the GPU,
          // after the original's block has left it (counted in RTN's seconds).
          const rtn = v === 'rtn' ? await time('rtn', () => q.rtn.block(rt, b, original)) : null;
          const codesOf = (name: string) => (rtn ? rtn.get(name) : q.gptq.get(weightKey(b, name)));
          await run(v, (rec) => {
            const { block, temps: codes } = uploadQuantizedBlock(rt, rec, spec, shared, b, codesOf);
            return {
              block,
              release: () => {
                releaseBlock(rt, block);
                for (const c of codes) releaseCodes(rt, c);
              },
            };
          });
        }
        onBlock(b);
      }

      // The head: each model's input, its NLL, then the hook with the three side by side.
      const out = {} as Record<ModelVariant, Float32Array>;
      for (const v of VARIANTS) {
        await time(v, async () => {
          rec = rt.recorder(`eval.head.${v}`);
          if (half) globals.encodeValues(rec, v !== 'original');
          const head = encodeHeadInput(rt, rec, runner, globals, h[v]);
          if (head.projected) {
            inputs[v] = head.projected;
            temps.push(head.projected);
          } else {
            inputs[v] = rt.matrix(T, spec.embedDim, `eval.${v}.headIn`);
            temps.push(inputs[v]);
            rec.copy(head.input.buffer, 0, inputs[v].buffer, 0, Math.min(head.input.buffer.size, inputs[v].buffer.size));
          }
          // The LM head and the log-softmax a chunk of logits at a time (lm-head.ts), unless the hook scores.
          const scores = hooks.nllAtHead
            ? null
            : encodeHeadScores(rt, rec, inputs[v], globals.head, spec.layout.logitSoftcap, {
              targets: targetsBuf, nll: nll[v], argmax, status: { buffer: status, slot: FORWARD_STATUS.targetOutOfRange },
            });
          rec.finish();
          if (scores) rt.release(...scores.temps);
          await rt.idle();
        });
      }
      const atHead = hooks.atHead;
      // The NLL kernel's running log-sum-exp, unused on whole rows (one chunk of the vocabulary):
      // made at the hook's first encodeNll.
      let nllState: GPUBuffer | null = null;
      if (atHead) {
        await time('divergence', async () => atHead({
          firstWindow,
          windows: T / seqlen,
          seqlen,
          targets: targetsBuf,
          inputs,
          encodeLogits: (r, v, t0, m) => {
            if (half) globals.encodeValues(r, v !== 'original');
            encodeLogits(r, globals, inputs[v], t0, m, rt.bindingLimit);
          },
          encodeNll: (r, v, t0, m) => {
            if (m.cols !== spec.vocab) throw new RangeError(`encodeNll takes whole rows of ${spec.vocab} logits, not ${m.cols}`);
            if (!nllState) temps.push((nllState = rt.storage(16, 'eval.nllState')));
            encodeNll(r, m, { targets: targetsBuf, nll: nll[v], argmax, state: nllState, status: { buffer: status, slot: FORWARD_STATUS.targetOutOfRange } }, t0);
          },
          recorder: (label) => rt.recorder(label),
        }));
      }
      const flags = await rt.readU32(status, 0, FORWARD_STATUS_SLOTS);
      if (flags[FORWARD_STATUS.embedRowOutOfRange] || flags[FORWARD_STATUS.targetOutOfRange]) {
        throw new RangeError(`a token id is outside the model's vocabulary of ${spec.vocab} (flagged by the ` +
          `${flags[FORWARD_STATUS.embedRowOutOfRange] ? 'embedding' : 'NLL'} kernel); check the ids before the evaluation`);
      }
      // Every position's NLL (0 where a window's last position predicts nothing), as perplexity() sums them.
      for (const v of VARIANTS) out[v] = await rt.readF32(nll[v], 0, T);
      return out;
    } finally {
      if (!rt.isLost) {
        runner.release();
        // The hidden states swap with `spare` block by block: release whichever hold them now.
        rt.release(spare, ...VARIANTS.map((v) => h[v]), ...temps);
        // A pass of fewer windows (the last of a text) would otherwise add buffers of its own sizes
        // to those the pool keeps from the passes before (memory-estimate.ts counts one pass).
        rt.pool.trim();
      }
    }
  }

  release(): void {
    if (!this.rt.isLost) this.globals.release();
  }
}

/**
 * Perplexity of the original, RTN and GPTQ models on the same windows (see variantModels for the
 * values each one uses), streamed block by block (StreamedEvaluation). `onEach` hears each result
 * as it is measured, `onPass` each pass of windows; `seconds` gets the evaluation's seconds added.
 */
export async function perplexities(
  rt: GpuRuntime,
  model: LoadedModel,
  q: QuantizedWeights,
  windows: Uint32Array,
  seqlen: number,
  windowsPerPass: number,
  hooks: EvaluationHooks & { half?: boolean; seconds?: EvaluationSeconds } = {},
): Promise<Record<ModelVariant, number>> {
  const evaluation = await StreamedEvaluation.open(rt, model, q, hooks.half === true);
  try {
    return await evaluation.perplexities(windows, seqlen, windowsPerPass, hooks);
  } finally {
    evaluation.release();
    // The weights outside the blocks (the embedding and head, often the largest buffers of a run)
    // leave the GPU here, not at the next trim: an export after the evaluation holds its own pieces.
    if (!rt.isLost) rt.pool.trim();
    // Added to the caller's tally (`seconds`), also when cancelled.
    if (hooks.seconds) for (const k of Object.keys(hooks.seconds) as (keyof EvaluationSeconds)[]) hooks.seconds[k] += evaluation.seconds[k];
  }
}
