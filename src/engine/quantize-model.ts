/**
 * Sequential GPTQ over a whole model, block by block, as the reference's *_sequential drivers:
 * the calibration windows are embedded once; for each block, each true-sequential group's
 * linears see their inputs through capture hooks while the block runs, are quantized (GPTQ, and
 * RTN on the same grid for comparison), and their weights replaced by Q; then the quantized
 * block runs on all windows to give the next block its inputs. Only one block's weights, the
 * Hessians of one group and the calibration activations are on the GPU at a time (the weights
 * outside the blocks only while the windows are embedded); the host keeps each linear's GPTQ codes
 * and grid packed (src/core/packed-quant.ts), never its dequantized weights, and of RTN only each
 * linear's width: RTN's results are made again from the original weights when needed
 * (src/engine/rtn-weights.ts).
 */
import { counted } from '../core/plural';
import type { GpuRuntime } from '../gpu/runtime';
import type { GpuMatrix } from '../gpu/matrix';
import { FORWARD_STATUS, FORWARD_STATUS_SLOTS } from '../gpu/kernels/forward';
import { halfScaled } from '../core/export/f16';
import { PackedGptq } from '../core/packed-quant';
import { RemadeRtn, type RtnModel } from './rtn-weights';
import { weightKey } from './weight-key';
import { GptqLayer } from './gptq-layer';
import { BlockRunner } from './model/block-forward';
import { blockShape, GpuGlobals, releaseBlock, uploadBlock } from './model/model-forward';
import { inputSets } from '../core/model/architecture';
import type { LoadedModel } from './model/load-model';
import { RunCancelledError, type LinearReport, type ProgressEvent, type RunSettings } from '../core/run';
import type { GptqResult, QuantResult } from '../core/types';
import { layerDetail } from '../core/layer-detail';
import { unpaddedShape } from './model/pad-mlp';
import { awqGroup, awqScaledSets } from './awq';

export interface RunHooks {
  onProgress?: (e: ProgressEvent) => void;
  signal?: AbortSignal;
  /** Attach a LayerDetail (Hessian heatmap, diag, error histograms) to each 'linear' event. */
  details?: boolean;
}

/** Seconds of each stage of a quantization, summed over the blocks (the GPU awaited at each stage's end). */
export interface QuantizationSeconds {
  /** Embedding the calibration windows (the weights outside the blocks read and uploaded). */
  embedding: number;
  /** The capture passes: each block run up to a group's linears, accumulating their Hessians. */
  capture: number;
  /** GPTQ of every linear (GptqLayer.quantize). */
  gptq: number;
  /** RTN on the same grid. */
  rtn: number;
  /** The output MSE of GPTQ and of RTN on the captured inputs. */
  outputMse: number;
  /** Each block run with its quantized weights to make the next block's inputs. */
  forward: number;
}

export interface QuantizedWeights {
  layers: LinearReport[];
  /**
   * GPTQ results by `${block}.${linear}`: packed codes, scales (F16 values with halfScales),
   * zeros, g_idx, perm and the loss; their codes and Q are made on demand (PackedQuant).
   */
  gptq: Map<string, PackedGptq>;
  /**
   * The RTN model on the same grid: not its codes but how each linear was rounded; a block's RTN
   * results are made again from its original weights on demand (src/engine/rtn-weights.ts), bit
   * for bit those the run measured (with an F16 export, F16 scales, as GPTQ's).
   */
  rtn: RtnModel;
  /**
   * diag(H) [in] of each quantized linear by `${block}.${linear}`, before damping and the dead-column
   * fix, original column order; H = (2/nsamples)·Σ x xᵀ over the run's calibration windows.
   */
  hessianDiag: Map<string, Float32Array>;
  /** AWQ-style scaled RTN weights Ŵ [out, in] by `${block}.${linear}` (only with QuantizeModelOptions.awq). */
  awq: Map<string, Float32Array>;
  seconds: number;
  stages: QuantizationSeconds;
}

/** Host bytes the run keeps of its quantized weights (GPTQ's codes, grids, g_idx; diag(H)); RTN's are made again when needed. */
export function quantizedBytes(q: Pick<QuantizedWeights, 'gptq' | 'hessianDiag'>): number {
  let bytes = 0;
  for (const r of q.gptq.values()) bytes += r.bytes;
  for (const d of q.hessianDiag.values()) bytes += d.byteLength;
  return bytes;
}

