/**
 * Lesson 2: the notes' exercise. W = [1.1, −0.7], inputs [1, 2] and [3, 1]; two quantized
 * candidates. The learner works out each candidate's squared output error and picks one; the
 * answer is checked here against the numbers candidateErrors computes.
 */
import { candidateErrors, rowOutputs, type CandidateErrors } from '../worked-examples';
import { gridParams, type LessonGrid } from './grid';
import { gptqTrace } from './trace';
import { TOY_PERC_DAMP, toyHessian } from './toy-row';

export interface Exercise {
  w: number[];
  inputs: number[][];
  /** Exactly two candidates. */
  candidates: [number[], number[]];
  /** A grid holding both candidates, for GPTQ's own run on the row. */
  grid: LessonGrid;
}

export const NOTES_EXERCISE: Exercise = {
  w: [1.1, -0.7],
  inputs: [
    [1, 2],
    [3, 1],
  ],
  candidates: [
    [1.0, -0.5],
    [1.0, -1.0],
  ],
  // Both candidates need −1.0, −0.5 and 1.0: four steps of 0.5, so five points, so 3 bits.
  grid: { bits: 3, step: 0.5, zero: 2 },
};

/** How far a typed error sum may be from the computed one: answers to two decimals pass. */
export const ANSWER_TOLERANCE = 0.005;

export interface ExerciseSolution {
  target: number[];
  scores: [CandidateErrors, CandidateErrors];
  /** Index (0 or 1) of the candidate with the smaller squared output error. */
  better: 0 | 1;
  /** What GPTQ itself lands on for this row on `grid`, and where step 1 moved w2 to. */
  gptq: number[];
  compensated: number;
}

export function solveExercise(e: Exercise): ExerciseSolution {
  const scores: [CandidateErrors, CandidateErrors] = [
    candidateErrors(e.w, e.candidates[0], e.inputs),
    candidateErrors(e.w, e.candidates[1], e.inputs),
  ];
  const trace = gptqTrace(Float64Array.from(e.w), toyHessian(e.inputs, e.w.length), 1, e.w.length, {
    bits: e.grid.bits,
    percDamp: TOY_PERC_DAMP,
    params: gridParams(e.grid, 1),
  });
  return {
    target: rowOutputs(e.w, e.inputs),
    scores,
    better: scores[1].squaredSum < scores[0].squaredSum ? 1 : 0,
    gptq: Array.from(trace.Q),
    compensated: trace.steps[0].W[1],
  };
}

export interface ExerciseAnswer {
  /** The two squared-error sums as typed (NaN where not a number). */
  sums: [number, number];
  /** The candidate picked, or null. */
  pick: 0 | 1 | null;
}

export interface ExerciseVerdict {
  sumsRight: [boolean, boolean];
  pickRight: boolean;
  allRight: boolean;
}

export function checkExercise(answer: ExerciseAnswer, s: ExerciseSolution, tol = ANSWER_TOLERANCE): ExerciseVerdict {
  const sumsRight: [boolean, boolean] = [
    Math.abs(answer.sums[0] - s.scores[0].squaredSum) <= tol,
    Math.abs(answer.sums[1] - s.scores[1].squaredSum) <= tol,
  ];
  const pickRight = answer.pick === s.better;
  return { sumsRight, pickRight, allRight: sumsRight[0] && sumsRight[1] && pickRight };
}

/** "0.1", " 0,85 ", ".85" → numbers; anything else → NaN. */
export function parseAnswer(text: string): number {
  const t = text.trim().replace(',', '.');
  return t === '' || !/^[+-]?(\d+\.?\d*|\.\d+)$/.test(t) ? NaN : Number(t);
}
