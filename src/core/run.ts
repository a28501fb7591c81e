/**
 * A whole-model run: its settings, what it reports per linear, and its progress events.
 * Shared by the engine, the worker, the UI and the CLI; no DOM, no GPU.
 */
import { defaultQuantOptions, type QuantOptions } from './types';
import type { LayerDetail } from './layer-detail';

export interface RunSettings extends QuantOptions {
  /** Quantize the linears of a block in groups, each on inputs left by the groups before it. */
  trueSequential: boolean;
  /** Calibration windows. */
  nsamples: number;
  /** Tokens per calibration and evaluation window. */
  seqlen: number;
  /** Seed of the calibration window offsets. */
  seed: number;
  /**
   * Per-linear widths of a mixed-precision run, by `${block}.${linear}` (src/core/mixed-precision.ts);
   * a linear not named here, and every linear when absent, has `bits`.
   */
  moduleBits?: Record<string, number>;
}

/** The reference's defaults; seqlen is the model's context up to 2048 (see defaultSeqlen). */
export const defaultRunSettings: Omit<RunSettings, 'seqlen'> = {
  ...defaultQuantOptions,
  trueSequential: true,
  nsamples: 128,
  seed: 0,
};

export interface LinearReport {
  block: number;
  /** The checkpoint's name inside the block, e.g. "self_attn.q_proj". */
  name: string;
  /** The linear's shape in the model: an MLP width padded for the export is not counted, nor in the MSEs. */
  rows: number;
  cols: number;
  gptq: {
    /** Output MSE on the captured calibration inputs: ‖WX − QX‖² / (rows · tokens). */
    mse: number;
    /** Σ (w − q)² / d² / 2 (NaN when the layer fell back to RTN). */
    loss: number;
    /** Damping fraction used, after any retries. */
    damp: number;
    dampAttempts: number;
    fellBackToRtn: boolean;
    seconds: number;
  };
  rtn: { mse: number };
  /** This linear's width, in a mixed-precision run (absent: the settings' bits). */
  bits?: number;
  /**
   * AWQ-style scaled RTN on the same grid and inputs (only in sweeps that ask for it): its output
   * MSE and the α chosen (null: a linear AWQ does not scale, rounded as it is).
   */
  awq?: { mse: number; alpha: number | null };
  /** GPTQ's output MSE at each of these widths on the same inputs (the layer-sensitivity map). */
  sensitivity?: { bits: number; mse: number }[];
}

/** checking: every tensor scanned for NaN/Inf and its range, before any work. */
export type RunStage = 'checking' | 'calibration' | 'quantization' | 'evaluation';
export type ModelVariant = 'original' | 'rtn' | 'gptq';

export type ProgressEvent =
  /** A stage begins; `done` of `total` (optional) is progress within a stage that repeats its event (checking: bytes scanned). */
  | { type: 'stage'; stage: RunStage; detail: string; elapsed: number; done?: number; total?: number }
  | { type: 'block'; block: number; blocks: number; elapsed: number }
  /** A linear is quantized: `done` of `total` linears of the model; `blocks` the model's block count (`report.block` is 0-based). */
  | { type: 'linear'; report: LinearReport; done: number; total: number; blocks: number; elapsed: number; etaSeconds: number; detail?: LayerDetail }
  | { type: 'perplexity'; text: string; variant: ModelVariant; value: number; elapsed: number }
  /**
   * A pass of evaluation windows finished: `windowsDone` of `windows` of `text` for `variant`;
   * `done` of `total` counts windows over every text and all three models.
   */
  | { type: 'evaluation'; text: string; variant: ModelVariant; windowsDone: number; windows: number; done: number; total: number; elapsed: number }
  /**
   * Within a pass: the three models have run windows `from` + 1 to `to` of `windows` of `text`
   * through `step` of `steps` steps (each block, then the head). `done` of `total` counts windows
   * over every text and all three models, this pass's in proportion to its steps.
   */
  | { type: 'evaluationStep'; text: string; from: number; to: number; windows: number; step: number; steps: number; done: number; total: number; elapsed: number };

/**
 * Perplexity of the three models on one evaluation text. A value is null when it was not
 * measured: the run was cancelled during the evaluation and kept the quantized model.
 */
export interface PerplexityResult {
  text: string;
  seqlen: number;
  windows: number;
  original: number | null;
  rtn: number | null;
  gptq: number | null;
}

export class RunCancelledError extends Error {
  override name = 'RunCancelledError';
  /** `message`: what was dropped, when more needs saying than the default. */
  constructor(message = 'The run was cancelled. Nothing was changed; start it again when ready.') {
    super(message);
  }
}
