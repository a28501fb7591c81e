/**
 * The worker's API: one typed object, exposed through Comlink by ./worker.ts.
 *
 * The page imports only `GptqWorkerApi` (a type), so no engine or shader code reaches the main
 * bundle. The worker holds the GPU (through one GpuProvider, which replaces a lost device) and
 * computes; it keeps no UI state. Large arrays go back as transferables.
 */
import * as Comlink from 'comlink';
import type { AdapterSummary } from '../gpu/device';
import { GpuProvider } from '../gpu/runtime';
import { GptqLayer } from '../engine/gptq-layer';
import type { GpuGptqResult } from '../engine/gptq-layer';
import type { QuantOptions, QuantResult } from '../core/types';
import { blobSource, type ByteSource } from '../core/model/byte-source';
import type { ProgressEvent, RunSettings } from '../core/run';
import type { RunReport } from '../core/report';
import { assertFloatCheckpoint, runModel, RunInputError, type RunOutput } from '../engine/run-model';
import { planRun, type HostBudget } from '../engine/run-plan';
import { estimateExportBytes } from '../engine/export-size';
import { openCheckpoint } from '../core/model/checkpoint';
import { defaultSeqlen } from '../core/model/config';
import { architectureFacts } from '../core/model/describe';
import { loadTokenizer } from '../core/model/tokenizer';
import { assertIdsInVocabulary, textToIds } from '../core/model/calibration';
import { fetchHubCheckpoint, type HubProgress } from '../core/model/hub';
import { zipFiles } from '../core/export/zip';
import { generateGreedy } from '../engine/model/generate';
import { forEachVariant, variantModels } from '../engine/evaluate';
import { exportFolder } from '../engine/export-folder';
import type { GpuRuntime } from '../gpu/runtime';
import { modelShape } from '../engine/run-shape';
import { measureAdapter } from '../engine/adapter-speed';
import { estimateRunTime, evaluationWindowCounts, suggestRunSize, type AdapterSpeed } from '../core/time-model';
import { longEvaluation } from '../core/long-evaluation';
import type { Checkpoint } from '../core/model/checkpoint';
import type { TextTokenizer } from '../core/model/tokenizer';
import type { GenerationStep, Generations, ModelInfo, PlanTexts, StudioPlan } from './types';
import { exportGguf, exportImatrix, type GgufFloatType } from '../engine/export-gguf';
import { fileBlob } from '../core/export/blob';
import { runSweep, sweepRefusals } from '../engine/sweep';
import { mixedSettings, runMixedPrecision } from '../engine/mixed-run';
import { parseStrategies, parseStrategy, strategySettings, type Strategy, type SweepProgressEvent, type SweepRefusal, type SweepRunReport } from '../core/sweep';
import type { ModelLayout } from '../core/model/architecture';
import type { MixedPrecisionPlan } from '../core/mixed-precision';

export type { GenerationStep, Generations, ModelInfo, PlanTexts, RunPlan, StudioPlan } from './types';

/** The studio's default budget for a run's estimated GPU memory (WebGPU does not report the adapter's). */
export const BROWSER_GPU_MEMORY_BUDGET = 2 * 2 ** 30;

/**
 * The studio's budget for a run's estimated host memory (src/engine/host-memory.ts): 4 GiB, what a
 * 64-bit tab holds safely on common machines (a page cannot ask for its own limit).
 */
export const BROWSER_HOST_MEMORY_BUDGET: HostBudget = {
  bytes: 4 * 2 ** 30,
  raise: 'the command line (npm run quantize) is not held to a tab\'s limit',
};

/** The abort controller of the run in progress (one at a time). */
let running: AbortController | null = null;
/** The last finished run (for generation and export); cleared when another starts. */
let lastRun: RunOutput | null = null;
/** The last finished sweep, its model's layout and its base settings (for mixed-precision plans and runs). */
let lastSweep: { report: SweepRunReport; layout: ModelLayout } | null = null;
/** The Hub download in progress. */
let hubDownload: AbortController | null = null;

/** The adapter's measured speed, once per runtime (a new device is measured again). */
const speeds = new WeakMap<GpuRuntime, Promise<AdapterSpeed>>();
function speedOf(rt: GpuRuntime): Promise<AdapterSpeed> {
  let p = speeds.get(rt);
  if (!p) {
    p = measureAdapter(rt);
    speeds.set(rt, p);
    p.catch(() => speeds.delete(rt));
  }
  return p;
}

