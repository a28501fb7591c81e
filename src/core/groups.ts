/** Group bookkeeping shared by GPTQ and RTN: AutoGPTQ's g_idx and the [G, rows] parameter layout. */
import type { QuantParams } from './quantizer';

/** Columns per group; groupSize −1 means the whole row. */
export function effectiveGroupSize(cols: number, groupSize: number): number {
  return groupSize === -1 ? cols : groupSize;
}

/** How one surface names the static-groups setting, the one-group-per-row size, and what to do instead. */
export interface StaticGroupsWords {
  /** e.g. "--static-groups" (CLI), "+static" (a strategy), "the static groups option" (studio). */
  setting: string;
  /** e.g. "--group-size -1 (one grid per row, the default)". */
  perRow: string;
  /** What to do instead, e.g. "give --group-size G or drop --static-groups". */
  fix: string;
}

/**
 * Why static groups are refused with this group size, or null when they are not: static groups
 * fix each group's grid on the weights before GPTQ updates them, and with groupSize −1 (one grid
 * per row) there are no groups, so the setting would change nothing. The one rule the CLI
 * (--static-groups), the strategy syntax (+static) and the studio's checkbox apply, each in its
 * own words. Pure.
 */
export function staticGroupsRefusal(s: { groupSize: number; staticGroups: boolean }, words: StaticGroupsWords): string | null {
  if (!(s.staticGroups && s.groupSize === -1)) return null;
  return `${words.setting} fixes each group's grid before GPTQ updates the weights, but with ${words.perRow} there are no groups, ` +
    `so it would change nothing: ${words.fix}`;
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
