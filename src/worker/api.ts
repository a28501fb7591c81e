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
import { planRun } from '../engine/run-plan';
import { openCheckpoint } from '../core/model/checkpoint';
import { defaultSeqlen } from '../core/model/config';
import { architectureFacts } from '../core/model/describe';
import { loadTokenizer } from '../core/model/tokenizer';
import { textToIds } from '../core/model/calibration';
import { fetchHubCheckpoint, type HubProgress } from '../core/model/hub';
import { zipFiles } from '../core/export/zip';
import { GpuGlobals, greedy } from '../engine/model/model-forward';
import { variantBlocks } from '../engine/evaluate';
import { exportCheckpoint } from '../engine/export-checkpoint';
import type { Generations, ModelInfo, RunPlan } from './types';

export type { Generations, ModelInfo, RunPlan } from './types';

/** The studio's default budget for a run's estimated GPU memory (WebGPU does not report the adapter's). */
export const BROWSER_GPU_MEMORY_BUDGET = 2 * 2 ** 30;

/** The abort controller of the run in progress (one at a time). */
let running: AbortController | null = null;
/** The last finished run (for generation and export); cleared when another starts. */
let lastRun: RunOutput | null = null;
/** The Hub download in progress. */
let hubDownload: AbortController | null = null;

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
   * dtype, tokenizer, the default window length. Rejects with a clear message on a bad folder.
   */
  async inspectModel(files: File[]): Promise<ModelInfo> {
    const ckpt = await openCheckpoint(sourcesOf(files));
    assertFloatCheckpoint(ckpt);
    const c = ckpt.config;
    return {
      summary: ckpt.summary(),
      heads: c.numHeads,
      kvHeads: c.numKvHeads,
      intermediateSize: c.intermediateSize,
      vocabSize: c.vocabSize,
      maxPositions: c.maxPositions,
      defaultSeqlen: defaultSeqlen(c),
      facts: architectureFacts(c, ckpt.layout),
    };
  },

  /** What a run with `settings` would need and export, before it starts (see RunPlan). */
  async planRun(files: File[], settings: RunSettings): Promise<RunPlan> {
    const rt = await gpuProvider().runtime();
    return planRun(await openCheckpoint(sourcesOf(files)), settings, rt, BROWSER_GPU_MEMORY_BUDGET);
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
   * run within one linear. The finished run stays here for generate() and exportZip().
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
        { files: sourcesOf(files), modelName, calibration, evaluations, evalWindowLimit, settings, gpuMemoryBudget: BROWSER_GPU_MEMORY_BUDGET },
        { onProgress, signal: running.signal, details: true },
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
   * finished run, on the GPU (`count` new tokens each).
   */
  async generate(prompt: string, count: number): Promise<Generations> {
    const run = finishedRun('generate text');
    const rt = await gpuProvider().runtime();
    const tokenizer = loadTokenizer(run.ckpt.tokenizerJson!, run.ckpt.tokenizerConfigJson);
    const ids = textToIds(tokenizer, prompt);
    const bos = run.ckpt.config.bosTokenId;
    const promptIds = ids.length > 0 ? ids : bos !== null ? [bos] : [];
    if (promptIds.length === 0) throw new RunInputError('type a prompt first');
    const room = run.model.spec.maxPositions - promptIds.length;
    if (room <= 0) throw new RunInputError(`the prompt is ${promptIds.length} tokens, as long as the model's context; shorten it`);
    const n = Math.min(count, room);
    const globals = new GpuGlobals(rt, run.model.spec, run.model.globals);
    try {
      const blocks = variantBlocks(run.model, run.weights);
      const out = {} as Generations;
      for (const variant of ['original', 'rtn', 'gptq'] as const) {
        out[variant] = tokenizer.decode(await greedy(rt, globals, blocks[variant], promptIds, n), { skipSpecialTokens: true });
      }
      return out;
    } finally {
      if (!rt.isLost) globals.release();
    }
  },

  /** The last finished run's GPTQ checkpoint as a zip (folder `name` inside). */
  async exportZip(name: string): Promise<Blob> {
    const run = finishedRun('download a checkpoint');
    const { report } = run;
    if (report.export.refusal) throw new RunInputError(report.export.refusal);
    const files = exportCheckpoint({ ckpt: run.ckpt, gptq: run.weights.gptq, report, plan: report.export, folder: name });
    return zipFiles(files, name);
  },
};

/** The last run that finished, or a message saying there is none. */
function finishedRun(what: string): RunOutput {
  if (running) throw new RunInputError(`a run is in progress: wait for it to finish to ${what}`);
  if (!lastRun) throw new RunInputError(`there is no finished run to ${what} from: run a quantization first (a cancelled or failed run leaves none)`);
  return lastRun;
}

export type GptqWorkerApi = typeof api;
