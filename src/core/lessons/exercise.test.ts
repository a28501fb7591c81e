import { describe, expect, it } from 'vitest';
import { gridLevels } from './grid';
import { ANSWER_TOLERANCE, checkExercise, NOTES_EXERCISE, parseAnswer, solveExercise } from './exercise';

describe("lesson 2, the notes' exercise: W = [1.1, −0.7], inputs [1, 2] and [3, 1]", () => {
  const s = solveExercise(NOTES_EXERCISE);

  it('original outputs are −0.30 and 2.60', () => {
    expect(s.target[0]).toBeCloseTo(-0.3, 12);
    expect(s.target[1]).toBeCloseTo(2.6, 12);
  });

  it('[1.0, −0.5]: errors 0.30, 0.10, squared sum 0.10; [1.0, −1.0]: errors 0.70, 0.60, squared sum 0.85', () => {
    const [a, b] = s.scores;
    expect(a.errors[0]).toBeCloseTo(0.3, 12);
    expect(a.errors[1]).toBeCloseTo(0.1, 12);
    expect(a.squaredSum).toBeCloseTo(0.1, 12);
    expect(b.errors[0]).toBeCloseTo(0.7, 12);
    expect(b.errors[1]).toBeCloseTo(0.6, 12);
    expect(b.squaredSum).toBeCloseTo(0.85, 12);
    expect(s.better).toBe(0);
  });

  it("GPTQ's own run lands on [1.0, −0.5]: w1 1.1 → 1.0 moves w2 from −0.7 to about −0.6", () => {
    for (const v of NOTES_EXERCISE.candidates.flat()) expect(gridLevels(NOTES_EXERCISE.grid)).toContain(v);
    expect(s.gptq).toEqual([1, -0.5]);
    expect(Math.abs(s.compensated - -0.6)).toBeLessThan(2e-3);
  });

  it('accepts the right sums (to two decimals) and pick, and rejects wrong ones', () => {
    expect(checkExercise({ sums: [0.1, 0.85], pick: 0 }, s).allRight).toBe(true);
    expect(checkExercise({ sums: [0.104, 0.846], pick: 0 }, s).allRight).toBe(true);
    const swapped = checkExercise({ sums: [0.85, 0.1], pick: 1 }, s);
    expect(swapped).toEqual({ sumsRight: [false, false], pickRight: false, allRight: false });
    expect(checkExercise({ sums: [0.1, 0.85], pick: 1 }, s).allRight).toBe(false);
    expect(checkExercise({ sums: [0.1, 0.85], pick: null }, s).allRight).toBe(false);
    expect(checkExercise({ sums: [NaN, 0.85], pick: 0 }, s).sumsRight).toEqual([false, true]);
    expect(checkExercise({ sums: [0.1 + 2 * ANSWER_TOLERANCE, 0.85], pick: 0 }, s).sumsRight[0]).toBe(false);
  });

  it('parses typed answers', () => {
    expect(parseAnswer('0.1')).toBe(0.1);
    expect(parseAnswer(' .85 ')).toBe(0.85);
    expect(parseAnswer('0,85')).toBe(0.85);
    expect(parseAnswer('')).toBeNaN();
    expect(parseAnswer('abc')).toBeNaN();
    expect(parseAnswer('1e3')).toBeNaN();
  });
});
