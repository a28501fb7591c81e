import { describe, expect, it } from 'vitest';
import { gptqReference } from '../gptq-reference';
import { maxQ } from '../quantizer';
import { seededRandom } from '../random';
import { gridLevels, gridParams, NOTES_GRID, type LessonGrid } from './grid';
import { allGridPoints, analyzeToyRow, NOTES_TOY_ROW, squaredOutputError, TOY_PERC_DAMP, toyHessian, type ToyRow } from './toy-row';
import { gptqTrace } from './trace';

const near = (x: number, y: number, tol = 1e-12) => expect(Math.abs(x - y)).toBeLessThan(tol);

describe("lesson 1, the notes' example: W = [0.80, −0.40], x1 = [2, 1], x2 = [1, 3], 2 bits, step 0.5", () => {
  const a = analyzeToyRow(NOTES_TOY_ROW);

  it('the grid is −0.5, 0, 0.5, 1.0', () => {
    expect(gridLevels(NOTES_GRID)).toEqual([-0.5, 0, 0.5, 1]);
  });

  it('original outputs are 1.20 and −0.40', () => {
    near(a.target[0], 1.2);
    near(a.target[1], -0.4);
  });

  it('RTN picks [1.0, −0.5]: outputs 1.50, −0.50, errors 0.30, 0.10, squared sum 0.10', () => {
    expect(a.rtn.w).toEqual([1, -0.5]);
    near(a.rtn.outputs[0], 1.5);
    near(a.rtn.outputs[1], -0.5);
    near(a.rtn.errors[0], 0.3);
    near(a.rtn.errors[1], 0.1);
    near(a.rtn.squaredSum, 0.1);
  });

  it('[0.5, −0.5] gives outputs 0.5, −1.0 and errors 0.70, 0.60 (squared sum 0.85)', () => {
    expect(a.candidate.w).toEqual([0.5, -0.5]);
    near(a.candidate.outputs[0], 0.5);
    near(a.candidate.outputs[1], -1);
    near(a.candidate.errors[0], 0.7);
    near(a.candidate.errors[1], 0.6);
    near(a.candidate.squaredSum, 0.85);
  });

  it('brute force over all 16 grid points finds [1.0, −0.5] best, and GPTQ lands there too', () => {
    expect(a.allPoints).toHaveLength(16);
    expect(a.best.w).toEqual([1, -0.5]);
    expect(a.allPoints[0].w).toEqual([1, -0.5]);
    for (const p of a.allPoints) expect(p.squaredSum).toBeGreaterThanOrEqual(a.best.squaredSum);
    expect(a.gptq.w).toEqual([1, -0.5]);
  });

  it('H = 2·XᵀX = [[10, 10], [10, 20]]', () => {
    expect(Array.from(a.H)).toEqual([10, 10, 10, 20]);
  });

  it("GPTQ's path: w1 0.80 → 1.00, w2 compensated −0.40 → about −0.50, then rounded to −0.50", () => {
    const [s1, s2] = a.gptqSteps;
    expect(s1.column).toBe(0);
    expect(s1.q).toBe(1);
    near(s1.err, -0.2);
    // The compensation is −(w1 − q1)·Hinv[0,1]/Hinv[0,0] on the damped H (H + 1%·mean diag·I).
    const shift = -s1.err * (a.Hinv[1] / a.Hinv[0]);
    near(s1.shift[1], shift, 1e-12);
    near(s1.after[1], -0.4 + shift, 1e-12);
    near(s1.after[1], -0.5, 2e-3); // undamped it would be exactly −0.5: −0.2·(−10/20)… = −0.1
    expect(s2.q).toBe(-0.5);
    expect(a.path).toEqual([[0.8, -0.4], s1.after, s2.after]);
    expect(s2.after).toEqual([1, -0.5]);
  });

  it('the damping is the reference default, 1% of the mean diagonal of H', () => {
    expect(TOY_PERC_DAMP).toBe(0.01);
    near(a.damp, 0.01 * 15);
  });
});

/**
 * gptqReference finds its grid on the row itself (findParams). To make it use the lesson's grid,
 * two dead input columns (inputs always 0) carry the grid's lowest and highest points: findParams
 * (asymmetric) then gives scale = step and zero = the grid's zero, and dead columns are zeroed and
 * decoupled from the live ones, so the live columns see exactly the lesson's problem. Dead columns
 * do change mean(diag H), so this comparison runs without damping.
 */
function referenceOnLessonGrid(w: number[], inputs: number[][], grid: LessonGrid): number[] {
  const lo = grid.step * -grid.zero;
  const hi = grid.step * (maxQ(grid.bits) - grid.zero);
  const H2 = toyHessian(inputs, 2);
  const H = new Float64Array(16); // [4, 4]: the live 2×2 block, zeros elsewhere
  H.set(H2.subarray(0, 2), 0);
  H.set(H2.subarray(2, 4), 4);
  const ref = gptqReference(Float64Array.from([w[0], w[1], lo, hi]), H, 1, 4, { bits: grid.bits, sym: false, percDamp: 0, blockSize: 2 });
  expect(ref.deadColumns).toEqual([2, 3]);
  expect(ref.scales[0]).toBe(grid.step);
  expect(ref.zeros[0]).toBe(grid.zero);
  return [ref.Q[0], ref.Q[1]];
}

