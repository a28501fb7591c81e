/**
 * How long a whole-model run will take, from the work it does and two numbers measured on the
 * adapter (src/gpu/speed.ts): the GEMM rate in GFLOP/s and the seconds of one GPU→host sync.
 *
 * The work is counted the way the engine does it (src/engine/quantize-model.ts, evaluate.ts):
 * - calibration forward passes: for each block, one capture pass per true-sequential group (the
 *   block run up to that group's linears) and one full pass with the quantized weights;
 * - Hessians: H += (2/N)·XᵀX once for the quantized linears of a group that read one input
 *   (q/k/v, gate/up share it: ModelShape.inputs), 2·T·cols² FLOPs;
 * - GPTQ's inverse chain as the engine computes it (docs/engine.md), once per H: one Cholesky of
 *   the permuted H and one triangular inverse, each about cols³/6 multiply-adds, 2·cols³/3 FLOPs in all;
 * - GPTQ's sweep with lazy block updates, about rows·cols² FLOPs;
 * - the output error of GPTQ and of RTN on the calibration inputs, 2·rows·cols·T FLOPs each;
 * - evaluation: the original, RTN and GPTQ models over every evaluation window, each LM head once
 *   (the divergence scores the NLL on the logits it makes: src/engine/evaluate.ts nllAtHead), and
 *   RTN's codes made again for every block of every pass (src/engine/rtn-weights.ts: their FLOPs
 *   are few, their syncs are counted).
 * Each class of work runs at its own fraction of the GEMM rate (EFFICIENCY, measured with
 * bench/time-model.bench.ts); each sync the engine waits on costs one measured round trip; each
 * quantized linear adds its measured fixed cost (LinearCost: dispatches, syncs, host work and
 * the inverse's sequential steps, which do not scale with its FLOPs).
 * Pure arithmetic: no DOM, no GPU.
 */
import type { RunStage } from './run';
import type { KernelChoices } from './kernel-choice';

/** What a run's time depends on in the model, as the run will quantize it (padding included). */
export interface ModelShape {
  blocks: number;
  hidden: number;
  heads: number;
  headDim: number;
  vocab: number;
  /** One block's linears in forward order, [rows = out features, cols = in features]. */
  linears: { name: string; rows: number; cols: number; quantized: boolean }[];
  /** True-sequential groups of linear names, in order (the quantized linears of each). */
  groups: string[][];
  /** The linears that read one input (architecture.ts inputSets): they share one H and its inverse. */
  inputs: string[][];
}

/**
 * What one quantized linear costs beyond its FLOPs (src/engine/linear-cost.ts measures it by
 * quantizing tiny linears): `seconds` for one of at most INVERSE_STEP columns, and `stepSeconds`
 * for each further INVERSE_STEP columns (the inverse factors one diagonal block at a time).
 */
export interface LinearCost {
  seconds: number;
  stepSeconds: number;
}

/** Columns of one sequential step of the inverse (src/gpu/kernels/cholesky.ts CHOL_NB). */
export const INVERSE_STEP = 64;

/** The adapter as measured (src/gpu/speed.ts, src/engine/linear-cost.ts). */
export interface AdapterSpeed {
  /** GEMM rate on an n×n×n product, GFLOP/s. */
  gflops: number;
  /** One empty submit-and-wait round trip, seconds. */
  syncSeconds: number;
  /** The fixed cost of a quantized linear; absent (not measured): SYNCS_PER_LINEAR round trips. */
  linear?: LinearCost;
  /** The probe's largest product and its own duration (seconds), for display. */
  probe?: { n: number; seconds: number };
  /** The kernels timed fastest on the adapter (src/gpu/kernels/choices.ts), for display; absent when not timed. */
  kernels?: KernelChoices;
}

/** The sizes that set a run's work. */
export interface RunSize {
  /** Calibration windows and their length in tokens (evaluation windows have the same length). */
  nsamples: number;
  seqlen: number;
  trueSequential: boolean;
  /** Evaluation windows, summed over every evaluation text (each is scored by three models). */
  evalWindows: number;
}

