/**
 * The studio's slices: the model loaded, the settings, the plan of the next run, the run in
 * progress (filled by progress events), generations, the download, and earlier runs (kept in
 * localStorage). Worker results enter only through the bridge (../bridge.ts).
 */
import type { LinearReport, ModelVariant, PerplexityResult, RunSettings, RunStage } from '../../core/run';
import type { LayerDetail } from '../../core/layer-detail';
import type { RunReport } from '../../core/report';
import type { ExportPlan } from '../../core/export/plan';
import type { AdapterSpeed, GenerationStep, Generations, ModelInfo, StudioPlan, SweepRefusal, TimeEstimate } from '../../worker/types';
import type { UiError } from './initialState';
import type { SweepRunReport } from '../../core/sweep';
import type { MixedPrecisionPlan } from '../../core/mixed-precision';

export type ModelSource = 'demo' | 'files' | 'hub';

/**
 * The model loaded (or loading, or why it failed). `loadId` counts loads on this page: a run
 * remembers the loadId of its model, so results of an earlier model are told apart.
 */
export type ModelSlice =
  | { status: 'empty' }
  | { status: 'loading'; source: ModelSource; name: string; loadId: number; progress: { done: number; total: number; file: string | null } | null }
  | { status: 'ready'; source: ModelSource; name: string; loadId: number; files: File[]; info: ModelInfo }
  | { status: 'error'; source: ModelSource; name: string; loadId: number; error: UiError };

export interface TextChoice {
  name: string;
  text: string;
  /** One of the demo's texts (written for the demo model; set aside when another model is loaded). */
  demo?: boolean;
}

/** The adapter's speed as measured by the worker (src/gpu/speed.ts). */
export type SpeedSlice =
  | { status: 'idle' }
  | { status: 'measuring' }
  | { status: 'ready'; speed: AdapterSpeed }
  | { status: 'error'; error: UiError };

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

/** The plan of the next run; `forSettings` is the settings object it was worked out for (a plan for older settings does not count). */
export type PlanSlice =
  | { status: 'idle' }
  | { status: 'loading' }
  | { status: 'ready'; plan: StudioPlan; forSettings: SettingsSlice }
  | { status: 'error'; error: UiError };

/** Settings fields whose text is not a valid value, with why (the run is disabled while any is). */
export type FieldErrors = Record<string, string>;

export type RunStatus = 'idle' | 'running' | 'cancelling' | 'done' | 'cancelled' | 'failed';

/** `${block}.${name}`, as the engine keys its weights. */
export const layerKey = (l: { block: number; name: string }) => `${l.block}.${l.name}`;

/** Where the evaluation stands: the pass that finished last, and windows done of all (× 3 models). */
export interface EvaluationProgress {
  /** Seconds into the run when the evaluation started. */
  start: number;
  text: string;
  variant: ModelVariant | null;
  windowsDone: number;
  windows: number;
  /** Windows done of all (× 3 models), the pass in progress counted by its steps: not always whole. */
  done: number;
  total: number;
  /** The pass in progress: windows from + 1 to `to`, `step` of `steps` steps run (evaluationStep), or none. */
  step?: { from: number; to: number; step: number; steps: number } | null;
}

