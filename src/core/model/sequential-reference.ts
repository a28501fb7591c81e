/**
 * f64 reference of the whole-model sequential GPTQ driver (src/engine/quantize-model.ts), the
 * oracle its per-layer results are tested against. The same semantics, step by step:
 *
 *   X = embed(window) for every window
 *   for each block b:
 *     for each group (the layout's sequentialGroups, or every linear at once when
 *                     trueSequential is false):
 *       run block b on every window with the weights as they stand (earlier groups already
 *       quantized), capturing the inputs of this group's linears;
 *       H = 2/N · Σ_tokens x xᵀ over all windows, N = number of windows (one batch of N sequences,
 *       as HessianAccumulator / gptq.py add_batch);
 *       each linear: gptqReference(W original, H, options) and W ← Q (rounded to f32, the model's
 *       weight precision, as the GPU engine stores it)
 *     X = block b (fully quantized) on every window: the next block's inputs.
 *
 * hooks.replacement can put other quantized weights (e.g. the GPU engine's) into the model in
 * place of each Q, so that a comparison is made layer by layer on the same inputs.
 *
 * Weights are f32 and activations f64, as the f64 forward. The caller's model is not modified:
 * the run works on a copy of its weight map.
 */
import { gptqReference } from '../gptq-reference';
import { HessianAccumulator } from '../hessian';
import type { RunSettings } from '../run';
import type { GptqResult, QuantOptions } from '../types';
import { linearSpec } from './architecture';
import { embed, forwardBlock, setLinearWeight, type ReferenceModel } from './forward-reference';

export interface SequentialReferenceLayer {
  block: number;
  /** The checkpoint's name inside the block, e.g. "self_attn.q_proj". */
  name: string;
  rows: number;
  cols: number;
  /** GPTQ's loss Σ (w − q)² / d² / 2 (NaN after an RTN fallback, as the engine reports it). */
  loss: number;
  percDampUsed: number;
  fellBackToRtn: boolean;
  /** The quantized weight [rows, cols] as it went into the model (f32). */
  Q: Float32Array;
  /** Integer codes [rows, cols], original column order. */
  codes: Uint8Array;
  /** The full f64 result (scales, zeros, g_idx, perm, damping…). */
  result: GptqResult;
}

export interface SequentialReferenceResult {
  /** In the engine's order: block by block, group by group, in each group's order. */
  layers: SequentialReferenceLayer[];
  /**
   * The model with every block linear replaced by its Q, or by the hook's replacement (a copy;
   * the input model is untouched).
   */
  model: ReferenceModel;
}

export interface SequentialReferenceHooks {
  /** Called after each linear is quantized, e.g. for progress. */
  onLayer?(layer: SequentialReferenceLayer): void;
  /**
   * The weight [rows, cols] that replaces this linear in the model from here on, instead of the
   * reference's own Q (undefined: Q). A test passes another pipeline's quantized weights here so
   * that every layer is compared on the inputs that pipeline saw, without the drift that
   * differently rounded codes carry into later layers.
   */
  replacement?(block: number, name: string): Float32Array | undefined;
  /** A linear's calibration inputs X [tokens, cols] over all windows, before it is quantized. */
  onInputs?(block: number, name: string, X: Float64Array, tokens: number): void;
}

function quantOptions(s: RunSettings): QuantOptions {
  return {
    bits: s.bits,
    groupSize: s.groupSize,
    sym: s.sym,
    mse: s.mse,
    actOrder: s.actOrder,
    staticGroups: s.staticGroups,
    percDamp: s.percDamp,
    blockSize: s.blockSize,
  };
}

/** Quantizes every linear of every block on `windows` (nsamples windows of seqlen ids). */
export function sequentialReference(
  model: ReferenceModel,
  windows: readonly (readonly number[])[],
  settings: RunSettings,
  hooks: SequentialReferenceHooks = {},
): SequentialReferenceResult {
  const { seqlen, nsamples } = settings;
  if (windows.length !== nsamples) throw new RangeError(`expected ${nsamples} windows, got ${windows.length}`);
  windows.forEach((w, i) => {
    if (w.length !== seqlen) throw new RangeError(`window ${i} has ${w.length} tokens, expected seqlen ${seqlen}`);
  });
  const { layout } = model;
  const work: ReferenceModel = { ...model, weights: new Map(model.weights) };
  const allLinears = layout.block.linears.map((l) => l.name);
  const groups = settings.trueSequential ? layout.block.sequentialGroups : [allLinears];
  const options = quantOptions(settings);
  const T = seqlen;
  const layers: SequentialReferenceLayer[] = [];

  let X = windows.map((w) => embed(work, w)); // [nsamples] × [T, hidden]
  for (let b = 0; b < layout.numBlocks; b++) {
    const prefix = layout.blockPrefix(b);
    for (const group of groups) {
      // Inputs of this group's linears over all windows, [nsamples·T, in] each.
      const inputs = new Map<string, Float64Array>();
      for (const name of group) inputs.set(name, new Float64Array(nsamples * T * linearSpec(layout, name).in));
      X.forEach((x, s) => {
        forwardBlock(work, b, x, T, {
          onLinearInput(name, input) {
            inputs.get(name)?.set(input, s * input.length); // input: [T, in]
          },
        });
      });
      for (const name of group) {
        const spec = linearSpec(layout, name);
        const Xl = inputs.get(name)!;
        hooks.onInputs?.(b, name, Xl, nsamples * T);
        const H = new HessianAccumulator(spec.in);
        H.addBatch(Xl, nsamples * T, nsamples);
        const W = work.weights.get(`${prefix}${name}.weight`)!;
        const r = gptqReference(W, H.H, spec.out, spec.in, options);
        const Q = Float32Array.from(r.Q);
        setLinearWeight(work, b, name, hooks.replacement?.(b, name) ?? Q);
        const layer: SequentialReferenceLayer = {
          block: b,
          name,
          rows: spec.out,
          cols: spec.in,
          loss: r.fellBackToRtn ? Number.NaN : r.loss,
          percDampUsed: r.percDampUsed,
          fellBackToRtn: r.fellBackToRtn,
          Q,
          codes: r.codes,
          result: r,
        };
        layers.push(layer);
        hooks.onLayer?.(layer);
      }
    }
    // The quantized block makes the next block's inputs.
    X = X.map((x) => forwardBlock(work, b, x, T));
  }
  return { layers, model: work };
}
