/** Group bookkeeping shared by GPTQ and RTN: AutoGPTQ's g_idx and the [G, rows] parameter layout. */
import type { QuantParams } from './quantizer';

/** Columns per group; groupSize −1 means the whole row. */
export function effectiveGroupSize(cols: number, groupSize: number): number {
  return groupSize === -1 ? cols : groupSize;
}

/**
 * AutoGPTQ g_idx [cols] for original column c:
 * act-order without static groups → invperm[c] // gs (groups are consecutive in permuted order);
 * otherwise c // gs.
 */
export function groupIndex(
  cols: number,
  groupSize: number,
  perm: Int32Array | null,
  staticGroups: boolean,
): Int32Array {
  const gs = effectiveGroupSize(cols, groupSize);
  const gIdx = new Int32Array(cols);
  if (perm && !staticGroups) {
    for (let j = 0; j < cols; j++) gIdx[perm[j]] = Math.floor(j / gs);
  } else {
    for (let c = 0; c < cols; c++) gIdx[c] = Math.floor(c / gs);
  }
  return gIdx;
}

/** Packs per-group params into scales [G, rows] (f64) and zeros [G, rows] (u8). */
export function packGroupParams(
  groups: QuantParams[],
  rows: number,
): { scales: Float64Array; zeros: Uint8Array } {
  const scales = new Float64Array(groups.length * rows);
  const zeros = new Uint8Array(groups.length * rows);
  groups.forEach((p, g) => {
    scales.set(p.scale, g * rows);
    for (let r = 0; r < rows; r++) zeros[g * rows + r] = p.zero[r];
  });
  return { scales, zeros };
}
