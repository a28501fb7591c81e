/**
 * Perplexity on held-out text: non-overlapping windows of seqlen tokens, each scored on its
 * own (every position predicts the next token of its window), mean NLL over all scored
 * positions, exp. Windows are scored in passes of at most `windowsPerPass`.
 */
import type { GpuRuntime } from '../gpu/runtime';
import { GpuGlobals, scoreSequences, type BlockSource } from './model/model-forward';
import { withWeights, type LoadedModel } from './model/load-model';
import { throwIfCancelled, weightKey, type QuantizedWeights } from './quantize-model';
import type { ModelVariant } from '../core/run';

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

/** The blocks of the three models a run compares: the checkpoint's, and with RTN or GPTQ weights. */
export function variantBlocks(model: LoadedModel, q: QuantizedWeights): Record<ModelVariant, BlockSource> {
  return {
    original: model.block,
    rtn: withWeights(model.block, (b, n) => q.rtn.get(weightKey(b, n))),
    gptq: withWeights(model.block, (b, n) => q.gptq.get(weightKey(b, n))?.Q as Float32Array | undefined),
  };
}

/**
 * Perplexity of the original, RTN and GPTQ models on the same windows, with the weights outside
 * the blocks uploaded once for all three. `onEach` hears each result as it is measured, `onPass`
 * each pass of windows.
 */
export async function perplexities(
  rt: GpuRuntime,
  model: LoadedModel,
  q: QuantizedWeights,
  windows: Uint32Array,
  seqlen: number,
  windowsPerPass: number,
  hooks: {
    signal?: AbortSignal;
    onEach?: (variant: ModelVariant, value: number) => void;
    onPass?: (variant: ModelVariant, windowsDone: number, windows: number) => void;
  } = {},
): Promise<Record<ModelVariant, number>> {
  const globals = new GpuGlobals(rt, model.spec, model.globals);
  const blocks = variantBlocks(model, q);
  const out = {} as Record<ModelVariant, number>;
  try {
    for (const variant of ['original', 'rtn', 'gptq'] as const) {
      out[variant] = await perplexity(rt, globals, blocks[variant], windows, seqlen, windowsPerPass, hooks.signal, (done, all) =>
        hooks.onPass?.(variant, done, all),
      );
      hooks.onEach?.(variant, out[variant]);
    }
  } finally {
    if (!rt.isLost) globals.release();
  }
  return out;
}
