/**
 * The studio's slices: the model loaded, the settings, the plan of the next run, the run in
 * progress (filled by progress events), generations, the download, and earlier runs (kept in
 * localStorage). Worker results enter only through the bridge (../bridge.ts).
 */
import type { LinearReport, ModelVariant, PerplexityResult, RunSettings, RunStage } from '../../core/run';
import type { LayerDetail } from '../../core/layer-detail';
import type { RunReport } from '../../core/report';
import type { ExportPlan } from '../../core/export/plan';
import type { Generations, ModelInfo, RunPlan } from '../../worker/types';
import type { UiError } from './initialState';

export type ModelSource = 'demo' | 'files' | 'hub';

export type ModelSlice =
  | { status: 'empty' }
  | { status: 'loading'; source: ModelSource; name: string; progress: { done: number; total: number; file: string | null } | null }
  | { status: 'ready'; source: ModelSource; name: string; files: File[]; info: ModelInfo }
  | { status: 'error'; source: ModelSource; name: string; error: UiError };

export interface TextChoice {
  name: string;
  text: string;
}

/** The quantization and calibration settings of the next run. */
export interface SettingsSlice {
  bits: number;
  groupSize: number;
  sym: boolean;
  actOrder: boolean;
  staticGroups: boolean;
  percDamp: number;
  trueSequential: boolean;
  mse: boolean;
  nsamples: number;
  /** Window length; null = the model's default (its context, up to 2048). */
  seqlen: number | null;
  seed: number;
  calibration: TextChoice | null;
  evaluations: TextChoice[];
  /** Windows measured per evaluation text (the first ones); null = all. */
  evalWindows: number | null;
}

export type PlanSlice =
  | { status: 'idle' }
  | { status: 'loading' }
  | { status: 'ready'; plan: RunPlan }
  | { status: 'error'; error: UiError };

export type RunStatus = 'idle' | 'running' | 'cancelling' | 'done' | 'cancelled' | 'failed';

/** `${block}.${name}`, as the engine keys its weights. */
export const layerKey = (l: { block: number; name: string }) => `${l.block}.${l.name}`;

export interface RunSlice {
  id: string | null;
  status: RunStatus;
  modelName: string;
  settings: RunSettings | null;
  stage: RunStage | null;
  stageDetail: string;
  /** Blocks finished, of `blocks`. */
  blocksDone: number;
  blocks: number;
  /** Linears finished, of `total`. */
  done: number;
  total: number;
  elapsed: number;
  etaSeconds: number | null;
  layers: LinearReport[];
  /** Hessian heatmaps, diag(H) and error histograms by layerKey. */
  details: Record<string, LayerDetail>;
  /** Perplexities as they arrive, by evaluation text. */
  perplexity: Record<string, Partial<Record<ModelVariant, number>>>;
  report: RunReport | null;
  error: UiError | null;
}

export type GenerationSlice =
  | { status: 'idle' }
  | { status: 'running'; prompt: string }
  | { status: 'done'; prompt: string; outputs: Generations }
  | { status: 'error'; prompt: string; error: UiError };

export type DownloadSlice =
  | { status: 'idle' }
  | { status: 'building' }
  | { status: 'ready'; url: string; fileName: string; bytes: number }
  | { status: 'error'; error: UiError };

/** The GGUF downloads of the last run: the model file and imatrix.gguf, each built once. */
export interface GgufDownloadSlice {
  model: DownloadSlice;
  /** The float type of the model file built (embeddings and float linears). */
  modelFloat: 'F16' | 'F32';
  imatrix: DownloadSlice;
}

/** A run kept for comparison (and across reloads): what it measured, not its weights. */
export interface HistoryEntry {
  id: string;
  finishedAt: string;
  modelName: string;
  status: 'done' | 'cancelled' | 'failed';
  settings: RunSettings;
  layers: LinearReport[];
  evaluations: PerplexityResult[];
  size: { originalBytes: number; quantizedBytes: number | null } | null;
  exportPlan: ExportPlan | null;
  seconds: number;
}

export interface StudioSlices {
  model: ModelSlice;
  settings: SettingsSlice;
  plan: PlanSlice;
  run: RunSlice;
  selectedLayer: string | null;
  generation: GenerationSlice;
  download: DownloadSlice;
  ggufDownload: GgufDownloadSlice;
  history: HistoryEntry[];
}

export const defaultSettings: SettingsSlice = {
  bits: 4,
  groupSize: 128,
  sym: true,
  actOrder: false,
  staticGroups: false,
  percDamp: 0.01,
  trueSequential: true,
  mse: false,
  nsamples: 32,
  seqlen: null,
  seed: 0,
  calibration: null,
  evaluations: [],
  evalWindows: null,
};

export function idleRun(): RunSlice {
  return {
    id: null, status: 'idle', modelName: '', settings: null, stage: null, stageDetail: '', blocksDone: 0, blocks: 0,
    done: 0, total: 0, elapsed: 0, etaSeconds: null, layers: [], details: {}, perplexity: {}, report: null, error: null,
  };
}

export function initialStudioSlices(): StudioSlices {
  return {
    model: { status: 'empty' },
    settings: defaultSettings,
    plan: { status: 'idle' },
    run: idleRun(),
    selectedLayer: null,
    generation: { status: 'idle' },
    download: { status: 'idle' },
    ggufDownload: { model: { status: 'idle' }, modelFloat: 'F16', imatrix: { status: 'idle' } },
    history: [],
  };
}
