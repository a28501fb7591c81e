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
import { blobSource } from '../core/model/byte-source';
import type { ProgressEvent, RunSettings } from '../core/run';
import type { RunReport } from '../core/report';
import { runModel } from '../engine/run-model';

/** The studio's default budget for a run's estimated GPU memory (WebGPU does not report the adapter's). */
export const BROWSER_GPU_MEMORY_BUDGET = 2 * 2 ** 30;

/** The abort controller of the run in progress (one at a time). */
let running: AbortController | null = null;

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
   * A whole-model run: GPTQ block by block on calibration text, then perplexity of the
   * original, RTN and GPTQ models on evaluation text. Progress arrives through `onProgress`
   * (wrap it with Comlink.proxy); `cancel()` stops the run within one linear.
   *
   * @example
   *   const report = await remote.quantizeModel(files, calib, evalText, { bits: 4, groupSize: 128 }, Comlink.proxy(onProgress));
   */
  async quantizeModel(
    files: File[],
    calibration: { name: string; text: string },
    evaluation: { name: string; text: string },
    settings: Partial<RunSettings>,
    onProgress?: (e: ProgressEvent) => void,
  ): Promise<RunReport> {
    if (running) throw new Error('A run is already in progress; cancel it or wait for it to finish.');
    const rt = await gpuProvider().runtime();
    running = new AbortController();
    try {
      const { report } = await runModel(
        rt,
        { files: files.map((f) => blobSource(f)), modelName: files[0]?.webkitRelativePath.split('/')[0] || 'model', calibration, evaluation, settings, gpuMemoryBudget: BROWSER_GPU_MEMORY_BUDGET },
        { onProgress, signal: running.signal },
      );
      return report;
    } finally {
      running = null;
    }
  },

  /** Cancels the run in progress, if any (it rejects with RunCancelledError). */
  cancel(): void {
    running?.abort();
  },
};

export type GptqWorkerApi = typeof api;
