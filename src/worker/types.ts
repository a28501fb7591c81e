/** Plain data the worker returns to the page (types only: the page never imports engine code). */
import type { CheckpointSummary } from '../core/model/checkpoint';
import type { ArchitectureFact } from '../core/model/describe';
import type { ModelVariant } from '../core/run';

export type { RunPlan } from '../engine/run-plan';

export interface ModelInfo {
  summary: CheckpointSummary;
  heads: number;
  kvHeads: number;
  intermediateSize: number;
  vocabSize: number;
  maxPositions: number;
  /** The window length a run uses unless told otherwise: the context, up to 2048. */
  defaultSeqlen: number;
  /** What sets the family apart (RoPE, head_dim, sliding window, norms, MLP, ...), from its description. */
  facts?: ArchitectureFact[];
}

export type Generations = Record<ModelVariant, string>;
