/**
 * A strategy sweep (src/core/sweep.ts): several rounding strategies on the same calibration
 * windows, over one or more calibration seeds, each measured by perplexity and divergence from the
 * original on the same evaluation windows, against its bits per weight.
 *
 * Shared once: the checkpoint, its tokenization and windows, the tensor scan, the model's host
 * weights, and the original model's evaluation (its perplexity and the final hidden states the
 * divergence needs, src/engine/divergence.ts). Pass by pass (strategies on one grid: GPTQ, and
 * RTN and AWQ on the same captured inputs), each seed quantizes the model once, then each of the
 * pass's strategies' models is evaluated; a cancelled sweep keeps the strategies whose every seed
 * finished. RTN's weights do not depend on the calibration, so its model is
 * evaluated with the first seed only (its perplexity is the same for every seed); its per-layer
 * errors are measured with each seed. With `sensitivity`, the first GPTQ pass also measures every
 * linear's output error at 2, 3, 4 and 8 bits on its captured inputs (the layer-sensitivity map).
 */
import { counted } from '../core/plural';
import type { GpuRuntime } from '../gpu/runtime';
import type { Checkpoint } from '../core/model/checkpoint';
import { kernelChoicesOf, tuneKernels } from '../gpu/kernels/choices';
import { calibrationWindows } from '../core/model/calibration';
import { RunCancelledError, type RunSettings } from '../core/run';
import {
  BPW_COVERS_TEXT,
  strategyLabel,
  strategySettings,
  strategySummary,
  sweepFront,
  sweepPasses,
  sweepRefusalText,
  SWEEP_BITS,
  type SensitivityMap,
  type Strategy,
  type StrategyResult,
  type StrategySeedResult,
  type SweepProgressEvent,
  droppedResultsText,
  type SweepRefusal,
  type SweepRunReport,
} from '../core/sweep';
import { bitsPerWeight, plannedLinears } from '../core/export/bpw';
import { mlpLinears, type ExportPlan } from '../core/export/plan';
import type { DivergenceStats } from '../core/divergence';
import { loadModel, modelSpec, type LoadedModel } from './model/load-model';
import { estimateSweepMemory, globalsHeldOf, type GlobalsHeld } from './memory-estimate';
import { GpuGlobals, type BlockSource, type HostLinear } from './model/model-forward';
import { padMlpWidth } from './model/pad-mlp';
import { planBeforeGpu, planRun, type MemoryBudget } from './run-plan';
import { quantizeModel, throwIfCancelled, weightKey, type QuantizedWeights } from './quantize-model';
import { storedBlocks } from './evaluate';
import { DivergenceReference, OriginalHead } from './divergence';
import { gpuBudgetOf, readRunInputs, RunInputError, scanForRun, type RunInputs } from './run-model';
import { shareableModelName } from '../core/shareable-name';
import { REPORT_ONLY } from '../core/report';

export interface SweepInputs extends Pick<RunInputs, 'files' | 'modelName' | 'calibration' | 'evaluations' | 'evalWindowLimit' | 'gpuMemoryBudget' | 'gpuMemoryRaise' | 'read'> {
  /** Settings every strategy shares: nsamples, seqlen, trueSequential, seed (the first seed). */
  base: Partial<RunSettings>;
  strategies: Strategy[];
  /** Calibration seeds: base.seed, base.seed + 1, … (at least 1). */
  seeds: number;
  /** Measure the layer-sensitivity map in the first GPTQ pass (first seed). */
  sensitivity?: boolean;
}

export type { SweepRefusal };

export interface SweepHooks {
  onProgress?: (e: SweepProgressEvent) => void;
  signal?: AbortSignal;
  /**
   * Hears, before anything heavy runs, what the user should know of every strategy alike (the
   * plan's warnings for the base settings: config.json read one way of two, a calibration with
   * fewer tokens than the widest linear has input columns).
   */
  onWarnings?: (warnings: string[]) => void;
}

/** Why an AWQ strategy has no download. */
export const AWQ_NOT_EXPORTABLE =
  'AWQ is measured for comparison only: its per-channel scales would have to be folded into the norms and ' +
  'earlier linears for a GPTQ-format file, which the export does not do yet';

/** The widths of the sensitivity map. */
export const SENSITIVITY_WIDTHS = [...SWEEP_BITS];

