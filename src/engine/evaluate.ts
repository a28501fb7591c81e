/**
 * Perplexity on held-out text: non-overlapping windows of seqlen tokens, each scored on its
 * own (every position predicts the next token of its window), mean NLL over all scored
 * positions, exp. Windows are scored in passes of at most `windowsPerPass`.
 *
 * The three models a run compares: the original with the checkpoint's values as stored, and the
 * RTN and GPTQ models with the values the exported file holds: with an F16 export every value
 * outside the quantized linears (embeddings, norms, biases, full-precision linears) rounded to
 * F16, and the quantized linears dequantized from F16 scales (quantizeModel's halfScales).
 */
import type { GpuRuntime } from '../gpu/runtime';
import { GpuGlobals, scoreSequences, type BlockSource, type HostBlock } from './model/model-forward';
import { withWeights, type LoadedModel } from './model/load-model';
import { throwIfCancelled, weightKey, type QuantizedWeights } from './quantize-model';
import type { ModelVariant } from '../core/run';
import { roundedToHalf } from '../core/export/f16';

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

/** Every Float32Array in a host block rounded to F16 (shared arrays stay shared), except those in `keep`. */
function halfBlock(host: HostBlock, keep: ReadonlySet<Float32Array>): HostBlock {
  const done = new Map<Float32Array, Float32Array>();
  const walk = (v: unknown): unknown => {
    if (v instanceof Float32Array) {
      if (keep.has(v)) return v;
      let r = done.get(v);
      if (!r) done.set(v, (r = roundedToHalf(v)));
      return r;
    }
    if (v instanceof Map) return new Map([...v].map(([k, x]) => [k, walk(x)]));
    if (Array.isArray(v)) return v.map(walk);
    if (typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype) {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    }
    return v;
  };
  return walk(host) as HostBlock;
}

/**
 * A block source with the given linears' weights swapped in and, with `half`, every other value
 * of the block (norms, biases, the linears not swapped) rounded to F16 as the export stores it.
 */
export function storedBlocks(base: BlockSource, weights: (b: number, linear: string) => Float32Array | undefined, half: boolean): BlockSource {
  const swapped = withWeights(base, weights);
  if (!half) return swapped;
  return async (b) => {
    const host = await swapped(b);
    const keep = new Set<Float32Array>();
    for (const name of host.linears.keys()) {
      const w = weights(b, name);
      if (w) keep.add(w);
    }
    return halfBlock(host, keep);
  };
}

/** How each of the three models is evaluated: its blocks, and whether its globals are the F16 ones. */
export interface VariantModel {
  blocks: BlockSource;
  /** Upload the weights outside the blocks rounded to F16 (GpuGlobals' half option). */
  half: boolean;
}

/**
 * The three models a run compares: the checkpoint's as stored, and the RTN and GPTQ models as the
 * export holds them (`half`: every value F16, ExportPlan.f16).
 */
export function variantModels(model: LoadedModel, q: QuantizedWeights, half: boolean): Record<ModelVariant, VariantModel> {
  return {
    original: { blocks: model.block, half: false },
    rtn: { blocks: storedBlocks(model.block, (b, n) => q.rtn.get(weightKey(b, n)), half), half },
    gptq: { blocks: storedBlocks(model.block, (b, n) => q.gptq.get(weightKey(b, n))?.Q as Float32Array | undefined, half), half },
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
    for (const variant of ['original', 'rtn', 'gptq'] as const) {
      const v = variants[variant];
      if (!globals || half !== v.half) {
        globals?.release();
        globals = null;
        globals = new GpuGlobals(rt, model.spec, model.globals, { half: v.half });
        half = v.half;
      }
      await fn(variant, globals, v.blocks);
    }
  } finally {
    if (globals && !rt.isLost) globals.release();
  }
}

/**
 * Perplexity of the original, RTN and GPTQ models on the same windows (see variantModels for the
 * values each one uses). `onEach` hears each result as it is measured, `onPass`
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
    half?: boolean;
  } = {},
): Promise<Record<ModelVariant, number>> {
  const out = {} as Record<ModelVariant, number>;
  await forEachVariant(rt, model, variantModels(model, q, hooks.half === true), async (variant, globals, blocks) => {
    out[variant] = await perplexity(rt, globals, blocks, windows, seqlen, windowsPerPass, hooks.signal, (done, all) =>
      hooks.onPass?.(variant, done, all),
    );
    hooks.onEach?.(variant, out[variant]);
  });
  return out;
}
