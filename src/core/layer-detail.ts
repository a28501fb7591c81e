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
  cols: number;
  hessian: HeatmapGrid;
  /** The same in act-order (columns and rows by decreasing diag(H)), or null without act-order. */
  hessianActOrder: HeatmapGrid | null;
  /** diag(H) [cols]. */
  diag: Float32Array;
  errors: ErrorHistogram;
}

/** |H| [n, n] averaged over cells of ⌈n / maxSize⌉ columns, rows/columns taken in `order` when given. */
export function downsampleAbs(H: ArrayLike<number>, n: number, maxSize: number, order: ArrayLike<number> | null = null): HeatmapGrid {
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
      sums[cell] += Math.abs(H[r * n + c]);
      counts[cell] += 1;
    }
  }
  return { size, values: Float32Array.from(sums, (s, k) => s / counts[k]) };
}

/** Histograms of W − Q for two quantizations of the same W, on `bins` shared bins over ±max |W − Q|. */
export function errorHistogram(W: ArrayLike<number>, gptq: ArrayLike<number>, rtn: ArrayLike<number>, bins = 41): ErrorHistogram {
  let max = 0;
  for (let i = 0; i < W.length; i++) max = Math.max(max, Math.abs(W[i] - gptq[i]), Math.abs(W[i] - rtn[i]));
  const limit = max > 0 ? max : 1;
  const edges = Float32Array.from({ length: bins + 1 }, (_, k) => -limit + (2 * limit * k) / bins);
  const bin = (e: number) => Math.min(bins - 1, Math.max(0, Math.floor(((e + limit) / (2 * limit)) * bins)));
  const g = new Uint32Array(bins);
  const r = new Uint32Array(bins);
  for (let i = 0; i < W.length; i++) {
    g[bin(W[i] - gptq[i])]++;
    r[bin(W[i] - rtn[i])]++;
  }
  return { edges, gptq: g, rtn: r };
}

/** The detail of a [rows, cols] layer with Hessian H [cols, cols] (as accumulated, before damping). */
export function layerDetail(
  H: ArrayLike<number>,
  cols: number,
  W: ArrayLike<number>,
  Qgptq: ArrayLike<number>,
  Qrtn: ArrayLike<number>,
  perm: ArrayLike<number> | null,
  maxSize = 64,
): LayerDetail {
  return {
    cols,
    hessian: downsampleAbs(H, cols, maxSize),
    hessianActOrder: perm ? downsampleAbs(H, cols, maxSize, perm) : null,
    diag: Float32Array.from({ length: cols }, (_, i) => H[i * cols + i]),
    errors: errorHistogram(W, Qgptq, Qrtn),
  };
}
