/** Plain data the worker returns to the page (types only: the page never imports engine code). */
import type { CheckpointSummary } from '../core/model/checkpoint';
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
}

export type Generations = Record<ModelVariant, string>;