export interface RunWork {
  /** FLOPs by class of work. */
  flops: {
    /** Linears of the calibration forward passes (capture passes and the quantized pass). */
    calibrationLinears: number;
    /** Attention of the same passes. */
    calibrationAttention: number;
    hessian: number;
    inverse: number;
    sweep: number;
    outputError: number;
    /** Linears and LM head of the three models over the evaluation windows. */
    evaluationLinears: number;
    evaluationAttention: number;
  };
  /** GPU→host syncs the engine waits on outside the linears' own (those are in LinearCost). */
  syncs: { quantization: number; evaluation: number };
  /** Quantized linears, and the inverse steps beyond the first of each H (Σ ceil(cols / INVERSE_STEP) − 1). */
  linears: { count: number; steps: number };
}

/**
 * The fraction of the measured GEMM rate (the kernel the device was tuned to run, src/gpu/speed.ts)
 * each class of work reaches. Read off `npm run bench:time` (the demo model: hidden 128, 4 blocks)
 * and `npm run bench` / `npm run bench:model` (GPT-2-small and Qwen2.5-0.5B shapes), Dawn on
 * llvmpipe. The forward's linears reach ~0.5 of the rate on the demo's small matrices and 0.6–0.9
 * on real ones: 0.5 keeps the demo's estimate (the studio's first run) right and errs long on big
 * models. Attention (one invocation per (token, head), the kernel these
 * adapters are timed to run: gpu/kernels/attention-choice.ts) is far slower per FLOP; the Hessian
 * is a GEMM. The inverse (blocked Cholesky and triangular inverse) reaches 0.35–0.45 at 768–896
 * columns and 0.75–0.86 at 3072–4864: 0.7 follows the large linears, which take most of a real
 * model's inverse time (a Qwen2.5-0.5B block: 25 s for its 4864-column linear, 2 s for the six of
 * 896). The sweep reaches 0.5–0.75; the output error 0.75–0.95. What a linear costs besides
 * (tens of milliseconds on llvmpipe: dispatches, read-backs, host work, the inverse's diagonal
 * blocks) is its measured LinearCost.
 */
export const EFFICIENCY = {
  linears: 0.5,
  attention: 0.15,
  hessian: 0.7,
  inverse: 0.7,
  sweep: 0.6,
  outputError: 0.75,
} as const;

/**
 * Syncs the engine waits on per quantized linear (input checks, status flags, reading Q, codes,
 * scales, losses, the two output errors, H for the charts): a linear's fixed cost where
 * AdapterSpeed.linear was not measured.
 */
export const SYNCS_PER_LINEAR = 24;
/** Syncs per block of the calibration: one error scope per capture pass and one for the quantized pass. */
export const SYNCS_PER_BLOCK_GROUP = 2;
/** Syncs per evaluation pass of one model (error scope, NLL, argmax and last logits read back). */
export const SYNCS_PER_EVAL_PASS = 4;
/** Syncs per quantized linear whose RTN codes an evaluation pass makes again (error scope; codes, scales, zeros read back). */
export const SYNCS_PER_RTN_LINEAR = 4;

/**
 * FLOPs of quantizing one [rows, cols] linear on T calibration tokens, by class of work: H +=
 * XᵀX, the inverse chain, the sweep, and the output error of GPTQ and of RTN.
 */
export function linearFlops(rows: number, cols: number, T: number): { hessian: number; inverse: number; sweep: number; outputError: number } {
  return {
    hessian: 2 * T * cols ** 2,
    inverse: (2 / 3) * cols ** 3,
    sweep: rows * cols ** 2,
    outputError: 2 * (2 * rows * cols * T),
  };
}

/**
 * Seconds the model counts for quantizing one [rows, cols] linear at `gflops` once its Hessian
 * is accumulated (the inverse, the sweep and both output errors of linearFlops, each at its
 * EFFICIENCY); its fixed cost (LinearCost) not included.
 */
export function linearComputeSeconds(rows: number, cols: number, T: number, gflops: number): number {
  const f = linearFlops(rows, cols, T);
  return (f.inverse / EFFICIENCY.inverse + f.sweep / EFFICIENCY.sweep + f.outputError / EFFICIENCY.outputError) / (gflops * 1e9);
}

/** 2·rows·cols FLOPs per token for each of the given linears. */
function linearFlopsPerToken(linears: readonly { rows: number; cols: number }[]): number {
  return linears.reduce((s, l) => s + 2 * l.rows * l.cols, 0);
}

