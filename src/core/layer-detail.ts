/**
 * What the studio shows of one quantized layer besides its numbers: its Hessian downsampled for a
 * heatmap (mean |H| per cell, in the original or the act-order column order), diag(H), and the
 * distributions of the weight error W − Q of GPTQ and of RTN on shared bins.
 */

export interface HeatmapGrid {
  /** Cells per side (≤ the requested maximum). */
  size: number;
  /** Mean |H| over the columns and rows of each cell, [size, size] row-major. */
  values: Float32Array;
}

export interface ErrorHistogram {
  /** Bin edges [bins + 1], symmetric about 0. */
  edges: Float32Array;
  gptq: Uint32Array;
  rtn: Uint32Array;
}

export interface LayerDetail {
  /** Columns shown (the model's own; columns padded for the export are left out of everything here). */
  cols: number;
  hessian: HeatmapGrid;
  /** The same in act-order (columns and rows by decreasing diag(H)), or null without act-order. */
  hessianActOrder: HeatmapGrid | null;
  /** diag(H) [cols], in the original column order. */
  diag: Float32Array;
  /** The act-order: column indices [cols] in the order GPTQ quantized them, or null without act-order. */
  order: Int32Array | null;
  /** The rows and columns the export padded and the detail leaves out (0 when none). */
  paddedRows: number;
  paddedCols: number;
  errors: ErrorHistogram;
}

/**
 * |H| [n, n] averaged over cells of ⌈n / maxSize⌉ columns, rows/columns taken in `order` when
 * given; `ld` is H's row stride when only its leading n×n block is wanted.
 */
export function downsampleAbs(H: ArrayLike<number>, n: number, maxSize: number, order: ArrayLike<number> | null = null, ld = n): HeatmapGrid {
  const step = Math.ceil(n / maxSize);
  const size = Math.ceil(n / step);
  const sums = new Float64Array(size * size);
  const counts = new Float64Array(size * size);
  for (let i = 0; i < n; i++) {
    const r = order ? order[i] : i;
    const ci = Math.floor(i / step);
    for (let j = 0; j < n; j++) {
      const c = order ? order[j] : j;
      const cell = ci * size + Math.floor(j / step);
      sums[cell] += Math.abs(H[r * ld + c]);
      counts[cell] += 1;
    }
  }
  return { size, values: Float32Array.from(sums, (s, k) => s / counts[k]) };
}

/**
 * Histograms of W − Q for two quantizations of the same W, on `bins` shared bins over
 * ±max |W − Q|. `include(i)` (all when absent) picks the entries counted.
 */
export function errorHistogram(W: ArrayLike<number>, gptq: ArrayLike<number>, rtn: ArrayLike<number>, bins = 41, include?: (i: number) => boolean): ErrorHistogram {
  let max = 0;
  for (let i = 0; i < W.length; i++) if (!include || include(i)) max = Math.max(max, Math.abs(W[i] - gptq[i]), Math.abs(W[i] - rtn[i]));
  const limit = max > 0 ? max : 1;
  const edges = Float32Array.from({ length: bins + 1 }, (_, k) => -limit + (2 * limit * k) / bins);
  const bin = (e: number) => Math.min(bins - 1, Math.max(0, Math.floor(((e + limit) / (2 * limit)) * bins)));
  const g = new Uint32Array(bins);
  const r = new Uint32Array(bins);
  for (let i = 0; i < W.length; i++) {
    if (include && !include(i)) continue;
    g[bin(W[i] - gptq[i])]++;
    r[bin(W[i] - rtn[i])]++;
  }
  return { edges, gptq: g, rtn: r };
}

/**
 * The detail of a [rows, cols] layer with Hessian H [cols, cols] (as accumulated, before
 * damping). `keep` is the leading block of the layer that is the model's own when the export
 * padded it (zero rows appended to an expanding MLP linear, zero columns to the contracting one):
 * the padding is left out of the heatmaps, diag(H), the act-order and the error histograms.
 */
export function layerDetail(
  H: ArrayLike<number>,
  cols: number,
  W: ArrayLike<number>,
  Qgptq: ArrayLike<number>,
  Qrtn: ArrayLike<number>,
  perm: ArrayLike<number> | null,
  maxSize = 64,
  keep: { rows: number; cols: number } = { rows: W.length / cols, cols },
): LayerDetail {
  const n = keep.cols;
  const order = perm ? Int32Array.from(Array.from(perm).filter((c) => c < n)) : null;
  return {
    cols: n,
    hessian: downsampleAbs(H, n, maxSize, null, cols),
    hessianActOrder: order ? downsampleAbs(H, n, maxSize, order, cols) : null,
    diag: Float32Array.from({ length: n }, (_, i) => H[i * cols + i]),
    order,
    paddedRows: W.length / cols - keep.rows,
    paddedCols: cols - n,
    errors: errorHistogram(W, Qgptq, Qrtn, 41, (i) => i < keep.rows * cols && i % cols < n),
  };
}
