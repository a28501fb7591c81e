/** The record of a whole-model run, as the CLI writes it to report.json and the studio keeps it. */
import type { LinearReport, PerplexityResult, RunSettings } from './run';
import type { ExportPlan } from './export/plan';
import type { GgufPlan } from './export/gguf/plan';
import type { DivergenceStats } from './divergence';
import type { KernelChoices } from './kernel-choice';

export interface RunReport {
  settings: RunSettings;
  /** name: the model's folder name or Hub id, never a path of the user's machine. */
  model: { name: string; arch: string; blocks: number; hiddenSize: number; parameters: number; dtype: string };
  /**
   * The adapter's summary (src/gpu/device.ts), with `kernels`: the GEMM and full-forward attention
   * kernels the run used, chosen by timing them on this adapter (absent in reports of older versions).
   */
  adapter: Record<string, unknown> & { kernels?: KernelChoices };
  calibration: { text: string; tokens: number; windows: number[][] };
  layers: LinearReport[];
  /** Perplexity on the first evaluation text. */
  perplexity: PerplexityResult;
  /** Perplexity on every evaluation text given (the first is `perplexity`). */
  evaluations: PerplexityResult[];
  /**
   * Per evaluation text, how far the RTN and GPTQ models' next-token distributions are from the
   * original's (src/core/divergence.ts: llama.cpp's --kl-divergence statistics). A model missing
   * under a text was not measured (evaluation cancelled); absent in reports of older versions.
   */
  divergence?: Record<string, Partial<Record<'rtn' | 'gptq', DivergenceStats>>>;
  /**
   * A mixed-precision run (settings.moduleBits): the target and achieved bits per weight
   * (src/core/export/bpw.ts), the widths' range, the base width, weights per width, and the
   * strategy whose sensitivity map planned it.
   */
  mixedPrecision?: { target: number; bpw: number; range: { min: number; max: number }; baseBits: number; weightsPerBits: Record<number, number>; sensitivityFrom: string };
  /**
   * Bytes of the weights: the checkpoint's, and the exported model.safetensors' (the GGUF's when
   * the CLI writes only a GGUF; null without an export).
   */
  size: { originalBytes: number; quantizedBytes: number | null };
  seconds: {
    calibration: number;
    quantization: number;
    evaluation: number;
    total: number;
    /**
     * Where the quantization and evaluation seconds went (absent in reports of older versions):
     * quantization stages summed over the blocks (embedding the windows, capture passes with the
     * Hessians, GPTQ, RTN, output MSEs, the quantized forward), and the evaluation by model (each
     * one's blocks and head), reading the original weights from the files, and the divergence
     * (the original's and each quantized model's logits side by side; absent in older reports).
     */
    stages?: {
      quantization: Record<'embedding' | 'capture' | 'gptq' | 'rtn' | 'outputMse' | 'forward', number>;
      evaluation: Record<'reading' | 'original' | 'rtn' | 'gptq', number> & { divergence?: number };
    };
  };
  /** What the download will hold: format, padding, linears left unquantized (decided before the run), or why there is none. */
  export: ExportPlan;
  /** What the GGUF download will hold (block type, F16 linears), or why there is none (decided before the run; absent in reports of older versions). */
  gguf?: GgufPlan;
  /** The files the CLI wrote into --out (report.json included). */
  files?: string[];
  /** What the run held at its peak (absent in reports of older versions). */
  resources?: RunResources;
}

/**
 * Peak memory of a run. Names as report.json spells them.
 * - peak_gpu_bytes: the most bytes of GPU buffers the run's buffer pool held at once (buffers
 *   the pool keeps for reuse included), from the start of the run to the report.
 * - peak_rss_bytes: the CLI's peak resident set size of the whole process (node's
 *   process.resourceUsage().maxRSS, which the OS keeps from the process start), measured after
 *   every file of the run has been written. null in the studio: a page has no measure of its own
 *   process's memory (performance.memory is Chrome's JavaScript heap only, without typed-array
 *   buffers or the GPU process, and measureUserAgentSpecificMemory needs cross-origin isolation),
 *   so no figure is given rather than a partial one.
 */
export interface RunResources {
  peak_rss_bytes: number | null;
  peak_gpu_bytes: number;
}

/** report.json's text, as the CLI writes it and the studio downloads it (two-space JSON, a final newline). */
export function reportJson(report: RunReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