/** Causal attention per token of a window of `seqlen`: q·k and p·v over (seqlen + 1)/2 keys on average. */
function attentionFlopsPerToken(shape: ModelShape, seqlen: number): number {
  return 4 * shape.heads * shape.headDim * ((seqlen + 1) / 2);
}

/**
 * The FLOPs and syncs of a run (see the module comment). Throws a RangeError on sizes that are
 * not positive whole numbers.
 */
export function runWork(shape: ModelShape, size: RunSize): RunWork {
  for (const [k, v] of Object.entries({ nsamples: size.nsamples, seqlen: size.seqlen })) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${k} must be a positive whole number, got ${v}`);
  }
  if (!Number.isInteger(size.evalWindows) || size.evalWindows < 0) throw new RangeError(`evalWindows must be a whole number ≥ 0, got ${size.evalWindows}`);
  const T = size.nsamples * size.seqlen;
  const byName = new Map(shape.linears.map((l) => [l.name, l]));
  const quantized = shape.linears.filter((l) => l.quantized);
  const groups = (size.trueSequential ? shape.groups : [quantized.map((l) => l.name)]).filter((g) => g.length > 0);
  const attention = attentionFlopsPerToken(shape, size.seqlen);
  const fullLinears = linearFlopsPerToken(shape.linears);

  // A capture pass runs the block up to its group's last linear (forward order); every group but
  // the first comes after attention.
  const order = new Map(shape.linears.map((l, i) => [l.name, i]));
  let captureLinears = 0;
  let captureAttention = 0;
  groups.forEach((g, i) => {
    const last = Math.max(...g.map((n) => order.get(n) ?? 0));
    captureLinears += linearFlopsPerToken(shape.linears.slice(0, last + 1));
    if (i > 0 || groups.length === 1) captureAttention += attention;
  });
  const perBlockLinears = captureLinears + fullLinears;
  const perBlockAttention = captureAttention + attention;

  let hessian = 0;
  let inverse = 0;
  let sweep = 0;
  let outputError = 0;
  let count = 0;
  let steps = 0;
  const inputOf = new Map(shape.inputs.flatMap((set, i) => set.map((name) => [name, i] as const)));
  for (const g of groups) {
    // One H and one inverse for the linears of the group that read one input.
    const inputs = new Set<number | string>();
    for (const name of g) {
      const l = byName.get(name);
      if (!l) continue;
      const f = linearFlops(l.rows, l.cols, T);
      const input = inputOf.get(name) ?? name;
      if (!inputs.has(input)) {
        inputs.add(input);
        hessian += f.hessian;
        inverse += f.inverse;
        steps += Math.ceil(l.cols / INVERSE_STEP) - 1;
      }
      sweep += f.sweep;
      outputError += f.outputError;
      count++;
    }
  }
  const evalTokens = 3 * size.evalWindows * size.seqlen;
  const evalPasses = 3 * Math.ceil(size.evalWindows / size.nsamples);
  return {
    flops: {
      calibrationLinears: shape.blocks * T * perBlockLinears,
      calibrationAttention: shape.blocks * T * perBlockAttention,
      hessian: shape.blocks * hessian,
      inverse: shape.blocks * inverse,
      sweep: shape.blocks * sweep,
      outputError: shape.blocks * outputError,
      // Each model's LM head once per token: the divergence takes the NLL from the logits it makes.
      evaluationLinears: evalTokens * (shape.blocks * fullLinears + 2 * shape.hidden * shape.vocab),
      evaluationAttention: evalTokens * shape.blocks * attention,
    },
    syncs: {
      quantization: shape.blocks * (groups.length + 1) * SYNCS_PER_BLOCK_GROUP,
      evaluation: evalPasses * SYNCS_PER_EVAL_PASS + (evalPasses / 3) * shape.blocks * count * SYNCS_PER_RTN_LINEAR,
    },
    linears: { count: shape.blocks * count, steps: shape.blocks * steps },
  };
}

/** Seconds of a run: quantization (calibration included) and evaluation. */
export interface TimeEstimate {
  quantization: number;
  evaluation: number;
  total: number;
}

/** Seconds of each class of work (RunWork.flops' keys), of the syncs of each phase and of the linears' fixed cost. */
export interface WorkSeconds {
  flops: Record<keyof RunWork['flops'], number>;
  syncs: RunWork['syncs'];
  linears: number;
}

/**
 * Each class of work in seconds on an adapter of the given speed: FLOPs / (efficiency · rate),
 * syncs × the measured round trip, and each linear's fixed cost (speed.linear, or
 * SYNCS_PER_LINEAR round trips where it was not measured). Throws a RangeError on a
 * non-positive rate.
 */
export function workSeconds(work: RunWork, speed: AdapterSpeed): WorkSeconds {
  if (!(speed.gflops > 0) || !Number.isFinite(speed.gflops)) throw new RangeError(`the GEMM rate must be positive, got ${speed.gflops} GFLOP/s`);
  const rate = speed.gflops * 1e9;
  const sync = Math.max(0, speed.syncSeconds);
  const f = work.flops;
  return {
    flops: {
      calibrationLinears: f.calibrationLinears / EFFICIENCY.linears / rate,
      calibrationAttention: f.calibrationAttention / EFFICIENCY.attention / rate,
      hessian: f.hessian / EFFICIENCY.hessian / rate,
      inverse: f.inverse / EFFICIENCY.inverse / rate,
      sweep: f.sweep / EFFICIENCY.sweep / rate,
      outputError: f.outputError / EFFICIENCY.outputError / rate,
      evaluationLinears: f.evaluationLinears / EFFICIENCY.linears / rate,
      evaluationAttention: f.evaluationAttention / EFFICIENCY.attention / rate,
    },
    syncs: { quantization: work.syncs.quantization * sync, evaluation: work.syncs.evaluation * sync },
    linears: speed.linear
      ? work.linears.count * Math.max(0, speed.linear.seconds) + work.linears.steps * Math.max(0, speed.linear.stepSeconds)
      : work.linears.count * SYNCS_PER_LINEAR * sync,
  };
}

/** The work in seconds on an adapter of the given speed (workSeconds, summed by phase). Throws a RangeError on a non-positive rate. */
export function estimateTime(work: RunWork, speed: AdapterSpeed): TimeEstimate {
  const { flops: s, syncs, linears } = workSeconds(work, speed);
  const quantization = s.calibrationLinears + s.calibrationAttention + s.hessian + s.inverse + s.sweep + s.outputError + syncs.quantization + linears;
  const evaluation = s.evaluationLinears + s.evaluationAttention + syncs.evaluation;
  return { quantization, evaluation, total: quantization + evaluation };
}

/** Windows of `seqlen` tokens in each text of `tokens[i]` tokens, each capped at `limit` (null: all). */
export function evaluationWindowCounts(tokens: readonly number[], seqlen: number, limit: number | null): number[] {
  return tokens.map((t) => Math.min(Math.floor(t / seqlen), limit ?? Infinity));
}

/**
 * The estimate of a run of `size` (calibration windows and length, true-sequential) whose
 * evaluation scores at most `limit` windows (null: all) of each text of `evalTokens[i]` tokens:
 * runWork and estimateTime on the windows evaluationWindowCounts gives. What the studio's plan,
 * its default sizes (suggestRunSize) and the CLI's plan all estimate. Throws as runWork and
 * estimateTime do.
 */
export function estimateRunTime(
  shape: ModelShape,
  speed: AdapterSpeed,
  size: Omit<RunSize, 'evalWindows'>,
  evalTokens: readonly number[],
  limit: number | null,
): TimeEstimate {
  const evalWindows = evaluationWindowCounts(evalTokens, size.seqlen, limit).reduce((s, n) => s + n, 0);
  return estimateTime(runWork(shape, { ...size, evalWindows }), speed);
}

/** What suggestRunSize chooses: calibration windows and length, and evaluation windows per text (null: all). */
export interface SuggestedSize {
  nsamples: number;
  seqlen: number;
  evalWindows: number | null;
  estimate: TimeEstimate;
}

const SEQLENS = [2048, 1024, 512, 256, 128, 64, 32];
const NSAMPLES = [128, 64, 32, 16, 8, 4];
const EVAL_LIMITS = [null, 256, 128, 64, 32, 16, 8, 4, 2];
/** Longest window the suggestions start from: longer ones cost attention time and rarely change GPTQ's result. */
const PREFERRED_SEQLEN = 512;
/** Share of the target the calibration and quantization may take; evaluation gets the rest. */
const QUANTIZATION_SHARE = 0.6;

/**
 * Run sizes whose estimated time is about `targetSeconds` on this adapter: the most calibration
 * tokens (longest windows first, up to 512 or the model's context) whose quantization fits in 60 %
 * of the target, then the most evaluation windows per text that keep the total within it. When
 * even the smallest sizes take longer, the smallest are returned (the estimate says how long).
 *
 * @param maxSeqlen     the model's context (windows are at most this long)
 * @param evalTokens    tokens of each evaluation text (empty when none is chosen yet: evaluation is then not counted)
 */
export function suggestRunSize(
  shape: ModelShape,
  speed: AdapterSpeed,
  opts: { maxSeqlen: number; trueSequential: boolean; evalTokens: readonly number[]; targetSeconds?: number },
): SuggestedSize {
  const target = opts.targetSeconds ?? 60;
  const top = Math.min(opts.maxSeqlen, PREFERRED_SEQLEN);
  const seqlens = [top, ...SEQLENS.filter((s) => s < top)];
  const candidates: { nsamples: number; seqlen: number }[] = [];
  for (const seqlen of seqlens) for (const nsamples of NSAMPLES) candidates.push({ nsamples, seqlen });
  // Most tokens first; at equal tokens the longer window.
  candidates.sort((a, b) => b.nsamples * b.seqlen - a.nsamples * a.seqlen || b.seqlen - a.seqlen);
  const time = (nsamples: number, seqlen: number, limit: number | null) =>
    estimateRunTime(shape, speed, { nsamples, seqlen, trueSequential: opts.trueSequential }, opts.evalTokens, limit);
  const smallest = candidates[candidates.length - 1];
  const calib = candidates.find((c) => time(c.nsamples, c.seqlen, 0).quantization <= QUANTIZATION_SHARE * target) ?? smallest;
  for (const limit of EVAL_LIMITS) {
    const estimate = time(calib.nsamples, calib.seqlen, limit);
    if (estimate.total <= target) return { ...calib, evalWindows: limit, estimate };
  }
  const last = EVAL_LIMITS[EVAL_LIMITS.length - 1];
  return { ...calib, evalWindows: last, estimate: time(calib.nsamples, calib.seqlen, last) };
}

/** Where a run stands, for timeLeft. */
export interface RunClock {
  /** Seconds since the run started. */
  elapsed: number;
  stage: RunStage | null;
  /** The engine's own estimate of the quantization left (from the linears' cost), once a linear has finished. */
  quantizationLeft: number | null;
  /** When the evaluation started (seconds since the run started), and window-passes done of all (windows × 3 models). */
  evaluationStart: number | null;
  evaluationDone: number;
  evaluationTotal: number;
}

/**
 * Seconds left of the whole run, quantization and evaluation. Before any measurement it is the
 * estimate less the time spent; during quantization the engine's figure plus the evaluation
 * estimate scaled by how the quantization's own estimate turned out; during evaluation the
 * windows left at the pace measured so far. Null when unknown (no estimate, or one that has run
 * out before the work it covers was measured): never "0 s" while work remains.
 */
export function timeLeft(estimate: TimeEstimate | null, c: RunClock): number | null {
  if (c.stage === 'evaluation' && c.evaluationStart !== null) {
    const spent = c.elapsed - c.evaluationStart;
    const left = Math.max(0, c.evaluationTotal - c.evaluationDone);
    if (c.evaluationDone > 0) return (spent / c.evaluationDone) * left;
    if (!estimate) return null;
    const scale = estimate.quantization > 0 ? clampScale(c.evaluationStart / estimate.quantization) : 1;
    return positiveOrUnknown(estimate.evaluation * scale - spent);
  }
  if (c.quantizationLeft !== null) {
    if (!estimate) return null;
    const scale = estimate.quantization > 0 ? clampScale((c.elapsed + c.quantizationLeft) / estimate.quantization) : 1;
    return c.quantizationLeft + estimate.evaluation * scale;
  }
  return estimate ? positiveOrUnknown(estimate.total - c.elapsed) : null;
}

/** An estimate that has run out says nothing about the work still to do: unknown, not 0. */
function positiveOrUnknown(seconds: number): number | null {
  return seconds > 0 ? seconds : null;
}

/** How far a measured/estimated ratio is trusted when it scales the rest of the estimate. */
function clampScale(x: number): number {
  return Math.min(10, Math.max(0.1, Number.isFinite(x) ? x : 1));
}
