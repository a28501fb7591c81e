/** Agreement between a GPU quantization and the f64 reference, for tests and the e2e check. */
import type { QuantResult } from '../core/types';

export interface QuantAgreement {
  /** Entries whose integer codes differ. */
  codeMismatches: number;
  /** Fraction of entries whose codes differ. */
  codeMismatchRate: number;
  /** Largest |Δcode| (1 when every difference is a neighbouring grid point). */
  maxCodeStep: number;
  /** Rows holding at least one differing code (a flip feeds back into the rest of its row). */
  rowsDiverged: number;
  /** Largest |ΔQ| over the rows where every code agrees, in units of that row's group scale. */
  maxQErrorInScales: number;
  /** Largest relative difference of the scales. */
  maxScaleRelError: number;
  zeroMismatches: number;
  gIdxEqual: boolean;
}

export function compareQuant(gpu: QuantResult, ref: QuantResult): QuantAgreement {
  const { rows, cols } = ref;
  let codeMismatches = 0;
  let maxCodeStep = 0;
  let rowsDiverged = 0;
  let maxQErrorInScales = 0;
  for (let r = 0; r < rows; r++) {
    let rowMismatches = 0;
    let rowQError = 0;
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      if (gpu.codes[i] !== ref.codes[i]) {
        rowMismatches++;
        maxCodeStep = Math.max(maxCodeStep, Math.abs(gpu.codes[i] - ref.codes[i]));
      }
      const scale = Math.abs(ref.scales[ref.gIdx[c] * rows + r]) || 1;
      rowQError = Math.max(rowQError, Math.abs(gpu.Q[i] - ref.Q[i]) / scale);
    }
    codeMismatches += rowMismatches;
    if (rowMismatches) rowsDiverged++;
    else maxQErrorInScales = Math.max(maxQErrorInScales, rowQError);
  }
  let maxScaleRelError = 0;
  let zeroMismatches = 0;
  for (let i = 0; i < ref.scales.length; i++) {
    maxScaleRelError = Math.max(maxScaleRelError, Math.abs(gpu.scales[i] - ref.scales[i]) / Math.abs(ref.scales[i]));
    if (gpu.zeros[i] !== ref.zeros[i]) zeroMismatches++;
  }
  return {
    codeMismatches,
    codeMismatchRate: codeMismatches / (rows * cols),
    maxCodeStep,
    rowsDiverged,
    maxQErrorInScales,
    maxScaleRelError,
    zeroMismatches,
    gIdxEqual: gpu.gIdx.length === ref.gIdx.length && gpu.gIdx.every((g, i) => g === ref.gIdx[i]),
  };
}
