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
   * Bytes of the weights: the checkpoint's, and the exported model.safetensors' (in report.json of
   * files written, the GGUF's when no GPTQ checkpoint was written; null without an export).
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
  /**
   * What a GPTQ checkpoint of the run holds: format, padding, linears left unquantized (decided
   * before the run), or why there is none. In report.json of files written (WrittenReport), only
   * when a GPTQ checkpoint was asked for.
   */
  export: ExportPlan;
  /**
   * What the GGUF download will hold (block type, F16 linears), or why there is none (decided before
   * the run; absent in reports of older versions). In report.json of files written, only when a GGUF
   * was asked for.
   */
  gguf?: GgufPlan;
  /** The files written beside report.json (report.json included); set in WrittenReport. */
  files?: string[];
  /** What the run held at its peak (absent in reports of older versions). */
  resources?: RunResources;
}

/** What an export folder holds besides report.json: the CLI's --format ('report': nothing else; the studio's zip is a GPTQ checkpoint). */
export type OutputFormat = 'gptq' | 'gguf' | 'both' | 'report';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['gptq', 'gguf', 'both', 'report'];

/** Whether `format` writes a GPTQ checkpoint. */
export const writesGptq = (format: OutputFormat): boolean => format === 'gptq' || format === 'both';

/** Whether `format` writes a GGUF (and its imatrix.gguf). */
export const writesGguf = (format: OutputFormat): boolean => format === 'gguf' || format === 'both';

/** The type of a GGUF's embeddings and float linears (the CLI's --gguf-float, the studio's GGUF choice). */
export type GgufFloatType = 'F16' | 'F32';

/** The export asked for, as report.json of the files written records it. */
export interface ReportOutput {
  /** gptq: the GPTQ checkpoint; gguf: the GGUF and its imatrix.gguf; both; report: report.json alone. */
  format: OutputFormat;
  /** The GGUF's embeddings and float linears (norms are F32 whatever it is); null when no GGUF was asked for. */
  ggufFloat: GgufFloatType | null;
}

/** The output of a report.json written alone (--format report, a sweep): no GGUF, no checkpoint. */
export const REPORT_ONLY: ReportOutput = { format: 'report', ggufFloat: null };

/**
 * report.json beside the files of an export (the CLI's --out, the studio's zip): the run's report
 * with the export asked for (`output`), the files written (`files`), `export`, the GPTQ
 * checkpoint's plan, only when a GPTQ checkpoint was asked for (its `refusal` then says why none
 * was written), and `gguf`, the GGUF's plan (type, float linears or refusal), only when a GGUF was
 * asked for: each is null when its file was not asked for (--format gguf, gptq, report).
 */
export interface WrittenReport extends Omit<RunReport, 'export' | 'gguf' | 'files'> {
  output: ReportOutput;
  export: ExportPlan | null;
  gguf: GgufPlan | null;
  /** Every file of the folder, report.json first. */
  files: string[];
}

/**
 * The report of an export folder from the run's: `output` beside the settings, `export` and
 * `gguf` as above, `files`; the quantized size is the GGUF's when no GPTQ checkpoint was written
 * (`ggufBytes`).
 */
export function writtenReport(report: RunReport, output: ReportOutput, files: string[], ggufBytes: number | null): WrittenReport {
  const { settings, export: plan, gguf: ggufPlan, files: _, ...rest } = report;
  const gptq = writesGptq(output.format);
  const gguf = writesGguf(output.format);
  const checkpoint = gptq && plan.refusal === null;
  return {
    settings,
    output: { format: output.format, ggufFloat: gguf ? output.ggufFloat : null },
    ...rest,
    size: { ...report.size, quantizedBytes: checkpoint ? report.size.quantizedBytes : ggufBytes },
    export: gptq ? plan : null,
    gguf: gguf ? ggufPlan ?? null : null,
    files,
  };
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
export function reportJson(report: RunReport | WrittenReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