/**
 * Why passes of a sweep would be refused before any work, in pass order (empty: every pass can
 * run). Each pass's settings (its strategy over `base`) go through planRun, the rule a single run
 * follows: a group size with which nothing of this model can be quantized (naming the group sizes
 * that fit), head_dim, the window length, GPU memory within `budget` (bytes, or bytes with how to
 * raise them) — a run's, then a sweep's over `texts` evaluation texts (estimateSweepMemory).
 * runSweep (the CLI's --sweep) refuses with the first; the studio's Compare is disabled while any
 * is given (the worker's planSweep). `base` must have its defaults resolved (seqlen included).
 * With `rt` null, only what needs no GPU is checked (planBeforeGpu): the CLI does so before it
 * creates the adapter, runSweep again with it.
 */
export function sweepRefusals(
  ckpt: Checkpoint, strategies: readonly Strategy[], base: RunSettings, rt: GpuRuntime | null, budget: number | MemoryBudget, texts: number,
): SweepRefusal[] {
  const labels = strategies.map(strategyLabel);
  const out: SweepRefusal[] = [];
  for (const p of sweepPasses(strategies)) {
    const settings = strategySettings(p.strategy, base);
    let reason: string | null;
    if (rt === null) {
      reason = planBeforeGpu(ckpt, settings).fitError;
    } else {
      const plan = planRun(ckpt, settings, rt, budget);
      reason = plan.fitError ?? sweepMemoryRefusal(ckpt, settings, plan.export, rt, budget, texts);
    }
    if (reason) out.push({ labels: p.members.map((i) => labels[i]), reason });
  }
  return out;
}

const mib = (b: number) => `${Math.ceil(b / 2 ** 20)} MiB`;

/**
 * estimateSweepMemory of a sweep's pass with `settings` on `ckpt`, whose export `plan` gives the
 * MLP width it runs with and how the run holds the weights outside the blocks (GlobalsHeld). Bytes.
 */
export function sweepPassMemory(ckpt: Checkpoint, settings: RunSettings, plan: ExportPlan, bindingLimit: number, texts: number): { bytes: number; held: GlobalsHeld } {
  const spec = modelSpec(ckpt);
  if (plan.intermediate) spec.intermediate = plan.intermediate.to;
  const held = globalsHeldOf(ckpt, plan.f16);
  return { bytes: estimateSweepMemory(spec, settings, bindingLimit, held, texts), held };
}

/**
 * Stage events while a model scores `windows` windows, `perPass` at a time, over `layers` blocks
 * each pass: one as each block starts and one as each pass ends, so that a long evaluation shows
 * where it is ("434 of 1007 windows, block 3 of 5"; done and total count blocks over the passes).
 * `track` wraps the model's block source; `onPass` is the pass hook.
 */
function blockProgress(
  emit: (e: SweepProgressEvent) => void,
  elapsed: () => number,
  stage: 'reference' | 'evaluating',
  what: string,
  layers: number,
  windows: number,
  perPass: number,
): { track: (blocks: BlockSource) => BlockSource; onPass: () => void } {
  const total = layers * Math.ceil(windows / perPass);
  let pass = 0;
  const say = (block: number | null) => {
    const scored = Math.min(pass * perPass, windows);
    const at = block === null ? '' : `, block ${block + 1} of ${layers}`;
    emit({ type: 'stage', stage, detail: `${what}: ${scored} of ${counted(windows, 'window')} scored${at}`, elapsed: elapsed(), done: pass * layers + (block ?? 0), total });
  };
  return {
    track: (blocks) => (b) => {
      say(b);
      return blocks(b);
    },
    onPass: () => {
      pass++;
      say(null);
    },
  };
}

/** Why a sweep's pass with `settings` would not fit the GPU budget (sweepPassMemory), or null. */
function sweepMemoryRefusal(
  ckpt: Checkpoint, settings: RunSettings, plan: ExportPlan, rt: GpuRuntime, budget: number | MemoryBudget, texts: number,
): string | null {
  const { bytes, held } = sweepPassMemory(ckpt, settings, plan, rt.bindingLimit, texts);
  const budgetBytes = typeof budget === 'number' ? budget : budget.bytes;
  if (bytes <= budgetBytes) return null;
  const headCopy = held.half === 'none' || texts === 0 ? '' : ', and a copy of the original LM head beside their F16 values';
  return `This sweep needs about ${mib(bytes)} of GPU memory (it keeps the weights outside the blocks loaded through every pass${headCopy}), ` +
    `more than the ${mib(budgetBytes)} allowed. Use fewer calibration windows (now ${settings.nsamples}) or shorter ones (now ${settings.seqlen} tokens).` +
    (typeof budget === 'number' ? '' : ` Or, if the GPU has the memory, raise the budget to at least ${mib(bytes)}: ${budget.raise}.`);
}

