/**
 * One whole-model run from inputs to report, for the CLI and the worker alike: open the
 * checkpoint, check the texts' token ids against the vocabulary, scan every tensor the model uses
 * (NaN/Inf refused, largest magnitudes for the float16 range check), plan the export and check the
 * memory estimate, quantize block by block, measure perplexity of the original, RTN and GPTQ models
 * (the latter two with the values the exported file holds) and the divergence of RTN and GPTQ from
 * the original (src/engine/divergence.ts).
 */
import { counted } from '../core/plural';
import type { GpuRuntime } from '../gpu/runtime';
import { kernelChoicesOf, tuneKernels } from '../gpu/kernels/choices';
import type { ByteSource } from '../core/model/byte-source';
import { openCheckpoint } from '../core/model/checkpoint';
import { loadTokenizer } from '../core/model/tokenizer';
import { assertSequenceFits, defaultSeqlen } from '../core/model/config';
import { assertIdsInVocabulary, calibrationWindows, evaluationWindows, textToIds } from '../core/model/calibration';
import { scanTensors, type ScanProgress } from '../core/model/tensor-scan';
import { defaultRunSettings, type PerplexityResult, type ProgressEvent, type RunSettings } from '../core/run';
import { exportWeights } from './export-checkpoint';
import { shareableModelName } from '../core/shareable-name';
import type { RunReport } from '../core/report';
import { loadModel } from './model/load-model';
import { quantizeModel, throwIfCancelled, type QuantizedWeights, type RunHooks } from './quantize-model';
import type { EvaluationSeconds } from './evaluate';
import { perplexitiesWithDivergence } from './divergence';
import { planRun, type HostBudget, type MemoryBudget, type RunPlan } from './run-plan';
import { mlpLinears } from '../core/export/plan';
import { padMlpWidth } from './model/pad-mlp';
import type { Checkpoint } from '../core/model/checkpoint';
import type { LoadedModel } from './model/load-model';

export interface RunInputs {
  /** The checkpoint folder's files. */
  files: ByteSource[];
  /**
   * How the model is named in the report and the model card: its folder name or Hub id
   * ("owner/name"). A path is cut to its last part (shareableModelName), so no path of the
   * user's machine reaches a shared file.
   */
  modelName: string;
  /**
   * The calibration text. `name` is what the report and shared files call it (a file name, no
   * path); `path`, when given, is how messages name it (the path the user typed), never written.
   */
  calibration: RunText;
  /** One or more evaluation texts (named as the calibration text is); perplexity is measured on each. */
  evaluations: RunText[];
  /** Measure at most this many windows of each evaluation text (the first ones); all when absent. */
  evalWindowLimit?: number;
  /** Settings; seqlen defaults to the model's context up to 2048. */
  settings: Partial<RunSettings>;
  /** Refuse runs whose estimated peak GPU memory is above this many bytes. */
  gpuMemoryBudget: number;
  /** How the user raises gpuMemoryBudget (e.g. "--gpu-memory MIB"), for the refusal; none when absent. */
  gpuMemoryRaise?: string;
  /** Refuse runs whose estimated peak host memory is above this budget (src/engine/host-memory.ts); no check when absent. */
  hostMemoryBudget?: HostBudget;
  /**
   * When cancelled during the evaluation, return the run (quantized weights, report) with the
   * perplexities not measured set to null, instead of throwing RunCancelledError. The studio
   * keeps the quantized model this way, and the CLI writes it (exit 130).
   */
  keepOnEvaluationCancel?: boolean;
  /**
   * These inputs as readRunInputs read them (checkpoint, settings, token ids, windows), when the
   * caller has already read them: the CLI does, to refuse bad input before it creates the GPU
   * device. Read again when absent. Its settings are the run's (they replace `settings`).
   */
  read?: ReadInputs;
}

/** A text of a run: its name in the report, its text, and how messages name it (default: the name). */
export interface RunText {
  name: string;
  text: string;
  path?: string;
}

export interface RunOutput {
  report: RunReport;
  weights: QuantizedWeights;
  /** The checkpoint the run read (the export copies its other tensors and files). */
  ckpt: Checkpoint;
  /** The model as quantized (with the export's padded MLP width, if any). */
  model: LoadedModel;
}

