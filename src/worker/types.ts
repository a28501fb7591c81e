/** Plain data the worker returns to the page (types only: the page never imports engine code). */
import type { CheckpointSummary } from '../core/model/checkpoint';
import type { ArchitectureFact } from '../core/model/describe';
import type { ModelVariant } from '../core/run';
import type { RunPlan } from '../engine/run-plan';
import type { AdapterSpeed, SuggestedSize, TimeEstimate } from '../core/time-model';
import type { LongEvaluation } from '../core/long-evaluation';

export type { RunPlan } from '../engine/run-plan';
export type { SweepRefusal } from '../core/sweep';
export type { AdapterSpeed, SuggestedSize, TimeEstimate } from '../core/time-model';

export interface ModelInfo {
  summary: CheckpointSummary;
  heads: number;
  kvHeads: number;
  intermediateSize: number;
  vocabSize: number;
  maxPositions: number;
  /** The window length a run uses unless told otherwise: the context, up to 2048. */
  defaultSeqlen: number;
  /** The last segment of config.json's `_name_or_path` (a Hub id's name or a folder name), or null. */
  configName: string | null;
  /** Run sizes that take about a minute on this adapter (src/core/time-model.ts), or null when the adapter is not measured. */
  suggested: SuggestedSize | null;
  /** What sets the family apart (RoPE, head_dim, sliding window, norms, MLP, ...), from its description. */
  facts?: ArchitectureFact[];
}

/** The texts of the next run, as the plan needs them. */
export interface PlanTexts {
  calibration: string | null;
  evaluations: string[];
  /** Windows per evaluation text (the first ones); null = all. */
  evalWindows: number | null;
}

/** The studio's plan: the engine's (memory, export) plus the texts' sizes and the time estimate. */
export interface StudioPlan extends RunPlan {
  /** Tokens of the calibration text (null when none is chosen) and of each evaluation text. */
  tokens: { calibration: number | null; evaluations: number[] };
  /** Windows the run will measure on each evaluation text. */
  evalWindows: number[];
  /** Why the texts do not fit these settings (too short for a window), or null. */
  textError: string | null;
  /** The adapter as measured when the worker started (null if the probe failed). */
  speed: AdapterSpeed | null;
  /** Estimated seconds of the run (quantization and evaluation), or null when the sizes are not valid or the adapter is not measured. */
  time: TimeEstimate | null;
  /** The evaluation is estimated long (src/core/long-evaluation.ts): how long, and the windows per text that would keep it short; null otherwise. */
  longEvaluation: LongEvaluation | null;
  /**
   * Estimated bytes of the downloads (src/engine/export-size.ts): the checkpoint's zip and the GGUF
   * with F16 floats and its imatrix; null where the plan writes none.
   */
  downloadBytes: { checkpoint: number | null; gguf: number | null };
}

export type Generations = Record<ModelVariant, string>;

/** One step of a streamed generation: the text so far of one model, and its new-token count. */
export interface GenerationStep {
  variant: ModelVariant;
  text: string;
  tokens: number;
  count: number;
}