/**
 * Runs a sweep to its report. Throws RunInputError on bad inputs. When `hooks.signal` aborts (it
 * stops after the linear or evaluation pass in progress), returns the report of the strategies
 * whose every seed finished, with `cancelled` naming the others (SweepCancelled); throws
 * RunCancelledError when none had.
 */
export async function runSweep(rt: GpuRuntime, inputs: SweepInputs, hooks: SweepHooks = {}): Promise<SweepRunReport> {
  const t0 = performance.now();
  const elapsed = () => (performance.now() - t0) / 1000;
  const emit = hooks.onProgress ?? (() => {});
  const { strategies } = inputs;
  if (strategies.length === 0) throw new RunInputError('give at least one strategy to compare');
  if (!(Number.isInteger(inputs.seeds) && inputs.seeds >= 1)) throw new RunInputError(`seeds must be a whole number ≥ 1, got ${inputs.seeds}`);
  const { ckpt, settings: base, calibIds, evalWindows } = inputs.read ?? (await readRunInputs({ ...inputs, settings: inputs.base }));
  const passes = sweepPasses(strategies);
  const labels = strategies.map(strategyLabel);
  // Every pass must be possible (memory, something to quantize) before anything heavy runs.
  const refused = sweepRefusals(ckpt, strategies, base, rt, gpuBudgetOf(inputs), inputs.evaluations.length);
  if (refused.length > 0) throw new RunInputError(sweepRefusalText(refused[0]));
  const warnings = planRun(ckpt, strategySettings(passes[0].strategy, base), rt, gpuBudgetOf(inputs)).warnings;
  hooks.onWarnings?.(warnings);
  const ranges = await scanForRun(ckpt, (e) => e.type === 'stage' && emit({ type: 'stage', stage: 'checking', detail: e.detail, elapsed: e.elapsed, done: e.done, total: e.total }), elapsed, hooks.signal);
  const loaded = await loadModel(ckpt);
  // The GEMM and the forward's attention on the kernels timed fastest here (once per device).
  await tuneKernels(rt);
  const seqlen = base.seqlen;
  const texts = inputs.evaluations.map((e, i) => ({ name: e.name, windows: Uint32Array.from(evalWindows[i].flat()) }));

  // GPU globals per (F16 or stored values, MLP width), made once and reused.
  const globalsCache = new Map<string, GpuGlobals>();
  const globalsFor = async (model: LoadedModel, half: boolean): Promise<GpuGlobals> => {
    const key = `${half}|${model.spec.intermediate}`;
    let g = globalsCache.get(key);
    if (!g) {
      g = await GpuGlobals.load(rt, model.spec, model.globals, { half });
      globalsCache.set(key, g);
    }
    return g;
  };
  const references: DivergenceReference[] = [];
  // One copy of the original's head for every text's reference (with F16 globals).
  const originalHead = new OriginalHead(rt, loaded);
  try {
    // The original model, once: its perplexity and hidden states on every text.
    const original: Record<string, number> = {};
    for (const t of texts) {
      throwIfCancelled(hooks.signal);
      emit({ type: 'stage', stage: 'reference', detail: `the original model on ${t.name}: ${counted(t.windows.length / seqlen, 'window')} of ${counted(seqlen, 'token')}`, elapsed: elapsed() });
      const progress = blockProgress(emit, elapsed, 'reference', `the original model on ${t.name}`, loaded.spec.layers, t.windows.length / seqlen, base.nsamples);
      const ref = await DivergenceReference.measure(rt, loaded, await globalsFor(loaded, false), progress.track(loaded.block), t.windows, seqlen, base.nsamples,
        { signal: hooks.signal, onPass: progress.onPass }, originalHead);
      references.push(ref);
      original[t.name] = ref.perplexity;
    }
    globalsCache.get(`false|${loaded.spec.intermediate}`)?.release();
    globalsCache.delete(`false|${loaded.spec.intermediate}`);

    const seeds = Array.from({ length: inputs.seeds }, (_, k) => base.seed + k);
    const windowsOf = seeds.map((seed) => Uint32Array.from(calibrationWindows(calibIds, base.nsamples, seqlen, seed).flat()));
    const results: StrategySeedResult[][] = strategies.map(() => []);
    const plans: Record<string, ExportPlan> = {};
    const bpw: number[] = strategies.map(() => Number.NaN);
    const notExportable: (string | null)[] = strategies.map(() => null);
    const rtnEvaluation = new Map<number, Pick<StrategySeedResult, 'perplexity' | 'divergence'>>();
    let sensitivity: SensitivityMap | null = null;
    const sensitivityPass = inputs.sensitivity ? passes.findIndex((p) => p.members.some((i) => strategies[i].method === 'gptq')) : -1;
    const steps = seeds.length * passes.length;
    let step = 0;
    let cancelled = false;
    try {
      // Pass by pass, each over every seed: a strategy is finished (every seed measured) before the next pass starts.
      for (const [pi, pass] of passes.entries()) {
        const passSettings = strategySettings(pass.strategy, base);
        const passLabels = pass.members.map((i) => labels[i]);
        const plan = planRun(ckpt, passSettings, rt, gpuBudgetOf(inputs), ranges).export;
        const { intermediate, unquantized, f16 } = plan;
        const model = intermediate ? padMlpWidth(loaded, mlpLinears(ckpt.layout), intermediate.to) : loaded;
        for (const [si, seed] of seeds.entries()) {
          throwIfCancelled(hooks.signal);
          const settings = { ...passSettings, seed };
          emit({ type: 'step', step, steps, seed, labels: passLabels, phase: 'quantizing', elapsed: elapsed() });
          const measureSensitivity = si === 0 && pi === sensitivityPass;
          const thisStep = step;
          const q = await quantizeModel(rt, model, windowsOf[si], settings, {
            signal: hooks.signal,
            onProgress: (e) => {
              if (e.type === 'linear') emit({ type: 'linear', step: thisStep, done: e.done, total: e.total, elapsed: elapsed() });
            },
          }, {
            skip: new Set(unquantized.map((u) => u.name)),
            halfScales: f16,
            awq: pass.awq,
            sensitivityBits: measureSensitivity ? SENSITIVITY_WIDTHS : undefined,
          });
          if (measureSensitivity) sensitivity = sensitivityOf(q, plan, labels[pass.members.find((i) => strategies[i].method === 'gptq')!], ckpt.layout);
          emit({ type: 'step', step, steps, seed, labels: passLabels, phase: 'evaluating', elapsed: elapsed() });
          for (const i of pass.members) {
            const s = strategies[i];
            plans[labels[i]] = plan;
            bpw[i] = bitsPerWeight(plannedLinears(ckpt.layout, plan, s.groupSize, () => s.bits));
            notExportable[i] = s.method === 'awq' ? AWQ_NOT_EXPORTABLE : plan.refusal;
            let measured = s.method === 'rtn' ? rtnEvaluation.get(i) : undefined;
            if (!measured) {
              const blocks = storedBlocks(model.block, (b, n, l) => weightOf(rt, q, s.method, b, n, l), f16);
              const globals = await globalsFor(model, f16);
              const perplexity: Record<string, number | null> = {};
              const divergence: Record<string, DivergenceStats | null> = {};
              for (const [ti, t] of texts.entries()) {
                const progress = blockProgress(emit, elapsed, 'evaluating', `${labels[i]} (seed ${seed}) on ${t.name}`, model.spec.layers, t.windows.length / seqlen, base.nsamples);
                const r = await references[ti].score(globals, progress.track(blocks), { signal: hooks.signal, onPass: progress.onPass });
                perplexity[t.name] = r.perplexity;
                divergence[t.name] = r.divergence;
              }
              measured = { perplexity, divergence };
              if (s.method === 'rtn') rtnEvaluation.set(i, measured);
            }
            const result: StrategySeedResult = {
              seed,
              ...measured,
              layers: q.layers.map((l) => ({
                block: l.block,
                name: l.name,
                mse: s.method === 'gptq' ? l.gptq.mse : s.method === 'rtn' ? l.rtn.mse : l.awq!.mse,
                ...(s.method === 'awq' ? { alpha: l.awq!.alpha } : {}),
              })),
            };
            results[i].push(result);
            emit({ type: 'result', label: labels[i], result, elapsed: elapsed() });
          }
          step++;
        }
      }
    } catch (e) {
      if (!hooks.signal?.aborted) throw e;
      cancelled = true;
    }
    // On a cancel, the strategies whose every seed finished are kept (a strategy part-measured is
    // left out: its spread would be over fewer seeds than the others'); none finished: nothing is.
    const kept = strategies.map((_, i) => i).filter((i) => results[i].length === seeds.length);
    if (cancelled && kept.length === 0) {
      const dropped = strategies.flatMap((_, i) => results[i].map((r) => ({ label: labels[i], seed: r.seed })));
      throw new RunCancelledError(dropped.length === 0 ? undefined :
        `The sweep was cancelled before ${droppedResultsText(dropped, seeds.length)}. Nothing was written; start it again when ready.`);
    }
    const first = texts[0].name;
    const strategyResults: StrategyResult[] = kept.map((i) => ({
      label: labels[i],
      strategy: strategies[i],
      bpw: bpw[i],
      notExportable: notExportable[i],
      seeds: results[i],
      summary: strategySummary(results[i], first),
    }));
    const keptPlans = Object.fromEntries(kept.map((i) => [labels[i], plans[labels[i]]]));
    const summary = ckpt.summary();
    return {
      kind: 'sweep',
      model: { name: shareableModelName(inputs.modelName), arch: summary.arch, blocks: summary.blocks, hiddenSize: summary.hiddenSize, parameters: summary.parameters, dtype: summary.dtype },
      adapter: { ...rt.summary, kernels: kernelChoicesOf(rt.device) },
      settings: base,
      output: { ...REPORT_ONLY },
      calibration: { text: inputs.calibration.name, tokens: calibIds.length },
      evaluations: texts.map((t) => ({ text: t.name, seqlen, windows: t.windows.length / seqlen })),
      sweep: { strategies: strategyResults, seeds, original, front: sweepFront(strategyResults), bpwCovers: BPW_COVERS_TEXT, plans: keptPlans },
      // Set only once its pass's quantization returned: whole, or null.
      sensitivity,
      warnings,
      ...(cancelled ? { cancelled: { after: kept.length, of: strategies.length, strategies: labels.filter((_, i) => !kept.includes(i)) } } : {}),
      seconds: elapsed(),
    };
  } catch (e) {
    if (hooks.signal?.aborted && !(e instanceof RunCancelledError)) throw new RunCancelledError();
    throw e;
  } finally {
    if (!rt.isLost) {
      for (const r of references) r.release();
      originalHead.release();
      for (const g of globalsCache.values()) g.release();
    }
  }
}