export { weightKey } from './weight-key';

export function throwIfCancelled(signal?: AbortSignal): void {
  if (signal?.aborted) throw new RunCancelledError();
}

/** Relative cost of quantizing a [rows, cols] linear (Hessian inverse + sweep), for time estimates. */
const linearCost = (rows: number, cols: number) => cols ** 3 + rows * cols ** 2;

export interface QuantizeModelOptions {
  /** Linears (block-level names) left as they are, e.g. those the export cannot pack. */
  skip?: ReadonlySet<string>;
  /**
   * Keep each result as the F16 checkpoint holds it (src/core/export/f16.ts halfScaled): scales
   * rounded to F16 and Q recomputed from them, for GPTQ and RTN alike. The reported output MSEs and
   * every later evaluation then use the file's weights; the quantization pass itself (the inputs
   * of later linears) runs on GPTQ's f32 Q, as the reference's does.
   */
  halfScales?: boolean;
  /**
   * Also round every linear with AWQ-style activation-aware scaling (src/engine/awq.ts) on the same
   * captured inputs as GPTQ and RTN: QuantizedWeights.awq and LinearReport.awq. Needs
   * true-sequential groups (their captured inputs are intact when the group is quantized).
   */
  awq?: boolean;
  /**
   * Also measure each linear's output MSE after GPTQ at each of these widths, on the same captured
   * inputs (the layer-sensitivity map): LinearReport.sensitivity. The run itself keeps its own width.
   */
  sensitivityBits?: readonly number[];
  /** Each linear's own width (a mixed-precision run); settings.bits for every linear when absent. */
  bitsOf?: (block: number, linear: string) => number;
}