/** Problems with the inputs (not the GPU): the CLI exits with 2 on these. */
export class RunInputError extends Error {
  override name = 'RunInputError';
}

/** Refuses a checkpoint that is already GPTQ-quantized: runs start from the float model. */
export function assertFloatCheckpoint(ckpt: Checkpoint): void {
  if (ckpt.quantization) {
    throw new RunInputError(`this checkpoint is already GPTQ-quantized (${ckpt.quantization.bits}-bit): start from the original float model`);
  }
}

/** The GPU budget planRun checks a run against: bytes, with how to raise it when the caller says. */
export function gpuBudgetOf(inputs: Pick<RunInputs, 'gpuMemoryBudget' | 'gpuMemoryRaise'>): number | MemoryBudget {
  return inputs.gpuMemoryRaise === undefined ? inputs.gpuMemoryBudget : { bytes: inputs.gpuMemoryBudget, raise: inputs.gpuMemoryRaise };
}

export interface RunModelHooks extends RunHooks {
  /**
   * Hears the plan, with the checkpoint and the settings it was made for, before anything heavy
   * runs; an error thrown here refuses the run as bad input.
   */
  onPlan?: (plan: RunPlan, ckpt: Checkpoint, settings: RunSettings) => void;
}

/** Stage events while the tensors are scanned: at the start, then at most once a second. */
function scanReporter(emit: (e: ProgressEvent) => void, elapsed: () => number): (p: ScanProgress) => void {
  let last = -Infinity;
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(b < 2 ** 24 ? 1 : 0)} MiB`;
  return (p) => {
    const now = elapsed();
    if (now - last < 1 && p.bytesDone < p.bytesTotal) return;
    last = now;
    emit({
      type: 'stage',
      stage: 'checking',
      detail: `NaN/Inf and float16 range: ${p.tensorsDone} of ${p.tensorsTotal} tensors, ${mib(p.bytesDone)} of ${mib(p.bytesTotal)}`,
      elapsed: now,
      done: p.bytesDone,
      total: p.bytesTotal,
    });
  };
}

/**
 * Refuses a text with fewer than `needed` tokens for one window of `seqlen`, naming the text as
 * the user gave it, its tokens, the tokens needed, and the longest window it does allow.
 * (A calibration window needs seqlen + 1 tokens: its offset is drawn from [0, tokens − seqlen − 1].)
 */
export function assertTextLongEnough(kind: 'calibration' | 'evaluation', text: string, tokens: number, needed: number, seqlen: number): void {
  if (tokens >= needed) return;
  const longest = tokens - (needed - seqlen);
  const has = tokens === 0 ? 'is empty (0 tokens)' : `has ${tokens} token${tokens === 1 ? '' : 's'}`;
  throw new RunInputError(`the ${kind} text ${text} ${has}; a window of seqlen ${seqlen} needs at least ${needed}: ` +
    `use a longer text${longest >= 2 ? ` or seqlen ${longest} or less` : ''}`);
}

/** A run's inputs read and checked: the checkpoint, the settings resolved, the texts as token ids and windows. */
export interface ReadInputs {
  ckpt: Checkpoint;
  settings: RunSettings;
  /** The calibration text's ids (windows are drawn from it by seed). */
  calibIds: number[];
  /** The evaluation windows of each text (at most evalWindowLimit each). */
  evalWindows: number[][][];
  /** Tokens of each evaluation text (its windows of seqlen before evalWindowLimit: evaluationWindowCounts). */
  evalTokens: number[];
}

/**
 * Opens the checkpoint and tokenizes the texts, refusing (RunInputError) a quantized checkpoint,
 * no evaluation text, a window length beyond the context, token ids beyond the vocabulary and
 * texts too short for a window. Shared by runModel and the strategy sweep (src/engine/sweep.ts).
 */
export async function readRunInputs(inputs: Pick<RunInputs, 'files' | 'calibration' | 'evaluations' | 'evalWindowLimit' | 'settings'>): Promise<ReadInputs> {
  const ckpt = await openCheckpoint(inputs.files);
  assertFloatCheckpoint(ckpt);
  const tokenizer = loadTokenizer(ckpt.tokenizerJson!, ckpt.tokenizerConfigJson);
  const settings: RunSettings = {
    ...defaultRunSettings,
    ...inputs.settings,
    seqlen: inputs.settings.seqlen ?? defaultSeqlen(ckpt.config),
  };
  const { seqlen } = settings;
  const calibIds = textToIds(tokenizer, inputs.calibration.text);
  if (inputs.evaluations.length === 0) throw new RunInputError('give at least one evaluation text');
  const vocab = ckpt.config.vocabSize;
  const shown = (t: RunText) => t.path ?? t.name;
  let evalWindows: number[][][];
  const evalTokens: number[] = [];
  try {
    assertSequenceFits(ckpt.config, seqlen);
    assertIdsInVocabulary(calibIds, vocab, tokenizer, `the calibration text ${shown(inputs.calibration)}`);
    assertTextLongEnough('calibration', shown(inputs.calibration), calibIds.length, seqlen + 1, seqlen);
    calibrationWindows(calibIds, settings.nsamples, seqlen, settings.seed);
    evalWindows = inputs.evaluations.map((e) => {
      const ids = textToIds(tokenizer, e.text);
      assertIdsInVocabulary(ids, vocab, tokenizer, `the evaluation text ${shown(e)}`);
      assertTextLongEnough('evaluation', shown(e), ids.length, seqlen, seqlen);
      evalTokens.push(ids.length);
      return evaluationWindows(ids, seqlen).slice(0, inputs.evalWindowLimit ?? Infinity);
    });
  } catch (e) {
    throw new RunInputError((e as Error).message);
  }
  return { ckpt, settings, calibIds, evalWindows, evalTokens };
}

/** Scans every tensor the model uses (NaN/Inf refused, largest magnitudes kept), with 'checking' stage events. */
export function scanForRun(ckpt: Checkpoint, emit: (e: ProgressEvent) => void, elapsed: () => number, signal?: AbortSignal): ReturnType<typeof scanTensors> {
  const onScan = scanReporter(emit, elapsed);
  return scanTensors(ckpt, {
    onProgress: (p) => {
      throwIfCancelled(signal);
      onScan(p);
    },
  });
}

export async function runModel(rt: GpuRuntime, inputs: RunInputs, hooks: RunModelHooks = {}): Promise<RunOutput> {
  const t0 = performance.now();
  const elapsed = () => (performance.now() - t0) / 1000;
  const emit = hooks.onProgress ?? (() => {});
  // The report's peak GPU bytes are this run's: from what the pool holds in use now (free buffers
  // left by earlier work are let go).
  rt.pool.trim();
  rt.pool.resetPeaks();
  const { ckpt, settings, calibIds, evalWindows } = inputs.read ?? (await readRunInputs(inputs));
  const { seqlen } = settings;
  const windows = calibrationWindows(calibIds, settings.nsamples, seqlen, settings.seed);
  // What refuses the run (nothing to quantize, memory) does not depend on the values: say it before reading them.
  const prePlan = planRun(ckpt, settings, rt, gpuBudgetOf(inputs), undefined, inputs.hostMemoryBudget);
  if (prePlan.fitError) throw new RunInputError(prePlan.fitError);
  try {
    hooks.onPlan?.(prePlan, ckpt, settings);
  } catch (e) {
    throw new RunInputError((e as Error).message);
  }
  const ranges = await scanForRun(ckpt, emit, elapsed, hooks.signal);
  const plan: RunPlan = planRun(ckpt, settings, rt, gpuBudgetOf(inputs), ranges, inputs.hostMemoryBudget);
  const loaded = await loadModel(ckpt);
  const { intermediate, unquantized, f16 } = plan.export;
  const model = intermediate ? padMlpWidth(loaded, mlpLinears(ckpt.layout), intermediate.to) : loaded;
  const skip = new Set(unquantized.map((u) => u.name));
  // The GEMM and the forward's attention on the kernels timed fastest here (once per device).
  await tuneKernels(rt);
  const tCalibration = elapsed();
  emit({ type: 'stage', stage: 'calibration', detail: `${counted(windows.length, 'window')} of ${counted(seqlen, 'token')} from ${calibIds.length}`, elapsed: elapsed() });

  const moduleBits = settings.moduleBits;
  const bitsOf = moduleBits ? (b: number, name: string) => moduleBits[`${b}.${name}`] ?? settings.bits : undefined;
  const weights = await quantizeModel(rt, model, Uint32Array.from(windows.flat()), settings, hooks, { skip, halfScales: f16, bitsOf });
  const tQuantization = elapsed();

  const evaluations: PerplexityResult[] = inputs.evaluations.map((e, i) => ({ text: e.name, seqlen, windows: evalWindows[i].length, original: null, rtn: null, gptq: null }));
  const divergence: RunReport['divergence'] = {};
  const total = 3 * evalWindows.reduce((s, w) => s + w.length, 0);
  const evalSeconds: EvaluationSeconds = { reading: 0, original: 0, rtn: 0, gptq: 0, divergence: 0 };
  let before = 0;
  try {
    for (const [i, e] of inputs.evaluations.entries()) {
      const windowsOf = evalWindows[i];
      emit({ type: 'stage', stage: 'evaluation', detail: `${e.name}: ${counted(windowsOf.length, 'window')} of ${counted(seqlen, 'token')}`, elapsed: elapsed() });
      // The three models run each pass side by side, block by block: windows done, summed over the
      // models, count up with the blocks of a pass (evaluationStep) and reach the pass's end with it.
      // Passes of as many tokens as the calibration held, which the memory check admitted.
      await perplexitiesWithDivergence(rt, model, weights, Uint32Array.from(windowsOf.flat()), seqlen, settings.nsamples, {
        signal: hooks.signal,
        half: f16,
        seconds: evalSeconds,
        onDivergence: (variant, stats) => {
          (divergence[e.name] ??= {})[variant] = stats;
        },
        onEach: (variant, value) => {
          evaluations[i][variant] = value;
          emit({ type: 'perplexity', text: e.name, variant, value, elapsed: elapsed() });
        },
        onStep: (from, to, windows, step, steps) => {
          const done = before + 3 * (from + ((to - from) * step) / steps);
          emit({ type: 'evaluationStep', text: e.name, from, to, windows, step, steps, done, total, elapsed: elapsed() });
        },
        onPass: (variant, windowsDone, windows) => {
          emit({ type: 'evaluation', text: e.name, variant, windowsDone, windows, done: before + 3 * windowsDone, total, elapsed: elapsed() });
        },
      });
      before += 3 * windowsOf.length;
    }
  } catch (err) {
    if (!(inputs.keepOnEvaluationCancel && hooks.signal?.aborted)) throw err;
  }
  const summary = ckpt.summary();
  const report: RunReport = {
    settings,
    model: { name: shareableModelName(inputs.modelName), arch: summary.arch, blocks: summary.blocks, hiddenSize: summary.hiddenSize, parameters: summary.parameters, dtype: summary.dtype },
    adapter: { ...rt.summary, kernels: kernelChoicesOf(rt.device) },
    calibration: { text: inputs.calibration.name, tokens: calibIds.length, windows },
    layers: weights.layers,
    perplexity: evaluations[0],
    evaluations,
    divergence,
    size: { originalBytes: summary.bytes, quantizedBytes: null },
    seconds: { calibration: tCalibration, quantization: tQuantization - tCalibration, evaluation: elapsed() - tQuantization, total: elapsed(), stages: { quantization: { ...weights.stages }, evaluation: evalSeconds } },
    export: plan.export,
    gguf: plan.gguf,
    // The CLI fills in its process's peak RSS once its files are written (RunResources).
    resources: { peak_rss_bytes: null, peak_gpu_bytes: rt.pool.stats.peakBytesAllocated },
  };
  if (!plan.export.refusal) {
    report.size.quantizedBytes = exportWeights({ ckpt, gptq: weights.gptq, settings, plan: plan.export }).file.size;
  }
  return { report, weights, ckpt, model };
}