export interface RunSlice {
  id: string | null;
  status: RunStatus;
  modelName: string;
  /** Where the run's model came from, and the ModelSlice.loadId it had. */
  modelSource: ModelSource | null;
  modelLoadId: number | null;
  /** When the run started (ISO time). */
  startedAt: string | null;
  settings: RunSettings | null;
  /** Windows per evaluation text the run measures, as planned. */
  evalWindows: number[];
  /** The time estimate shown before the run. */
  estimate: TimeEstimate | null;
  stage: RunStage | null;
  stageDetail: string;
  /** Blocks finished, of `blocks`. */
  blocksDone: number;
  blocks: number;
  /** Linears finished, of `total`. */
  done: number;
  total: number;
  elapsed: number;
  /** The engine's estimate of the quantization left (seconds), at the last finished linear. */
  etaSeconds: number | null;
  /** Wall-clock time (Date.now()) of the last progress event: the clock runs on between events. */
  lastEventAt: number | null;
  evaluation: EvaluationProgress | null;
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
  | { status: 'running'; prompt: string; runId: string | null; steps: Partial<Record<ModelVariant, GenerationStep>> }
  | { status: 'done'; prompt: string; runId: string | null; outputs: Generations }
  | { status: 'error'; prompt: string; runId: string | null; error: UiError };

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

/**
 * A run kept for comparison (and across reloads): what it measured, not its weights. A run in
 * progress is kept as 'running' (updated as blocks finish); one found 'running' when the page
 * loads was interrupted by a reload or a closed tab.
 */
export interface HistoryEntry {
  id: string;
  /** When it ended (or, while running, when it was last updated). */
  finishedAt: string;
  startedAt?: string;
  modelName: string;
  status: 'done' | 'cancelled' | 'failed' | 'running' | 'interrupted';
  /** Why it failed or stopped, in words. */
  reason?: string;
  settings: RunSettings;
  /** Windows measured per evaluation text (those planned, for runs that did not get there). */
  evalWindows?: number[];
  layers: LinearReport[];
  evaluations: PerplexityResult[];
  size: { originalBytes: number; quantizedBytes: number | null } | null;
  exportPlan: ExportPlan | null;
  seconds: number;
  /** The estimate shown before the run, seconds. */
  estimatedSeconds?: number | null;
}

/** What one strategy measured with one seed, as the sweep's results arrive (first evaluation text). */
export interface SweepResultRow {
  label: string;
  seed: number;
  perplexity: number | null;
  kld: number | null;
}

/** The strategy sweep ("Compare strategies"): its progress, the results as they arrive, and its report. */
export interface SweepSlice {
  id: string | null;
  status: RunStatus;
  /** The model it compared (ModelSlice.name and loadId): results of an earlier model are set apart. */
  modelName: string;
  modelLoadId: number | null;
  /** The strategies' labels, in the order given. */
  labels: string[];
  seeds: number;
  /** What the sweep is doing now, in words. */
  stageDetail: string;
  /** Steps are (pass, seed) pairs: each quantizes once and evaluates its strategies. */
  step: number;
  steps: number;
  phase: 'quantizing' | 'evaluating' | null;
  stepLabels: string[];
  /** Linears of the step in progress. */
  done: number;
  total: number;
  elapsed: number;
  results: SweepResultRow[];
  report: SweepRunReport | null;
  error: UiError | null;
}

/** What the person chose in the "Compare strategies" panel. */
export interface SweepForm {
  /** Comma-separated strategies in the compact syntax (src/core/sweep.ts). */
  strategies: string;
  seeds: number;
  /** Measure the layer-sensitivity map (needed for a mixed-precision plan). */
  sensitivity: boolean;
  /** What the chart's Y axis shows. */
  metric: 'perplexity' | 'kld';
  /** The mixed-precision plan's target bits per weight, as typed. */
  targetBpw: string;
}

/**
 * The Compare list checked against the loaded model and the settings by the worker (planSweep: the
 * rule the sweep applies before any work): the passes it would refuse and why, for the list,
 * settings and model load it was worked out for.
 */
export type SweepPlanSlice =
  | { status: 'idle' }
  | { status: 'loading' }
  | { status: 'ready'; refusals: SweepRefusal[]; forStrategies: string; forSettings: SettingsSlice; forLoad: number }
  | { status: 'error'; error: UiError };

/** The mixed-precision plan for the target, worked out by the worker from the sweep's sensitivity map. */
export type MixedPlanSlice =
  | { status: 'idle' }
  | { status: 'loading'; target: number }
  | { status: 'ready'; target: number; plan: MixedPrecisionPlan; settings: RunSettings; sweepId: string }
  | { status: 'error'; target: number; error: UiError };

export interface StudioSlices {
  model: ModelSlice;
  speed: SpeedSlice;
  settings: SettingsSlice;
  fieldErrors: FieldErrors;
  /** The demo's texts once fetched (to offer them again after another model set them aside). */
  demoTexts: TextChoice[] | null;
  plan: PlanSlice;
  run: RunSlice;
  selectedLayer: string | null;
  generation: GenerationSlice;
  download: DownloadSlice;
  ggufDownload: GgufDownloadSlice;
  history: HistoryEntry[];
  /** The earlier run (history id) overlaid on the current one, or null. */
  compareId: string | null;
  sweep: SweepSlice;
  sweepForm: SweepForm;
  sweepPlan: SweepPlanSlice;
  mixedPlan: MixedPlanSlice;
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
    id: null, status: 'idle', modelName: '', modelSource: null, modelLoadId: null, startedAt: null, settings: null, evalWindows: [], estimate: null,
    stage: null, stageDetail: '', blocksDone: 0, blocks: 0, done: 0, total: 0, elapsed: 0, etaSeconds: null, lastEventAt: null,
    evaluation: null, layers: [], details: {}, perplexity: {}, report: null, error: null,
  };
}

export function idleSweep(): SweepSlice {
  return {
    id: null, status: 'idle', modelName: '', modelLoadId: null, labels: [], seeds: 1, stageDetail: '', step: 0, steps: 0, phase: null, stepLabels: [], done: 0, total: 0, elapsed: 0,
    results: [], report: null, error: null,
  };
}

/**
 * The sweep slice once the worker returned `report`: done, or cancelled when the report is a
 * cancelled sweep's (it then holds the strategies whose every seed finished, shown as a finished
 * sweep's results). A cancel before any strategy finished rejects instead: status 'cancelled', no report.
 */
export function sweepEnded(report: SweepRunReport): Partial<SweepSlice> {
  return {
    status: report.cancelled ? 'cancelled' : 'done',
    report,
    labels: report.sweep.strategies.map((x) => x.label),
    elapsed: report.seconds,
    phase: null,
  };
}

/**
 * Whether some strategy of the sweep has a result for every seed: a cancel then keeps it (the
 * worker answers with its report), so the worker must not be terminated on a cancel, however long
 * the linear or pass in progress takes.
 */
export function sweepHasFinishedStrategy(sweep: Pick<SweepSlice, 'results' | 'seeds'>): boolean {
  const seedsOf = new Map<string, Set<number>>();
  for (const r of sweep.results) {
    const seeds = seedsOf.get(r.label) ?? new Set<number>();
    seeds.add(r.seed);
    seedsOf.set(r.label, seeds);
  }
  return [...seedsOf.values()].some((seeds) => seeds.size >= sweep.seeds);
}

export const defaultSweepForm: SweepForm = { strategies: 'gptq:4g128,rtn:4g128,awq:4g128,gptq:3g128', seeds: 1, sensitivity: true, metric: 'perplexity', targetBpw: '3.5' };

export function initialStudioSlices(): StudioSlices {
  return {
    model: { status: 'empty' },
    speed: { status: 'idle' },
    settings: defaultSettings,
    fieldErrors: {},
    demoTexts: null,
    plan: { status: 'idle' },
    run: idleRun(),
    selectedLayer: null,
    generation: { status: 'idle' },
    download: { status: 'idle' },
    ggufDownload: { model: { status: 'idle' }, modelFloat: 'F16', imatrix: { status: 'idle' } },
    history: [],
    compareId: null,
    sweep: idleSweep(),
    sweepForm: defaultSweepForm,
    sweepPlan: { status: 'idle' },
    mixedPlan: { status: 'idle' },
  };
}
