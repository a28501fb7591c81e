import { describe, expect, it } from 'vitest';
import { gridLevels } from '../../../core/lessons/grid';
import { initialToyRow, MAX_INPUTS, toyReducer } from './state';
import { analyzeToyRow } from '../../../core/lessons/toy-row';

describe("lesson 1's state", () => {
  it("opens where GPTQ visibly beats rounding, and goes back to the notes' example", () => {
    const s = initialToyRow();
    expect(s.w).toEqual([0.7, -0.3]);
    expect(s.inputs).toEqual([[2, 1], [1, 3]]);
    expect(s.grid).toEqual({ bits: 2, step: 0.5, zero: 1 });
    const a = analyzeToyRow(s);
    expect(a.rtn.w).toEqual([0.5, -0.5]);
    expect(a.gptq.w).toEqual([0.5, 0]);
    expect(a.gptq.squaredSum).toBeLessThan(a.rtn.squaredSum - 0.4); // 0.50 against 1.00
    const notes = toyReducer(s, { type: 'reset' });
    expect(notes.w).toEqual([0.8, -0.4]);
    expect(toyReducer(notes, { type: 'opening' }).w).toEqual([0.7, -0.3]);
  });

  it('nudges and drags land on the 0.01 lattice', () => {
    let s = toyReducer(initialToyRow(), { type: 'nudge', dw1: 0.01, dw2: -0.1 });
    expect(s.w).toEqual([0.71, -0.4]);
    s = toyReducer(s, { type: 'set-w', w: [0.123456, -0.98765] });
    expect(s.w).toEqual([0.12, -0.99]);
  });

  it('keeps between 1 and MAX_INPUTS inputs', () => {
    let s = initialToyRow();
    s = toyReducer(s, { type: 'remove-input', input: 0 });
    expect(s.inputs).toEqual([[1, 3]]);
    expect(toyReducer(s, { type: 'remove-input', input: 0 }).inputs).toEqual([[1, 3]]);
    for (let i = 0; i < 10; i++) s = toyReducer(s, { type: 'add-input' });
    expect(s.inputs).toHaveLength(MAX_INPUTS);
    s = toyReducer(s, { type: 'set-input', input: 0, index: 1, value: 7 });
    expect(s.inputs[0]).toEqual([1, 7]);
  });

  it('the pick stays a grid point when the grid changes', () => {
    let s = initialToyRow();
    for (const a of [
      { type: 'set-step', step: 0.05 },
      { type: 'set-step', step: 0.35 },
      { type: 'set-bits', bits: 4 },
      { type: 'set-zero', zero: 9 },
      { type: 'set-bits', bits: 2 },
    ] as const) {
      s = toyReducer(s, a);
      for (const c of s.candidate) expect(gridLevels(s.grid)).toContain(c);
    }
    expect(s.grid.zero).toBe(3);
  });
});
