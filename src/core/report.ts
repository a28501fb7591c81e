/** The record of a whole-model run, as the CLI writes it to report.json and the studio keeps it. */
import type { LinearReport, RunSettings } from './run';
import type { ExportPlan } from './export/plan';

export interface RunReport {
  settings: RunSettings;
  model: { path: string; arch: string; blocks: number; hiddenSize: number; parameters: number; dtype: string };
  adapter: Record<string, unknown>;
  calibration: { text: string; tokens: number; windows: number[][] };
  layers: LinearReport[];
  perplexity: { text: string; seqlen: number; windows: number; original: number; rtn: number; gptq: number };
  seconds: { calibration: number; quantization: number; evaluation: number; total: number };
  /** What the download will hold: format, padding, linears left unquantized (decided before the run), or why there is none. */
  export: ExportPlan;
}