/** Quantizes every linear of every block on `windows` (nsamples × seqlen token ids). */
export async function quantizeModel(
  rt: GpuRuntime,
  model: LoadedModel,
  windows: Uint32Array,
  settings: RunSettings,
  hooks: RunHooks = {},
  options: QuantizeModelOptions = {},
): Promise<QuantizedWeights> {
  const { spec } = model;
  const skip = options.skip ?? new Set<string>();
  const asStored = <T extends GptqResult | QuantResult>(r: T): T => (options.halfScales ? halfScaled(r) : r);
  const { seqlen, nsamples } = settings;
  if (options.awq && !settings.trueSequential) {
    throw new RangeError('AWQ needs true-sequential quantization: without it the inputs of q/k/v are overwritten before their group is quantized');
  }
  if (windows.length !== nsamples * seqlen) throw new RangeError(`expected ${nsamples} windows of ${seqlen} tokens, got ${windows.length} ids`);
  const t0 = performance.now();
  const elapsed = () => (performance.now() - t0) / 1000;
  const emit = (e: ProgressEvent) => hooks.onProgress?.(e);
  const groups = (settings.trueSequential ? model.sequentialGroups : [model.linears])
    .map((g) => g.filter((name) => !skip.has(name)))
    .filter((g) => g.length > 0);
  const quantized = groups.flat();
  const first = await model.block(0);
  const totalCost = spec.layers * quantized.reduce((s, name) => s + linearCost(first.linears.get(name)!.out, first.linears.get(name)!.in), 0);
  let doneCost = 0;
  const stages: QuantizationSeconds = { embedding: 0, capture: 0, gptq: 0, rtn: 0, outputMse: 0, forward: 0 };
  const rtn = new RemadeRtn({ groupSize: settings.groupSize, sym: settings.sym, mse: settings.mse }, options.halfScales === true);
  const out: QuantizedWeights = { layers: [], gptq: new Map(), rtn, hessianDiag: new Map(), awq: new Map(), seconds: 0, stages };
  const awqSets = options.awq ? awqScaledSets(spec.layout.block, spec.heads, spec.kvHeads) : [];
  const inputSetOf = new Map(inputSets(spec.layout.block).flatMap((set, i) => set.map((name) => [name, i] as const)));
  /** Runs `fn` and adds its seconds to `stage`. */
  const timed = async <T>(stage: keyof QuantizationSeconds, fn: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    try {
      return await fn();
    } finally {
      stages[stage] += (performance.now() - t) / 1000;
    }
  };

  const runner = new BlockRunner(rt, blockShape(spec, seqlen, nsamples));
  const ids = rt.storage(windows.byteLength, 'run.ids');
  const status = rt.storage(FORWARD_STATUS_SLOTS * 4, 'run.status');
  let h = rt.matrix(windows.length, spec.hidden, 'run.h0');
  let next = rt.matrix(windows.length, spec.hidden, 'run.h1');
  try {
    // The weights outside the blocks are needed only here: they leave the GPU before the blocks come.
    await timed('embedding', () => rt.scoped('Embedding the calibration windows', async () => {
      const globals = await GpuGlobals.load(rt, spec, model.globals);
      const temps: (GPUBuffer | GpuMatrix)[] = [];
      try {
        rt.upload(ids, 0, windows);
        const rec = rt.recorder('run.embed');
        rec.clear(status);
        temps.push(...globals.encodeEmbedding(rec, ids, h, seqlen, { buffer: status, slot: FORWARD_STATUS.embedRowOutOfRange }));
        rec.finish();
        if ((await rt.readU32(status, 0, 1))[0]) {
          throw new RangeError(`a calibration token id is outside the model's vocabulary of ${spec.vocab} (flagged by the embedding kernel)`);
        }
      } finally {
        if (!rt.isLost) {
          globals.release();
          rt.release(...temps);
          rt.pool.trim();
        }
      }
    }));
    emit({ type: 'stage', stage: 'quantization', detail: `${counted(spec.layers, 'block')}, ${counted(groups.length, 'group')} each`, elapsed: elapsed() });
    for (let b = 0; b < spec.layers; b++) {
      throwIfCancelled(hooks.signal);
      const host = b === 0 ? first : await model.block(b);
      const block = uploadBlock(rt, spec, host, b);
      try {
        for (const group of groups) {
          const layers = new Map<string, GptqLayer>();
          const captured = new Map<string, GpuMatrix>();
          try {
            // The linears of the group that read one input share one H (and its factor).
            const hessianOwner = new Map<string, string>();
            for (const name of group) {
              const l = host.linears.get(name)!;
              const owner = group.find((o) => inputSetOf.get(o) === inputSetOf.get(name))!;
              hessianOwner.set(name, owner);
              const hessianOf = owner === name ? undefined : layers.get(owner);
              layers.set(name, new GptqLayer(rt, `block${b}.${name}`, l.W, l.out, l.in, { hessianOf }));
            }
            // Run the block up to this group's linears, accumulating their Hessians on the way.
            await timed('capture', () => rt.scoped(`Block ${b}: capturing the inputs of ${group.join(', ')}`, async () => {
              const rec = rt.recorder(`run.block${b}.capture`);
              runner.encode(rec, h, next, block, {
                capture: (name, X) => {
                  const layer = layers.get(name);
                  if (!layer) return;
                  captured.set(name, X);
                  if (hessianOwner.get(name) === name) layer.encodeAddBatch(rec, X, nsamples);
                },
                stopAfter: new Set(group),
              });
              for (const [name, owner] of hessianOwner) {
                if (captured.get(name) !== captured.get(owner)) throw new Error(`internal error: ${name} shares the H of ${owner} (inputSets) but reads another input`);
              }
              rec.finish();
              await rt.idle();
            }));
            // AWQ for the sets of this group's linears that share an input, before any is replaced.
            const awqOf = new Map<string, { What: Float32Array; alpha: number }>();
            for (const set of awqSets) {
              const names = set.linears.filter((n) => group.includes(n));
              if (names.length === 0) continue;
              const res = await awqGroup(rt, `block${b}`, names.map((n) => ({ name: n, W: block.linears.get(n)!.W, hostW: host.linears.get(n)!.W })),
                captured.get(names[0])!, settings, { halfScales: options.halfScales });
              for (const n of names) awqOf.set(n, { What: res.linears.get(n)!.What, alpha: res.alpha });
            }
            for (const name of group) {
              throwIfCancelled(hooks.signal);
              const layer = layers.get(name)!;
              const X = captured.get(name)!;
              const H = hooks.details ? await layer.readHessian() : null;
              out.hessianDiag.set(weightKey(b, name), await layer.readHessianDiag());
              const bits = options.bitsOf?.(b, name) ?? settings.bits;
              const own = bits === settings.bits ? settings : { ...settings, bits };
              const computed = await timed('gptq', () => layer.quantize(own));
              // What the run keeps and reports (MSE, evaluation, export): the file's weights.
              const g = asStored(computed);
              const r = asStored(await timed('rtn', () => layer.rtn(own)));
              // Padded rows (zero weights, zero error) and padded columns (zero inputs) are left
              // out of the statistics: the MSE is over the model's own rows.
              const real = unpaddedShape(model, name, layer.rows, layer.cols);
              const perRealRow = layer.rows / real.rows;
              const report: LinearReport = {
                block: b,
                name,
                rows: real.rows,
                cols: real.cols,
                gptq: {
                  mse: (await timed('outputMse', () => layer.outputMse(g.Q as Float32Array, X))) * perRealRow,
                  loss: g.loss,
                  damp: g.percDampUsed,
                  dampAttempts: g.dampAttempts,
                  fellBackToRtn: g.fellBackToRtn,
                  seconds: g.seconds.total,
                },
                rtn: { mse: (await timed('outputMse', () => layer.outputMse(r.Q as Float32Array, X))) * perRealRow },
              };
              if (options.bitsOf) report.bits = bits;
              if (options.awq) {
                // Linears AWQ does not scale are rounded as they are (RTN).
                const a = awqOf.get(name);
                const What = a?.What ?? (r.Q as Float32Array);
                out.awq.set(weightKey(b, name), What);
                report.awq = { mse: a ? (await layer.outputMse(What, X)) * perRealRow : report.rtn.mse, alpha: a ? a.alpha : null };
              }
              if (options.sensitivityBits) {
                report.sensitivity = [];
                for (const w of options.sensitivityBits) {
                  const q = w === bits ? g : asStored(await layer.quantize({ ...own, bits: w }));
                  report.sensitivity.push({ bits: w, mse: w === bits ? report.gptq.mse : (await layer.outputMse(q.Q as Float32Array, X)) * perRealRow });
                }
              }
              // The next groups and blocks see GPTQ's own Q, as in the reference's sequential pass.
              rt.uploadMatrix(block.linears.get(name)!.W, computed.Q as Float32Array);
              out.gptq.set(weightKey(b, name), PackedGptq.of(g, bits));
              // RTN's results are made again from the original weights when needed (rtn-weights.ts).
              rtn.add(weightKey(b, name), bits);
              out.layers.push(report);
              doneCost += linearCost(layer.rows, layer.cols);
              const t = elapsed();
              emit({
                type: 'linear',
                report,
                done: out.layers.length,
                total: spec.layers * quantized.length,
                blocks: spec.layers,
                elapsed: t,
                etaSeconds: (t / doneCost) * (totalCost - doneCost),
                detail: H ? layerDetail(H, layer.cols, host.linears.get(name)!.W, g.Q, r.Q, g.perm, 64, real) : undefined,
              });
            }
          } finally {
            for (const l of layers.values()) l.dispose();
            // The group's working buffers leave the GPU: the next group's are of other sizes, and
            // the pool would otherwise keep every size it has held (memory-estimate.ts counts one group).
            if (!rt.isLost) rt.pool.trim();
          }
        }
        // The quantized block makes the next block's inputs.
        await timed('forward', () => rt.scoped(`Block ${b}: forward with quantized weights`, async () => {
          const rec = rt.recorder(`run.block${b}.forward`);
          runner.encode(rec, h, next, block);
          rec.finish();
          await rt.idle();
        }));
        [h, next] = [next, h];
      } finally {
        if (!rt.isLost) releaseBlock(rt, block);
      }
      emit({ type: 'block', block: b, blocks: spec.layers, elapsed: elapsed() });
    }
    out.seconds = elapsed();
    return out;
  } finally {
    if (!rt.isLost) {
      runner.release();
      rt.release(ids, status, h, next);
      // Nothing of the quantization stays on the GPU for what comes next (the evaluation).
      rt.pool.trim();
    }
  }
}
