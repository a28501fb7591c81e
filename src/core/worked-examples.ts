/**
 * The small maths of the GPTQ notes' worked examples: one row of weights w [cols] against a few
 * calibration inputs x_t [cols]; a candidate ŵ is judged by its outputs, not by its weights.
 */

/** y_t = w · x_t for each input. */
export function rowOutputs(w: readonly number[], inputs: readonly (readonly number[])[]): number[] {
  return inputs.map((x) => {
    if (x.length !== w.length) throw new RangeError(`input has ${x.length} entries, weights ${w.length}`);
    return x.reduce((s, xi, i) => s + w[i] * xi, 0);
  });
}

export interface CandidateErrors {
  /** ŵ · x_t */
  outputs: number[];
  /** |w · x_t − ŵ · x_t| */
  errors: number[];
  /** Σ_t (w · x_t − ŵ · x_t)² */
  squaredSum: number;
}

export function candidateErrors(
  w: readonly number[],
  candidate: readonly number[],
  inputs: readonly (readonly number[])[],
): CandidateErrors {
  const target = rowOutputs(w, inputs);
  const outputs = rowOutputs(candidate, inputs);
  const errors = outputs.map((y, t) => Math.abs(target[t] - y));
  return { outputs, errors, squaredSum: errors.reduce((s, e) => s + e * e, 0) };
}

/** Every candidate with entries from `grid`; the smallest squared output error wins (first on ties). */
export function bruteForceBest(
  w: readonly number[],
  inputs: readonly (readonly number[])[],
  grid: readonly number[],
): { candidate: number[]; squaredSum: number } {
  let best = { candidate: [] as number[], squaredSum: Infinity };
  const candidate = new Array<number>(w.length).fill(0);
  const visit = (i: number): void => {
    if (i === w.length) {
      const { squaredSum } = candidateErrors(w, candidate, inputs);
      if (squaredSum < best.squaredSum) best = { candidate: candidate.slice(), squaredSum };
      return;
    }
    for (const g of grid) {
      candidate[i] = g;
      visit(i + 1);
    }
  };
  visit(0);
  return best;
}

/** Nearest grid value to each weight (the first of two equally near ones). */
export function roundToGrid(w: readonly number[], grid: readonly number[]): number[] {
  return w.map((wi) => grid.reduce((b, g) => (Math.abs(g - wi) < Math.abs(b - wi) ? g : b), grid[0]));
}
