/** Plain data the worker returns to the page (types only: the page never imports engine code). */
import type { CheckpointSummary } from '../core/model/checkpoint';
import type { ExportPlan } from '../core/export/plan';
import type { ModelVariant } from '../core/run';

export interface ModelInfo {
  summary: CheckpointSummary;
  heads: number;
  kvHeads: number;
  intermediateSize: number;
  vocabSize: number;
  maxPositions: number;
  /** The window length a run uses unless told otherwise: the context, up to 2048. */
  defaultSeqlen: number;
}

export interface RunPlan {
  /** What the download will hold (format, padding, unquantized linears) or why there is none. */
  export: ExportPlan;
  /** Estimated peak GPU memory of the run. */
  memoryBytes: number;
  budgetBytes: number;
  /** Why the run would be refused (memory, window length), or null. */
  fitError: string | null;
}

export type Generations = Record<ModelVariant, string>;