describe("lesson 1: GPTQ's path ends where gptqReference ends for the same 1-row layer", () => {
  it("the notes' example, on the lesson's grid, undamped", () => {
    const t = NOTES_TOY_ROW;
    const trace = gptqTrace(Float64Array.from(t.w), toyHessian(t.inputs, 2), 1, 2, {
      bits: t.grid.bits,
      percDamp: 0,
      params: gridParams(t.grid, 1),
    });
    expect(Array.from(trace.Q)).toEqual(referenceOnLessonGrid(t.w, t.inputs, t.grid));
    expect(Array.from(trace.Q)).toEqual([1, -0.5]);
  });

  it('300 random rows, inputs and grids, undamped, on the lesson grid', () => {
    const rand = seededRandom(11);
    let differsFromRtn = 0;
    for (let n = 0; n < 300; n++) {
      const bits = 2 + Math.floor(rand() * 3);
      const grid: LessonGrid = { bits, step: [0.25, 0.5, 1][Math.floor(rand() * 3)], zero: Math.floor(rand() * (maxQ(bits) + 1)) };
      const lo = grid.step * -grid.zero;
      const hi = grid.step * (maxQ(bits) - grid.zero);
      const w = [lo + rand() * (hi - lo), lo + rand() * (hi - lo)];
      const inputs = Array.from({ length: 2 + Math.floor(rand() * 3) }, () => [Math.round(8 * rand() - 4), Math.round(8 * rand() - 4)]);
      const H = toyHessian(inputs, 2);
      if (H[0] * H[3] - H[1] * H[2] < 1e-9) continue; // singular without damping
      const trace = gptqTrace(Float64Array.from(w), H, 1, 2, { bits, percDamp: 0, params: gridParams(grid, 1) });
      const ref = referenceOnLessonGrid(w, inputs, grid);
      near(trace.Q[0], ref[0]);
      near(trace.Q[1], ref[1]);
      const a = analyzeToyRow({ w, inputs, grid, candidate: [lo, lo] });
      if (a.gptq.w[1] !== a.rtn.w[1]) differsFromRtn++;
    }
    expect(differsFromRtn).toBeGreaterThan(20); // the comparison covers cases where GPTQ moves w2
  });

  it('with the reference default damping, where the lesson grid is the grid findParams finds', () => {
    // W = [0.9, −0.6]: asymmetric 2-bit range [−0.6, 0.9] → scale 0.5, zero round(1.2) = 1.
    const t: ToyRow = { ...NOTES_TOY_ROW, w: [0.9, -0.6] };
    const ref = gptqReference(Float64Array.from(t.w), toyHessian(t.inputs, 2), 1, 2, { bits: 2, sym: false, blockSize: 2 });
    expect(ref.scales[0]).toBe(0.5);
    expect(ref.zeros[0]).toBe(1);
    expect(ref.percDampUsed).toBe(TOY_PERC_DAMP);
    const a = analyzeToyRow(t);
    expect(a.gptq.w).toEqual(Array.from(ref.Q));
    expect(a.path[2]).toEqual(Array.from(ref.Q));
  });

  it('with damping, on 200 random rows, given the grid the reference finds', () => {
    const rand = seededRandom(5);
    for (let n = 0; n < 200; n++) {
      const w = [2 * rand() - 1, 2 * rand() - 1];
      const inputs = Array.from({ length: 1 + Math.floor(rand() * 4) }, () => [4 * rand() - 2, 4 * rand() - 2]);
      const H = toyHessian(inputs, 2);
      for (const sym of [true, false]) {
        const ref = gptqReference(Float64Array.from(w), H, 1, 2, { bits: 2, sym, blockSize: 2 });
        const trace = gptqTrace(Float64Array.from(w), H, 1, 2, {
          bits: 2,
          percDamp: TOY_PERC_DAMP,
          params: { scale: Float64Array.of(ref.scales[0]), zero: Float64Array.of(ref.zeros[0]) },
        });
        expect(Array.from(trace.codes)).toEqual(Array.from(ref.codes));
        near(trace.Q[0], ref.Q[0]);
        near(trace.Q[1], ref.Q[1]);
      }
    }
  });
});

describe('lesson 1 helpers', () => {
  it('allGridPoints lists levels^cols points in grid order', () => {
    expect(allGridPoints([0, 1], 2)).toEqual([
      [0, 0],
      [0, 1],
      [1, 0],
      [1, 1],
    ]);
  });

  it('the squared output error is ½·dᵀHd', () => {
    const t = NOTES_TOY_ROW;
    const H = toyHessian(t.inputs, 2);
    const d = [0.8 - 0.5, -0.4 + 0.5];
    const quad = 0.5 * (d[0] * (H[0] * d[0] + H[1] * d[1]) + d[1] * (H[2] * d[0] + H[3] * d[1]));
    near(squaredOutputError(t.w, [0.5, -0.5], t.inputs), quad);
  });

  it('editing a weight moves every number: w1 = 0.9 on the notes’ inputs', () => {
    const a = analyzeToyRow({ ...NOTES_TOY_ROW, w: [0.9, -0.4] });
    near(a.target[0], 1.4);
    near(a.target[1], -0.3);
    near(a.rtn.squaredSum, (1.4 - 1.5) ** 2 + (-0.3 + 0.5) ** 2);
  });

  it('one input still works: damping makes the singular H invertible', () => {
    const a = analyzeToyRow({ ...NOTES_TOY_ROW, inputs: [[2, 1]] });
    expect(a.gptq.w.every(Number.isFinite)).toBe(true);
    expect(a.gptq.squaredSum).toBeLessThanOrEqual(a.rtn.squaredSum + 1e-12);
  });

  it('rejects inputs of the wrong length and an empty input list', () => {
    expect(() => analyzeToyRow({ ...NOTES_TOY_ROW, inputs: [] })).toThrow(RangeError);
    expect(() => analyzeToyRow({ ...NOTES_TOY_ROW, inputs: [[1, 2, 3]] })).toThrow(RangeError);
    expect(() => analyzeToyRow({ ...NOTES_TOY_ROW, grid: { bits: 2, step: 0.5, zero: 4 } })).toThrow(RangeError);
  });
});