/** The weights a strategy's model uses for a linear `l` (undefined: the linear stays as stored). */
async function weightOf(rt: GpuRuntime, q: QuantizedWeights, method: Strategy['method'], b: number, name: string, l: HostLinear): Promise<Float32Array | undefined> {
  const key = weightKey(b, name);
  // The codes dequantized on the host, one linear at a time (storedBlocks asks once per linear and
  // block); RTN's made again from the original weights first.
  if (method === 'rtn') return (await q.rtn.linear(rt, b, name, l))?.Q;
  if (method === 'awq') return q.awq.get(key);
  return q.gptq.get(key)?.Q;
}

/** The sensitivity map of a pass that measured it. */
export function sensitivityOf(q: QuantizedWeights, plan: ExportPlan, label: string, layout: Parameters<typeof plannedLinears>[0]): SensitivityMap {
  const stored = new Map(plannedLinears(layout, plan, -1, () => 4).map((l) => [weightKey(l.block, l.name), l]));
  return {
    label,
    widths: SENSITIVITY_WIDTHS,
    linears: q.layers.map((l) => {
      const s = stored.get(weightKey(l.block, l.name))!;
      return {
        block: l.block,
        name: l.name,
        rows: l.rows,
        cols: l.cols,
        N: s.N,
        K: s.K,
        mse: Object.fromEntries((l.sensitivity ?? []).map((x) => [x.bits, x.mse])),
      };
    }),
  };
}