/** The last tokenizer loaded, by its tokenizer.json text, and token counts of texts it has seen. */
let tokenizerCache: { json: string; tokenizer: TextTokenizer; counts: Map<string, number> } | null = null;
const TOKEN_COUNTS_KEPT = 16;

/** Tokens of `text` under the checkpoint's tokenizer (cached: the plan asks on every settings change). */
function tokenCount(ckpt: Checkpoint, text: string): number {
  const json = ckpt.tokenizerJson;
  if (json === null) throw new RunInputError('the model has no tokenizer.json: add it to the folder, the texts cannot be cut into tokens without it');
  if (tokenizerCache?.json !== json) tokenizerCache = { json, tokenizer: loadTokenizer(json, ckpt.tokenizerConfigJson), counts: new Map() };
  const { counts, tokenizer } = tokenizerCache;
  let n = counts.get(text);
  if (n === undefined) {
    n = textToIds(tokenizer, text).length;
    if (counts.size >= TOKEN_COUNTS_KEPT) counts.delete(counts.keys().next().value!);
    counts.set(text, n);
  }
  return n;
}

/** The last segment of config.json's `_name_or_path`: a Hub id's name or a folder name, never a whole local path. */
function configName(ckpt: Checkpoint): string | null {
  try {
    const raw = (JSON.parse(ckpt.configJson) as { _name_or_path?: unknown })._name_or_path;
    if (typeof raw !== 'string') return null;
    const name = raw.split(/[\\/]/).filter(Boolean).pop() ?? '';
    return name.trim() === '' ? null : name.trim();
  } catch {
    return null;
  }
}

function sourcesOf(files: File[]): ByteSource[] {
  return files.map((f) => blobSource(f));
}

/** One linear layer and its calibration inputs. */
export interface QuantizeLayerRequest {
  /** Used in GPU object labels and error messages, e.g. "blocks.0.attn.q_proj". */
  name: string;
  /** Weights [rows = out features, cols = in features], row-major. */
  W: Float32Array;
  rows: number;
  cols: number;
  /** Calibration inputs [tokens, cols], row-major, treated as one sequence. */
  X: Float32Array;
  tokens: number;
  options: Partial<QuantOptions>;
}

export interface QuantizeLayerResponse {
  gptq: GpuGptqResult;
  /** Round-to-nearest on the same grid, for comparison. */
  rtn: QuantResult;
  /** Output MSE, mean over rows and tokens of ((W − Q)·Xᵀ)², of each result on the same X. */
  mse: { gptq: number; rtn: number };
}

let provider: GpuProvider | null = null;

/** The worker's one provider, made on first use (not at load, so nothing runs before a call). */
/** The strategies of a compact list (parseStrategies); a list that does not parse rejects as a RunInputError. */
function strategyList(strategies: string): Strategy[] {
  try {
    return parseStrategies(strategies);
  } catch (e) {
    throw new RunInputError((e as Error).message);
  }
}

function gpuProvider(): GpuProvider {
  // `navigator.gpu` is declared non-optional by @webgpu/types, but a browser without WebGPU has none.
  provider ??= new GpuProvider('gpu' in self.navigator ? self.navigator.gpu : undefined);
  return provider;
}

function asF32(a: Float32Array | Float64Array): Float32Array {
  return a instanceof Float32Array ? a : Float32Array.from(a);
}

/** The distinct ArrayBuffers behind the given views (a transfer list must not repeat one). */
function buffersOf(...views: (ArrayBufferView | null | undefined)[]): ArrayBuffer[] {
  const seen = new Set<ArrayBuffer>();
  for (const v of views) if (v && v.buffer instanceof ArrayBuffer) seen.add(v.buffer);
  return [...seen];
}

