/**
 * Lesson 1's state and its reducer (pure: the component keeps it with useReducer). The state is
 * the row, the inputs, the grid and the learner's own pick; everything shown is derived from it
 * by src/core/lessons on every render.
 */
import { maxQ } from '../../../core/quantizer';
import { gridLevels } from '../../../core/lessons/grid';
import { NOTES_TOY_ROW, OPENING_TOY_ROW, type ToyRow } from '../../../core/lessons/toy-row';

/** At most this many calibration inputs (the table stays readable); at least one. */
export const MAX_INPUTS = 6;
/** Weights move on a 0.01 lattice when dragged or nudged; Shift + arrow moves 0.1. */
export const NUDGE = 0.01;
export const BIG_NUDGE = 0.1;
export const BITS_CHOICES = [2, 3, 4] as const;
export const STEP_RANGE = { min: 0.05, max: 2, step: 0.05 } as const;

export type ToyAction =
  | { type: 'set-w'; w: [number, number] }
  | { type: 'set-weight'; index: number; value: number }
  | { type: 'nudge'; dw1: number; dw2: number }
  | { type: 'set-input'; input: number; index: number; value: number }
  | { type: 'add-input' }
  | { type: 'remove-input'; input: number }
  | { type: 'set-bits'; bits: number }
  | { type: 'set-step'; step: number }
  | { type: 'set-zero'; zero: number }
  | { type: 'set-candidate'; index: number; value: number }
  | { type: 'pick'; candidate: number[] }
  | { type: 'reset' }
  | { type: 'opening' };

/** The lesson opens on a row where GPTQ visibly beats rounding (OPENING_TOY_ROW). */
export function initialToyRow(): ToyRow {
  return structuredClone(OPENING_TOY_ROW);
}

/** Rounds to the 0.01 lattice, so dragged and nudged weights read cleanly. */
export function onLattice(x: number): number {
  return Math.round(x / NUDGE) * NUDGE + 0; // + 0: no −0
}

/** The learner's pick moved to the nearest point of a changed grid. */
function snapCandidate(candidate: number[], levels: number[]): number[] {
  return candidate.map((c) => levels.reduce((b, l) => (Math.abs(l - c) < Math.abs(b - c) ? l : b), levels[0]));
}

export function toyReducer(s: ToyRow, a: ToyAction): ToyRow {
  switch (a.type) {
    case 'set-w':
      return { ...s, w: [onLattice(a.w[0]), onLattice(a.w[1])] };
    case 'set-weight':
      return { ...s, w: s.w.map((v, i) => (i === a.index ? a.value : v)) };
    case 'nudge':
      return { ...s, w: [onLattice(s.w[0] + a.dw1), onLattice(s.w[1] + a.dw2)] };
    case 'set-input':
      return { ...s, inputs: s.inputs.map((x, t) => (t === a.input ? x.map((v, i) => (i === a.index ? a.value : v)) : x)) };
    case 'add-input':
      return s.inputs.length >= MAX_INPUTS ? s : { ...s, inputs: [...s.inputs, [1, -1]] };
    case 'remove-input':
      return s.inputs.length <= 1 ? s : { ...s, inputs: s.inputs.filter((_, t) => t !== a.input) };
    case 'set-bits': {
      const grid = { ...s.grid, bits: a.bits, zero: Math.min(s.grid.zero, maxQ(a.bits)) };
      return { ...s, grid, candidate: snapCandidate(s.candidate, gridLevels(grid)) };
    }
    case 'set-step': {
      const grid = { ...s.grid, step: a.step };
      // the pick keeps its codes: step·(code − zero), computed as gridLevels computes it
      const candidate = s.candidate.map((c) => a.step * Math.round(c / s.grid.step) + 0);
      return { ...s, grid, candidate };
    }
    case 'set-zero': {
      const grid = { ...s.grid, zero: a.zero };
      return { ...s, grid, candidate: snapCandidate(s.candidate, gridLevels(grid)) };
    }
    case 'set-candidate':
      return { ...s, candidate: s.candidate.map((v, i) => (i === a.index ? a.value : v)) };
    case 'pick':
      return { ...s, candidate: a.candidate.slice() };
    case 'reset':
      return structuredClone(NOTES_TOY_ROW);
    case 'opening':
      return initialToyRow();
  }
}
