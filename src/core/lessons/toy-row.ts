/**
 * Lesson 1: one row of weights w [cols] and a few calibration inputs x_t [cols] on a fixed grid.
 * Candidates are judged by Σ_t (w·x_t − ŵ·x_t)², the squared output error, which equals
 * dᵀ(XᵀX)d = ½·dᵀHd for d = w − ŵ with H = (2/N)·XᵀX (X: [tokens, cols]) and N = 1: the
 * reference's H when the inputs are one sequence (N counts sequences, not tokens). RTN rounds each weight alone; GPTQ is gptqTrace on the 1-row layer.
 */
import { HessianAccumulator } from '../hessian';
import { bruteForceBest, candidateErrors, rowOutputs, type CandidateErrors } from '../worked-examples';
import { defaultQuantOptions } from '../types';
import { gridLevels, gridParams, NOTES_GRID, roundOnGrid, validateGrid, type LessonGrid } from './grid';
import { gptqTrace } from './trace';

export interface ToyRow {
  /** The row's weights [cols]. */
  w: number[];
  /** Calibration inputs, each [cols]. */
  inputs: number[][];
  grid: LessonGrid;
  /** A grid point the learner picked, to compare [cols]. */
  candidate: number[];
}

/** The notes' example: W = [0.80, −0.40], x1 = [2, 1], x2 = [1, 3], 2 bits, step 0.5. */
export const NOTES_TOY_ROW: ToyRow = {
  w: [0.8, -0.4],
  inputs: [
    [2, 1],
    [1, 3],
  ],
  grid: NOTES_GRID,
  candidate: [0.5, -0.5],
};

/**
 * Lesson 1's opening row: the notes' inputs and grid with W = [0.70, −0.30], where rounding each
 * weight alone (RTN: [0.5, −0.5], squared error 1.00) and GPTQ ([0.5, 0], 0.50) visibly differ,
 * and the best grid point ([1, −0.5], 0.25) differs from both. In the notes' own example all three coincide.
 */
export const OPENING_TOY_ROW: ToyRow = { ...NOTES_TOY_ROW, w: [0.7, -0.3] };

/** GPTQ's damping in the lessons: the reference's default fraction of mean(diag H). */
export const TOY_PERC_DAMP = defaultQuantOptions.percDamp;

export interface ScoredCandidate extends CandidateErrors {
  /** The quantized row ŵ [cols]. */
  w: number[];
}

/** One step of GPTQ on the row: quantize weight `column`, then shift the later weights. */
export interface ToyGptqStep {
  column: number;
  /** The weight as GPTQ met it (after earlier compensation). */
  before: number;
  /** Its grid value. */
  q: number;
  /** before − q */
  err: number;
  /** How much each later weight moved to compensate [cols] (0 for this and earlier columns). */
  shift: number[];
  /** The whole row after this step [cols]. */
  after: number[];
}

export interface ToyRowAnalysis {
  /** Original outputs w·x_t. */
  target: number[];
  /** H = (2/N)·XᵀX with N = 1 sequence [cols, cols] (undamped: the shape of the error). */
  H: Float64Array;
  /** H + damp·I, its inverse (what GPTQ compensates with), and damp itself. */
  Hd: Float64Array;
  Hinv: Float64Array;
  damp: number;
  levels: number[];
  rtn: ScoredCandidate;
  gptq: ScoredCandidate;
  best: ScoredCandidate;
  candidate: ScoredCandidate;
  /** GPTQ's route: the row before any step, then after each step. */
  path: number[][];
  gptqSteps: ToyGptqStep[];
  /** Every grid point with its squared output error, best first (ties in grid order). */
  allPoints: ScoredCandidate[];
}

export function validateToyRow(t: ToyRow): void {
  validateGrid(t.grid);
  const cols = t.w.length;
  if (cols < 1) throw new RangeError('the row needs at least one weight');
  if (t.inputs.length < 1) throw new RangeError('at least one calibration input is needed');
  for (const v of [t.w, t.candidate, ...t.inputs]) {
    if (v.length !== cols) throw new RangeError(`every vector needs ${cols} entries`);
    if (!v.every(Number.isFinite)) throw new RangeError('every entry must be a finite number');
  }
}

/** X as [tokens, cols] row-major. */
export function inputMatrix(inputs: readonly (readonly number[])[]): Float64Array {
  return Float64Array.from(inputs.flat());
}

/** H = (2/N)·XᵀX through the reference's accumulator (one batch of N = 1 sequence). */
export function toyHessian(inputs: readonly (readonly number[])[], cols: number): Float64Array {
  const acc = new HessianAccumulator(cols);
  acc.addBatch(inputMatrix(inputs), inputs.length, 1);
  return acc.H;
}

function scored(t: ToyRow, candidate: readonly number[]): ScoredCandidate {
  return { w: candidate.slice(), ...candidateErrors(t.w, candidate, t.inputs) };
}

export function analyzeToyRow(t: ToyRow): ToyRowAnalysis {
  validateToyRow(t);
  const cols = t.w.length;
  const H = toyHessian(t.inputs, cols);
  const trace = gptqTrace(Float64Array.from(t.w), H, 1, cols, {
    bits: t.grid.bits,
    actOrder: false,
    percDamp: TOY_PERC_DAMP,
    params: gridParams(t.grid, 1),
  });
  const levels = gridLevels(t.grid);
  const gptqSteps = trace.steps.map((s) => ({
    column: s.column,
    before: s.w[0],
    q: s.q[0],
    err: s.err[0],
    shift: Array.from(s.update),
    after: Array.from(s.W),
  }));
  const allPoints = allGridPoints(levels, cols).map((p) => scored(t, p));
  allPoints.sort((a, b) => a.squaredSum - b.squaredSum);
  return {
    target: rowOutputs(t.w, t.inputs),
    H,
    Hd: trace.Hd,
    Hinv: trace.Hinv,
    damp: trace.damp,
    levels,
    rtn: scored(
      t,
      t.w.map((wi) => roundOnGrid(wi, t.grid)),
    ),
    gptq: scored(t, Array.from(trace.Q)),
    best: scored(t, bruteForceBest(t.w, t.inputs, levels).candidate),
    candidate: scored(t, t.candidate),
    path: [Array.from(trace.start), ...gptqSteps.map((s) => s.after)],
    gptqSteps,
    allPoints,
  };
}

/** Every row with entries from `levels` [cols], in lexicographic grid order. */
export function allGridPoints(levels: readonly number[], cols: number): number[][] {
  let points: number[][] = [[]];
  for (let c = 0; c < cols; c++) points = points.flatMap((p) => levels.map((l) => [...p, l]));
  return points;
}

/** Σ_t ((w − ŵ)·x_t)² for any ŵ: the squared output error the contours of lesson 1 trace. */
export function squaredOutputError(w: readonly number[], what: readonly number[], inputs: readonly (readonly number[])[]): number {
  return candidateErrors(w, what, inputs).squaredSum;
}
