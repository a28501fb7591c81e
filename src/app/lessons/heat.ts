/**
 * Heatmaps as prepared data: a value, its text and its colour per cell. Colour runs from blue
 * (negative) through white (0) to red (positive), scaled by `range` = the largest |value| shown.
 */
import { fixedFor } from './fmt';

export interface HeatCell {
  value: number;
  text: string;
  background: string;
  /** Dark text on light cells, light text on dark cells. */
  dark: boolean;
  /** Left empty (below the diagonal of a triangular factor). */
  blank?: boolean;
}

export interface HeatmapData {
  caption: string;
  rowLabels: string[];
  colLabels: string[];
  /** [rows][cols] */
  cells: HeatCell[][];
  /** Per-column state, to outline the column being quantized and shade the done ones. */
  colState?: ('done' | 'current' | 'todo')[];
  /** A row to outline (U's row that the current step pushes along). */
  markRow?: number;
}

const NEG = [37, 99, 171];
const POS = [192, 57, 43];

export function heatColour(value: number, range: number): { background: string; dark: boolean } {
  const t = range > 0 ? Math.max(-1, Math.min(1, value / range)) : 0;
  const c = t < 0 ? NEG : POS;
  const a = Math.abs(t);
  const mix = (k: number) => Math.round(255 + (c[k] - 255) * a);
  return { background: `rgb(${mix(0)}, ${mix(1)}, ${mix(2)})`, dark: a < 0.55 };
}

export function maxAbs(...arrays: ArrayLike<number>[]): number {
  let m = 0;
  for (const A of arrays) for (let i = 0; i < A.length; i++) m = Math.max(m, Math.abs(A[i]));
  return m;
}

export function heatmap(
  M: ArrayLike<number>,
  rows: number,
  cols: number,
  o: { caption: string; rowLabels: string[]; colLabels: string[]; range?: number; blankBelowDiagonal?: boolean },
): HeatmapData {
  const range = o.range ?? maxAbs(M);
  // One format per heatmap, from its range: every cell with the same decimals.
  const text = fixedFor(range);
  const cells: HeatCell[][] = [];
  for (let r = 0; r < rows; r++) {
    const row: HeatCell[] = [];
    for (let c = 0; c < cols; c++) {
      const value = M[r * cols + c];
      const blank = o.blankBelowDiagonal && c < r;
      row.push({ value, text: blank ? '' : text(value), ...heatColour(blank ? 0 : value, range), ...(blank ? { blank } : {}) });
    }
    cells.push(row);
  }
  return { caption: o.caption, rowLabels: o.rowLabels, colLabels: o.colLabels, cells };
}