export const api = {
  /**
   * The adapter the engine computes on (chosen by src/gpu/device.ts's policy).
   * Rejects with a NoWebGpuError when the browser has no WebGPU or offers no adapter.
   *
   * @example
   *   const summary = await remote.adapter();
   *   console.log(describeAdapter(summary)); // "google swiftshader (core, fallback)"
   */
  async adapter(): Promise<AdapterSummary> {
    const rt = await gpuProvider().runtime();
    return rt.summary;
  },

  /**
   * The adapter's speed, measured once per device (src/engine/adapter-speed.ts measureAdapter: the
   * kernels timed, a short timed GEMM and round trip, and a linear's fixed cost from two tiny
   * linears quantized; under a second on a software adapter): the studio's defaults and time
   * estimates come from it. `kernels` says which GEMM and attention kernels run here.
   */
  async speed(): Promise<AdapterSpeed> {
    return speedOf(await gpuProvider().runtime());
  },

  /**
   * GPTQ and RTN for one layer on the GPU, with the output MSE of both on the calibration X.
   * The input arrays are read, not kept; the result's arrays are transferred to the caller.
   *
   * @example
   *   const { gptq, rtn, mse } = await remote.quantizeLayer({ name: 'fc1', W, rows, cols, X, tokens, options: { bits: 4 } });
   */
  async quantizeLayer(req: QuantizeLayerRequest): Promise<QuantizeLayerResponse> {
    const rt = await gpuProvider().runtime();
    const layer = new GptqLayer(rt, req.name, req.W, req.rows, req.cols);
    try {
      await layer.addBatch(req.X, req.tokens);
      const gptq = await layer.quantize(req.options);
      const rtn = await layer.rtn(req.options);
      const mse = {
        gptq: await layer.outputMse(asF32(gptq.Q), req.X, req.tokens),
        rtn: await layer.outputMse(asF32(rtn.Q), req.X, req.tokens),
      };
      const response: QuantizeLayerResponse = { gptq, rtn, mse };
      return Comlink.transfer(
        response,
        buffersOf(gptq.Q, gptq.codes, gptq.scales, gptq.zeros, gptq.gIdx, gptq.perm, rtn.Q, rtn.codes, rtn.scales, rtn.zeros, rtn.gIdx),
      );
    } finally {
      layer.dispose();
    }
  },

  /**
   * What a checkpoint folder is, read from its headers only (nothing heavy): architecture, sizes,
   * dtype, tokenizer, the default window length, and run sizes that take about a minute on this
   * adapter with these evaluation texts. Rejects with a clear message on a bad folder.
   */
  async inspectModel(files: File[], evaluations: string[] = []): Promise<ModelInfo> {
    const ckpt = await openCheckpoint(sourcesOf(files));
    assertFloatCheckpoint(ckpt);
    const c = ckpt.config;
    const rt = await gpuProvider().runtime();
    const speed = await speedOf(rt).catch(() => null);
    let evalTokens: number[] = [];
    try {
      evalTokens = evaluations.map((t) => tokenCount(ckpt, t));
    } catch {
      // No tokenizer: the plan says so; the sizes are chosen without the evaluation.
    }
    const suggested = speed ? suggestRunSize(modelShape(ckpt, null), speed, { maxSeqlen: defaultSeqlen(c), trueSequential: true, evalTokens }) : null;
    return {
      summary: ckpt.summary(),
      heads: c.numHeads,
      kvHeads: c.numKvHeads,
      intermediateSize: c.intermediateSize,
      vocabSize: c.vocabSize,
      maxPositions: c.maxPositions,
      defaultSeqlen: defaultSeqlen(c),
      configName: configName(ckpt),
      suggested,
      facts: architectureFacts(c, ckpt.layout),
    };
  },

  /**
   * What a run with `settings` on `texts` would need, export and take, before it starts: the
   * engine's plan (memory, export), the texts' tokens and windows, and the estimated time.
   */
  async planRun(files: File[], settings: RunSettings, texts: PlanTexts): Promise<StudioPlan> {
    const rt = await gpuProvider().runtime();
    const ckpt = await openCheckpoint(sourcesOf(files));
    const plan = planRun(ckpt, settings, rt, BROWSER_GPU_MEMORY_BUDGET, undefined, BROWSER_HOST_MEMORY_BUDGET);
    const speed = await speedOf(rt).catch(() => null);
    const { seqlen, nsamples } = settings;
    let textError: string | null = null;
    let tokens: StudioPlan['tokens'] = { calibration: null, evaluations: [] };
    try {
      tokens = { calibration: texts.calibration === null ? null : tokenCount(ckpt, texts.calibration), evaluations: texts.evaluations.map((t) => tokenCount(ckpt, t)) };
    } catch (e) {
      textError = (e as Error).message;
    }
    const evalWindows = evaluationWindowCounts(tokens.evaluations, seqlen, texts.evalWindows);
    if (textError === null && tokens.calibration !== null && tokens.calibration < seqlen + 1) {
      textError = `the calibration text gives ${tokens.calibration} tokens; a window of ${seqlen} needs at least ${seqlen + 1}: use a longer text or shorter windows`;
    }
    const short = evalWindows.findIndex((n) => n === 0);
    if (textError === null && short >= 0) {
      textError = `evaluation text ${short + 1} gives ${tokens.evaluations[short]} tokens, fewer than one window of ${seqlen}: use a longer text or shorter windows`;
    }
    let time = null;
    let longEval = null;
    try {
      if (!speed) throw new Error('the adapter was not measured');
      const shape = modelShape(ckpt, plan.export);
      const size = { nsamples, seqlen, trueSequential: settings.trueSequential };
      time = estimateRunTime(shape, speed, size, tokens.evaluations, texts.evalWindows);
      longEval = longEvaluation(shape, speed, size, tokens.evaluations, texts.evalWindows);
    } catch {
      // Sizes the plan already refuses (fitError) have no estimate.
    }
    const size = (format: 'gptq' | 'gguf') =>
      estimateExportBytes({ ckpt, settings, exportPlan: plan.export, ggufPlan: plan.gguf, output: { format, ggufFloat: 'F16' } });
    const downloadBytes = { checkpoint: plan.export.refusal ? null : size('gptq'), gguf: plan.gguf.type ? size('gguf') : null };
    return { ...plan, tokens, evalWindows, textError, speed, time, longEvaluation: longEval, downloadBytes };
  },

  /**
   * Downloads a checkpoint from the Hugging Face Hub (or a server laid out like it) by range
   * requests; progress through `onProgress` (wrap it with Comlink.proxy).
   */
  async fetchHub(repo: string, baseUrl: string | undefined, onProgress?: (p: HubProgress) => void): Promise<File[]> {
    hubDownload?.abort();
    hubDownload = new AbortController();
    try {
      return await fetchHubCheckpoint(repo, { baseUrl, onProgress, signal: hubDownload.signal });
    } finally {
      hubDownload = null;
    }
  },

  /** Stops a Hub download in progress. */
  cancelFetch(): void {
    hubDownload?.abort();
  },

  /**
   * A whole-model run: GPTQ block by block on calibration text, then perplexity of the
   * original, RTN and GPTQ models on each evaluation text. Progress arrives through `onProgress`
   * (wrap it with Comlink.proxy), each finished linear with its LayerDetail; `cancel()` stops the
   * run within one linear. Cancelled during the evaluation, the run ends with the quantized model
   * kept and the perplexities not measured set to null. The finished run stays here for
   * generate() and exportZip().
   *
   * @example
   *   const report = await remote.quantizeModel(files, calib, [evalText], { bits: 4, groupSize: 128 }, Comlink.proxy(onProgress));
   */
  async quantizeModel(
    files: File[],
    modelName: string,
    calibration: { name: string; text: string },
    evaluations: { name: string; text: string }[],
    settings: Partial<RunSettings>,
    evalWindowLimit: number | undefined,
    onProgress?: (e: ProgressEvent) => void,
  ): Promise<RunReport> {
    if (running) throw new Error('A run is already in progress; cancel it or wait for it to finish.');
    const rt = await gpuProvider().runtime();
    running = new AbortController();
    lastRun = null;
    try {
      const out = await runModel(
        rt,
        { files: sourcesOf(files), modelName, calibration, evaluations, evalWindowLimit, settings, gpuMemoryBudget: BROWSER_GPU_MEMORY_BUDGET, hostMemoryBudget: BROWSER_HOST_MEMORY_BUDGET, keepOnEvaluationCancel: true },
        { onProgress, signal: running.signal, details: true },
      );
      lastRun = out;
      return out.report;
    } finally {
      running = null;
    }
  },

  /**
   * Why the passes of a sweep of `strategies` (the compact syntax) over `base` would be refused on
   * this model, by the rule the sweep itself applies before any work (sweepRefusals: planRun per
   * pass; a group size that quantizes nothing, window length, memory of a sweep over `texts`
   * evaluation texts); empty when it can start.
   * Rejects with a RunInputError on a list that does not parse.
   */
  async planSweep(files: File[], base: RunSettings, strategies: string, texts: number): Promise<SweepRefusal[]> {
    const list = strategyList(strategies);
    const rt = await gpuProvider().runtime();
    const ckpt = await openCheckpoint(sourcesOf(files));
    return sweepRefusals(ckpt, list, base, rt, BROWSER_GPU_MEMORY_BUDGET, texts);
  },

  /**
   * A strategy sweep (src/engine/sweep.ts): `strategies` in the compact syntax (comma-separated),
   * each on the same calibration windows over `seeds` seeds, measured on the evaluation texts
   * against the original (perplexity, KLD, top-1 agreement) with its bits per weight; with
   * `sensitivity`, the layer × width map of the first GPTQ strategy too. Progress through
   * `onProgress` (wrap it with Comlink.proxy); `cancel()` stops it. Rejects with a RunInputError
   * saying what is wrong on a bad strategy list, with RunCancelledError when cancelled before any
   * strategy finished every seed; cancelled after, it resolves with their report (`cancelled` set).
   * The sweep's report stays here for mixedPlan() and quantizeMixed().
   */
  async runSweep(
    files: File[],
    modelName: string,
    calibration: { name: string; text: string },
    evaluations: { name: string; text: string }[],
    base: RunSettings,
    strategies: string,
    seeds: number,
    sensitivity: boolean,
    evalWindowLimit: number | undefined,
    onProgress?: (e: SweepProgressEvent) => void,
  ): Promise<SweepRunReport> {
    if (running) throw new Error('A run is already in progress; cancel it or wait for it to finish.');
    const list = strategyList(strategies);
    const rt = await gpuProvider().runtime();
    running = new AbortController();
    lastSweep = null;
    try {
      const sources = sourcesOf(files);
      const report = await runSweep(rt, {
        files: sources, modelName, calibration, evaluations, evalWindowLimit, gpuMemoryBudget: BROWSER_GPU_MEMORY_BUDGET,
        base, strategies: list, seeds, sensitivity,
      }, { onProgress, signal: running.signal });
      lastSweep = { report, layout: (await openCheckpoint(sources)).layout };
      return report;
    } finally {
      running = null;
    }
  },

  /**
   * The mixed-precision plan for `targetBpw` from the last sweep's sensitivity map (its strategy's
   * settings over the sweep's base settings), and the run settings that carry it (base `bits`
   * plus per-linear `moduleBits`). Rejects with a message when there is no map or the target is
   * below the narrowest plan.
   */
  mixedPlan(targetBpw: number): { plan: MixedPrecisionPlan; settings: RunSettings } {
    const { map, settings, layout } = sweepMap();
    if (!(targetBpw > 0 && Number.isFinite(targetBpw))) throw new RunInputError(`the target must be a positive number of bits per weight, got ${targetBpw}`);
    return mixedSettings(map, settings, targetBpw, layout);
  },

  /**
   * A mixed-precision run: the last sweep's map planned for `targetBpw`, then a whole-model run
   * with those widths, as quantizeModel (progress, cancel, the run kept for generate() and
   * exportZip(), whose checkpoint names the widths in quantization_config.dynamic).
   */
  async quantizeMixed(
    files: File[],
    modelName: string,
    calibration: { name: string; text: string },
    evaluations: { name: string; text: string }[],
    targetBpw: number,
    evalWindowLimit: number | undefined,
    onProgress?: (e: ProgressEvent) => void,
  ): Promise<RunReport> {
    if (running) throw new Error('A run is already in progress; cancel it or wait for it to finish.');
    const { map, settings } = sweepMap();
    const rt = await gpuProvider().runtime();
    running = new AbortController();
    lastRun = null;
    try {
      const out = await runMixedPrecision(
        rt,
        { files: sourcesOf(files), modelName, calibration, evaluations, evalWindowLimit, settings, gpuMemoryBudget: BROWSER_GPU_MEMORY_BUDGET, keepOnEvaluationCancel: true },
        targetBpw,
        { onProgress, signal: running.signal, details: true, map },
      );
      lastRun = out;
      return out.report;
    } finally {
      running = null;
    }
  },

  /** Cancels the run in progress, if any (it rejects with RunCancelledError). */
  cancel(): void {
    running?.abort();
  },

  /**
   * Greedy continuations of `prompt` by the original, the RTN and the GPTQ model of the last
   * finished run, on the GPU (`count` new tokens each); RTN and GPTQ with the values the exported
   * file holds, as their perplexities. Each new token reaches `onStep` (wrap it with Comlink.proxy)
   * with the model's text so far, as it comes. Rejects a prompt with tokens outside the model's
   * vocabulary.
   */
  async generate(prompt: string, count: number, onStep?: (step: GenerationStep) => void): Promise<Generations> {
    const run = finishedRun('generate text');
    const rt = await gpuProvider().runtime();
    const tokenizer = loadTokenizer(run.ckpt.tokenizerJson!, run.ckpt.tokenizerConfigJson);
    const ids = textToIds(tokenizer, prompt);
    const bos = run.ckpt.config.bosTokenId;
    const promptIds = ids.length > 0 ? ids : bos !== null ? [bos] : [];
    if (promptIds.length === 0) throw new RunInputError('type a prompt first');
    try {
      assertIdsInVocabulary(promptIds, run.model.spec.vocab, tokenizer, 'the prompt');
    } catch (e) {
      throw new RunInputError((e as Error).message);
    }
    const room = run.model.spec.maxPositions - promptIds.length;
    if (room <= 0) throw new RunInputError(`the prompt is ${promptIds.length} tokens, as long as the model's context; shorten it`);
    const n = Math.min(count, room);
    const out = {} as Generations;
    const text = (ids: readonly number[]) => tokenizer.decode(ids, { skipSpecialTokens: true });
    await forEachVariant(rt, run.model, variantModels(rt, run.model, run.weights, run.report.export.f16), async (variant, globals, blocks) => {
      const made: number[] = [];
      onStep?.({ variant, text: '', tokens: 0, count: n });
      await generateGreedy(rt, globals, blocks, promptIds, n, {
        onToken: (id) => {
          made.push(id);
          onStep?.({ variant, text: text(made), tokens: made.length, count: n });
        },
      });
      out[variant] = text(made);
    });
    return out;
  },

  /**
   * The last finished run's GPTQ checkpoint as a zip (folder `name` inside), with report.json of
   * these files beside the checkpoint's (src/engine/export-folder.ts); `prompt` is the one the load
   * snippets use.
   */
  async exportZip(name: string, prompt?: string): Promise<Blob> {
    const run = finishedRun('download a checkpoint');
    if (run.report.export.refusal) throw new RunInputError(run.report.export.refusal);
    const { files } = exportFolder({ run, output: { format: 'gptq', ggufFloat: null }, folder: name, prompt });
    return zipFiles(files, name);
  },

  /**
   * The last finished run's GGUF for llama.cpp (`<model>-<TYPE>.gguf`, embeddings and float
   * linears as `floatType`) or its imatrix.gguf, streamed into a Blob. Rejects with the plan's
   * reason when the run's grid has no exact GGUF type.
   */
  async exportGguf(kind: 'model' | 'imatrix', floatType: GgufFloatType = 'F16'): Promise<{ name: string; blob: Blob }> {
    const run = finishedRun('download a GGUF');
    const { report } = run;
    const plan = report.gguf;
    if (!plan || plan.refusal) throw new RunInputError(plan?.refusal ?? 'this run has no GGUF plan');
    const file = kind === 'model'
      ? exportGguf({ ckpt: run.ckpt, model: run.model, weights: run.weights, plan, modelName: report.model.name, floatType, half: report.export.f16 })
      : exportImatrix({ ckpt: run.ckpt, weights: run.weights, settings: report.settings, calibrationName: report.calibration.text });
    return { name: file.name, blob: await fileBlob(file) };
  },
};

/** The last sweep's sensitivity map, the settings it was measured with, and the model's layout. */
function sweepMap() {
  if (running) throw new RunInputError('a run is in progress: wait for it to finish to plan mixed precision');
  const map = lastSweep?.report.sensitivity;
  if (!lastSweep || !map) throw new RunInputError('there is no sensitivity map: run a comparison with "measure layer sensitivity" first');
  const settings = strategySettings(parseStrategy(map.label), lastSweep.report.settings);
  return { map, settings, layout: lastSweep.layout };
}

/** The last run that finished, or a message saying there is none. */
function finishedRun(what: string): RunOutput {
  if (running) throw new RunInputError(`a run is in progress: wait for it to finish to ${what}`);
  if (!lastRun) throw new RunInputError(`there is no finished run to ${what} from: run a quantization first (a cancelled or failed run leaves none)`);
  return lastRun;
}

export type GptqWorkerApi = typeof api;
