/**
 * Every number the studio's charts and tables show, prepared here so that the components only
 * draw: layer rows in run order, log-scale heatmap pixels, diag(H) series, error-histogram rows,
 * perplexity rows, sizes, durations and progress text. Pure functions, no DOM, no store.
 */
import type { ErrorHistogram, HeatmapGrid } from '../../core/layer-detail';
import type { LinearReport, ModelVariant, PerplexityResult, RunSettings } from '../../core/run';
import { timeLeft, type TimeEstimate } from '../../core/time-model';
import { fmtBytes, fmtSci } from '../format';
import type { HistoryEntry, RunSlice } from '../store/studio-state';
import { layerKey } from '../store/studio-state';

// ---- Layers ----

export interface LayerRow {
  /** layerKey: "block.name". */
  key: string;
  /** The full label: "b.name", e.g. "0.self_attn.q_proj" (the X category). */
  label: string;
  /** The tick label: the linear's short name, e.g. "q", "down", "c_attn". */
  short: string;
  block: number;
  name: string;
  rows: number;
  cols: number;
  /** "rows×cols". */
  shape: string;
  /** Output MSE as measured (may be 0). */
  gptq: number;
  rtn: number;
  /** The same, kept positive for a log axis (0 and non-finite values become `floor`). */
  gptqPlot: number;
  rtnPlot: number;
  /** GPTQ's own loss; null when the layer fell back to RTN (the engine reports NaN). */
  loss: number | null;
  damp: number;
  dampAttempts: number;
  fellBackToRtn: boolean;
  seconds: number;
  /** GPTQ MSE / RTN MSE, or null when RTN's is 0. */
  ratio: number | null;
}

/** A positive floor for a log axis: a tenth of the smallest positive finite value (1e-12 when none). */
export function logFloor(values: Iterable<number>): number {
  let min = Infinity;
  for (const v of values) if (Number.isFinite(v) && v > 0 && v < min) min = v;
  return Number.isFinite(min) ? min / 10 : 1e-12;
}

const positiveOr = (v: number, floor: number) => (Number.isFinite(v) && v > 0 ? v : floor);

/**
 * One row per finished linear, by block, and within a block in the order the run finished them
 * (the forward order: the engine walks each block's linears front to back).
 */
export function layerRows(layers: readonly LinearReport[]): LayerRow[] {
  const floor = logFloor(layers.flatMap((l) => [l.gptq.mse, l.rtn.mse]));
  return layers
    .map((l, i) => ({ l, i }))
    .sort((a, b) => a.l.block - b.l.block || a.i - b.i)
    .map(({ l }) => ({
      key: layerKey(l),
      label: `${l.block}.${l.name}`,
      short: shortName(l.name),
      block: l.block,
      name: l.name,
      rows: l.rows,
      cols: l.cols,
      shape: `${l.rows}×${l.cols}`,
      gptq: l.gptq.mse,
      rtn: l.rtn.mse,
      gptqPlot: positiveOr(l.gptq.mse, floor),
      rtnPlot: positiveOr(l.rtn.mse, floor),
      loss: Number.isFinite(l.gptq.loss) ? l.gptq.loss : null,
      damp: l.gptq.damp,
      dampAttempts: l.gptq.dampAttempts,
      fellBackToRtn: l.gptq.fellBackToRtn,
      seconds: l.gptq.seconds,
      ratio: l.rtn.mse > 0 ? l.gptq.mse / l.rtn.mse : null,
    }));
}

/** A linear's short name for ticks: "self_attn.q_proj" → "q", "mlp.down_proj" → "down", "attn.c_attn" → "c_attn". */
export function shortName(name: string): string {
  const last = name.split('.').pop() ?? name;
  return last.endsWith('_proj') && last !== 'c_proj' ? last.slice(0, -'_proj'.length) : last;
}

/** Layers per chart up to which every layer gets its own tick; beyond, ticks mark the blocks. */
export const EVERY_LAYER_TICKS = 48;

export interface BlockBand {
  block: number;
  /** Labels of the block's first and last row (the X categories the band spans). */
  from: string;
  to: string;
}

/** One band per block (its first to last row), for shading alternate blocks and naming them. */
export function blockBands(rows: readonly Pick<LayerRow, 'block' | 'label'>[]): BlockBand[] {
  const out: BlockBand[] = [];
  for (const r of rows) {
    const last = out[out.length - 1];
    if (last && last.block === r.block) last.to = r.label;
    else out.push({ block: r.block, from: r.label, to: r.label });
  }
  return out;
}

/**
 * The X ticks of the per-layer chart: every layer (by its short name) when there are few, else
 * the first layer of each block (by the block's number).
 */
export function layerTicks(rows: readonly Pick<LayerRow, 'label' | 'short' | 'block'>[]): { ticks: string[]; format: (label: string) => string } {
  const byLabel = new Map(rows.map((r) => [r.label, r]));
  if (rows.length <= EVERY_LAYER_TICKS) return { ticks: rows.map((r) => r.label), format: (l) => byLabel.get(l)?.short ?? l };
  return { ticks: blockBands(rows).map((b) => b.from), format: (l) => `block ${byLabel.get(l)?.block ?? ''}` };
}

/** A layer row with an earlier run's values beside it (null where that run has no such layer). */
export interface ComparedRow extends Omit<LayerRow, 'gptqPlot' | 'rtnPlot'> {
  gptqPlot: number | null;
  rtnPlot: number | null;
  cmpGptqPlot: number | null;
  cmpRtnPlot: number | null;
}

/**
 * The current run's rows with an earlier run's per-layer MSEs overlaid by layer key; with no
 * current layers, the earlier run's rows alone (so an opened run shows even after a reload).
 */
export function comparedRows(current: readonly LinearReport[], earlier: readonly LinearReport[] | null): ComparedRow[] {
  const floor = logFloor([...current, ...(earlier ?? [])].flatMap((l) => [l.gptq.mse, l.rtn.mse]));
  const plot = (v: number | undefined) => (v === undefined ? null : positiveOr(v, floor));
  const cmp = new Map((earlier ?? []).map((l) => [layerKey(l), l]));
  if (current.length === 0) {
    return layerRows(earlier ?? []).map((r) => ({ ...r, gptqPlot: null, rtnPlot: null, cmpGptqPlot: plot(r.gptq), cmpRtnPlot: plot(r.rtn) }));
  }
  return layerRows(current).map((r) => {
    const e = cmp.get(r.key);
    return { ...r, gptqPlot: plot(r.gptq), rtnPlot: plot(r.rtn), cmpGptqPlot: plot(e?.gptq.mse), cmpRtnPlot: plot(e?.rtn.mse) };
  });
}

/** The layer to inspect: the one selected if it has finished, else the latest finished, else null. */
export function inspectedLayer(selected: string | null, layers: readonly LinearReport[]): string | null {
  if (selected !== null && layers.some((l) => layerKey(l) === selected)) return selected;
  return layers.length > 0 ? layerKey(layers[layers.length - 1]) : null;
}

/** Σ GPTQ output MSE / Σ RTN output MSE over the layers, or null without layers (or with Σ RTN = 0). */
export function mseRatio(layers: readonly LinearReport[]): number | null {
  let g = 0;
  let r = 0;
  for (const l of layers) {
    g += l.gptq.mse;
    r += l.rtn.mse;
  }
  return layers.length > 0 && r > 0 ? g / r : null;
}

/** "3.self_attn.k_proj" for each layer that fell back to RTN, in run order. */
export function fallbackLayers(layers: readonly LinearReport[]): string[] {
  return layerRows(layers).filter((r) => r.fellBackToRtn).map((r) => r.label);
}

/** How a layer's damping went: "1% damping" or "4% damping after 3 attempts" or "fell back to RTN". */
export function dampingText(r: Pick<LayerRow, 'damp' | 'dampAttempts' | 'fellBackToRtn'>): string {
  if (r.fellBackToRtn) return `fell back to RTN after ${r.dampAttempts} damping attempt${r.dampAttempts === 1 ? '' : 's'}`;
  const pct = `${fmtSci(r.damp * 100)}% damping`;
  return r.dampAttempts > 1 ? `${pct} after ${r.dampAttempts} attempts` : pct;
}

// ---- Hessian heatmap (log colour scale) ----

type Rgb = readonly [number, number, number];

/** A perceptually even ramp (viridis' five stops): dark violet for the smallest, yellow for the largest. */
export const RAMP: readonly Rgb[] = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37],
];

/** The ramp at t ∈ [0, 1] (clamped), interpolated linearly between stops. */
export function rampColour(t: number): Rgb {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (RAMP.length - 1);
  const i = Math.min(RAMP.length - 2, Math.floor(x));
  const f = x - i;
  const a = RAMP[i];
  const b = RAMP[i + 1];
  return [0, 1, 2].map((k) => Math.round(a[k] + (b[k] - a[k]) * f)) as unknown as Rgb;
}

/** The CSS gradient of the ramp, for the heatmap's legend. */
export function rampGradient(): string {
  return `linear-gradient(to right, ${RAMP.map((c) => `rgb(${c.join(', ')})`).join(', ')})`;
}

export interface LogRange {
  /** The smallest and largest positive finite value. */
  min: number;
  max: number;
  logMin: number;
  logMax: number;
}

/** The log10 range of the positive finite values, or null when there are none. */
export function logRange(values: ArrayLike<number>): LogRange | null {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isFinite(v) && v > 0) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  if (!Number.isFinite(min)) return null;
  return { min, max, logMin: Math.log10(min), logMax: Math.log10(max) };
}

/** The colour of `value` on a log scale from 10^logMin to 10^logMax; 0 and below take the lowest colour. */
export function logColour(value: number, logMin: number, logMax: number): Rgb {
  if (!(value > 0)) return RAMP[0];
  const span = logMax - logMin;
  const t = span > 0 ? (Math.log10(value) - logMin) / span : 0.5;
  return rampColour(t);
}

export interface HeatmapPixels {
  /** Cells per side. */
  size: number;
  /** RGBA, [size × size × 4] row-major, ready for ImageData. */
  rgba: Uint8ClampedArray<ArrayBuffer>;
  /** The range coloured, or null when every value is 0. */
  range: LogRange | null;
}

/** The grid as canvas pixels on a log colour scale. */
export function heatmapPixels(grid: HeatmapGrid): HeatmapPixels {
  const range = logRange(grid.values);
  const n = grid.size * grid.size;
  const rgba = new Uint8ClampedArray(n * 4);
  for (let k = 0; k < n; k++) {
    const c = range ? logColour(grid.values[k], range.logMin, range.logMax) : RAMP[0];
    rgba[4 * k] = c[0];
    rgba[4 * k + 1] = c[1];
    rgba[4 * k + 2] = c[2];
    rgba[4 * k + 3] = 255;
  }
  return { size: grid.size, rgba, range };
}

/** The canvas' accessible description of a heatmap. */
export function heatmapLabel(label: string, grid: HeatmapGrid, cols: number, actOrder: boolean, range: LogRange | null): string {
  const per = Math.ceil(cols / grid.size);
  const order = actOrder ? 'columns in act-order (decreasing diag(H))' : 'columns in their original order';
  const span = range ? `mean |H| from ${fmtSci(range.min)} to ${fmtSci(range.max)}, log colour scale` : 'every entry is 0';
  return `Hessian of ${label}: ${grid.size}×${grid.size} cells of ${per}×${per} entries, ${order}; ${span}.`;
}

// ---- diag(H) ----

export interface DiagPoint {
  /** The first column of the point's bucket. */
  col: number;
  /** The largest diag(H) of the bucket (the outliers act-order cares about stay visible). */
  value: number;
  /** The same, positive for a log axis. */
  plot: number;
}

export interface DiagSeries {
  points: DiagPoint[];
  /** Points in act-order: `col` is then the position in GPTQ's order, not the column index. */
  actOrder: boolean;
  /** Columns per point (1 when every column is a point). */
  bucket: number;
  cols: number;
  min: number;
  max: number;
  mean: number;
  /** max / min, or null when min ≤ 0. */
  ratio: number | null;
}

/**
 * diag(H) as chart points, at most `maxPoints` (the largest of each bucket of columns); in
 * `order` (act-order: the columns as GPTQ quantized them) when given.
 */
export function diagSeries(diagIn: ArrayLike<number>, maxPoints = 256, order: ArrayLike<number> | null = null): DiagSeries {
  const diag = order ? Array.from(order, (c) => diagIn[c]) : diagIn;
  const n = diag.length;
  const bucket = Math.max(1, Math.ceil(n / maxPoints));
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    min = Math.min(min, diag[i]);
    max = Math.max(max, diag[i]);
    sum += diag[i];
  }
  const floor = logFloor(Array.from(diag));
  const points: DiagPoint[] = [];
  for (let start = 0; start < n; start += bucket) {
    let v = -Infinity;
    for (let i = start; i < Math.min(n, start + bucket); i++) v = Math.max(v, diag[i]);
    points.push({ col: start, value: v, plot: positiveOr(v, floor) });
  }
  return {
    points,
    actOrder: order !== null,
    bucket,
    cols: n,
    min: n > 0 ? min : 0,
    max: n > 0 ? max : 0,
    mean: n > 0 ? sum / n : 0,
    ratio: n > 0 && min > 0 ? max / min : null,
  };
}

// ---- Error histogram ----

export interface HistogramRow {
  /** Bin centre, and its edges. */
  center: number;
  from: number;
  to: number;
  /** The X label: the centre, short. */
  label: string;
  gptq: number;
  rtn: number;
}

export function histogramRows(h: ErrorHistogram): HistogramRow[] {
  return Array.from(h.gptq, (g, k) => {
    const from = h.edges[k];
    const to = h.edges[k + 1];
    const center = (from + to) / 2;
    return { center, from, to, label: fmtSci(Math.abs(center) < 1e-12 ? 0 : center), gptq: g, rtn: h.rtn[k] };
  });
}

export interface HistogramSummary {
  /** Weights counted (the same for both). */
  total: number;
  /** Root mean square of W − Q estimated from the bin centres. */
  gptqRms: number;
  rtnRms: number;
}

export function histogramSummary(h: ErrorHistogram): HistogramSummary {
  const rows = histogramRows(h);
  const rms = (k: 'gptq' | 'rtn') => {
    let n = 0;
    let s = 0;
    for (const r of rows) {
      n += r[k];
      s += r[k] * r.center * r.center;
    }
    return n > 0 ? Math.sqrt(s / n) : 0;
  };
  return { total: rows.reduce((a, r) => a + r.gptq, 0), gptqRms: rms('gptq'), rtnRms: rms('rtn') };
}

// ---- Perplexity ----

export interface PerplexityRow {
  index: number;
  text: string;
  original: number | null;
  rtn: number | null;
  gptq: number | null;
  /** From the final report (windows and length known) rather than live events. */
  final: boolean;
  windows: number | null;
  seqlen: number | null;
  /** Relative increase over the original (0.05 = 5 % worse), or null when either is missing. */
  rtnIncrease: number | null;
  gptqIncrease: number | null;
}

const numOrNull = (v: number | undefined | null) => (typeof v === 'number' && !Number.isNaN(v) ? v : null);
const increase = (v: number | null, base: number | null) =>
  v !== null && base !== null && Number.isFinite(base) && base > 0 ? v / base - 1 : null;

/**
 * One row per evaluation text: from the final report when there is one, else from the live
 * perplexities, in the order they arrived, followed by the `expected` texts not measured yet.
 */
export function perplexityRows(
  live: Record<string, Partial<Record<ModelVariant, number>>> | null | undefined,
  evaluations: readonly PerplexityResult[] | null | undefined,
  expected: readonly string[] = [],
): PerplexityRow[] {
  if (evaluations && evaluations.length > 0) {
    return evaluations.map((p, index) => {
      const original = numOrNull(p.original);
      const rtn = numOrNull(p.rtn);
      const gptq = numOrNull(p.gptq);
      return {
        index, text: p.text, original, rtn, gptq, final: true, windows: p.windows, seqlen: p.seqlen,
        rtnIncrease: increase(rtn, original), gptqIncrease: increase(gptq, original),
      };
    });
  }
  const texts = Object.keys(live ?? {});
  for (const t of expected) if (!texts.includes(t)) texts.push(t);
  return texts.map((text, index) => {
    const v = live?.[text] ?? {};
    const original = numOrNull(v.original);
    const rtn = numOrNull(v.rtn);
    const gptq = numOrNull(v.gptq);
    return {
      index, text, original, rtn, gptq, final: false, windows: null, seqlen: null,
      rtnIncrease: increase(rtn, original), gptqIncrease: increase(gptq, original),
    };
  });
}

/** A perplexity for a cell: "12.34"; null is "…" while it may still come, "not measured" in a final report. */
export function pplText(v: number | null, final = false): string {
  if (v === null) return final ? 'not measured' : '…';
  return Number.isFinite(v) ? v.toFixed(2) : String(v);
}

/** Whether a final report left some perplexity unmeasured (the run was cancelled during its evaluation). */
export function evaluationIncomplete(evaluations: readonly PerplexityResult[] | null | undefined): boolean {
  return (evaluations ?? []).some((p) => p.original === null || p.rtn === null || p.gptq === null);
}

/** "+4.1 %", "−0.3 %", or "" when unknown. */
export function increaseText(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return '';
  const pct = v * 100;
  return `${pct >= 0 ? '+' : '−'}${Math.abs(pct).toFixed(1)} %`;
}

// ---- Sizes ----

export interface SizeSummary {
  originalBytes: number;
  quantizedBytes: number | null;
  /** original / quantized ("3.5× smaller"), or null without an export. */
  ratio: number | null;
  text: string;
}

export function sizeSummary(size: { originalBytes: number; quantizedBytes: number | null } | null | undefined): SizeSummary | null {
  if (!size) return null;
  const q = size.quantizedBytes;
  const ratio = q !== null && q > 0 ? size.originalBytes / q : null;
  const text = q === null
    ? `${fmtBytes(size.originalBytes)}; no export`
    : `${fmtBytes(size.originalBytes)} → ${fmtBytes(q)}${ratio !== null ? ` (${ratio.toFixed(2)}× smaller)` : ''}`;
  return { originalBytes: size.originalBytes, quantizedBytes: q, ratio, text };
}

/** "1.2 GiB of a 4 GiB budget (30 %)", and whether it is over. */
export function memoryText(memoryBytes: number, budgetBytes: number): { text: string; fraction: number | null; over: boolean } {
  const fraction = budgetBytes > 0 ? memoryBytes / budgetBytes : null;
  const pct = fraction !== null ? ` (${Math.round(fraction * 100)} %)` : '';
  return { text: `${fmtBytes(memoryBytes)} of a ${fmtBytes(budgetBytes)} budget${pct}`, fraction, over: fraction !== null && fraction > 1 };
}

/** "MLP width 172 → 192", or null without padding. */
export function paddingText(intermediate: { from: number; to: number } | null | undefined): string | null {
  return intermediate ? `MLP width ${intermediate.from} → ${intermediate.to}` : null;
}

// ---- Time and progress ----

const two = (n: number) => String(n).padStart(2, '0');

/** 42 → "42 s"; 65 → "1 min 05 s"; 3725 → "1 h 02 min"; null or non-finite → "—". */
export function fmtDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${two(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${two(Math.floor((s % 3600) / 60))} min`;
}

export interface RunProgress {
  /** "Quantization: 4 blocks, 4 groups each" / "Evaluation: …", or "" when idle. */
  stage: string;
  /** "block 3 of 30", or "" before the first block. */
  blocks: string;
  /** Linears done of total (total 0 until the first linear reports). */
  done: number;
  total: number;
  linears: string;
  /** The evaluation's own progress once it has started: window i of n of a text for one model, and windows of all. */
  evaluation: { done: number; total: number; text: string } | null;
  elapsed: string;
  /** Seconds left of the whole run (quantization and evaluation), or null when unknown. */
  etaSeconds: number | null;
  eta: string;
}

const STAGES: Record<string, string> = { checking: 'Checking the weights', calibration: 'Calibration', quantization: 'Quantization', evaluation: 'Evaluation' };
const VARIANT_NAMES: Record<ModelVariant, string> = { original: 'original', rtn: 'RTN', gptq: 'GPTQ' };

type ProgressFields = Pick<RunSlice, 'status' | 'stage' | 'stageDetail' | 'blocksDone' | 'blocks' | 'done' | 'total' | 'elapsed' | 'etaSeconds'>
  & Partial<Pick<RunSlice, 'estimate' | 'evaluation' | 'lastEventAt'>>;

/**
 * How far a run got and how long it has left, at wall-clock time `now` (Date.now()): the clock
 * and the time left move on between progress events; the time left covers the evaluation too.
 */
export function runProgress(run: ProgressFields, now: number | null = null): RunProgress {
  const active = run.status === 'running' || run.status === 'cancelling';
  const since = active && now !== null && run.lastEventAt ? Math.max(0, (now - run.lastEventAt) / 1000) : 0;
  const ev = run.evaluation ?? null;
  const left = active
    ? timeLeft(run.estimate ?? null, {
      elapsed: run.elapsed,
      stage: run.stage,
      quantizationLeft: run.etaSeconds,
      evaluationStart: ev?.start ?? null,
      evaluationDone: ev?.done ?? 0,
      evaluationTotal: ev?.total ?? 0,
    })
    : null;
  const etaSeconds = left === null ? null : Math.max(0, left - since);
  const stage = run.stage ? `${STAGES[run.stage] ?? run.stage}${run.stageDetail ? `: ${run.stageDetail}` : ''}` : run.status === 'running' ? 'Starting…' : '';
  const eta = run.status === 'done' ? 'done' : active
    ? etaSeconds === null ? 'estimating…' : etaSeconds < 1 ? 'a moment' : fmtDuration(etaSeconds)
    : '—';
  const evaluation = ev && ev.total > 0
    ? {
      done: ev.done,
      total: ev.total,
      text: ev.step
        ? `windows ${ev.step.from + 1}–${ev.step.to} of ${ev.windows} of ${ev.text}: block ${ev.step.step} of ${ev.step.steps - 1} run by the three models · ` +
          `${Math.floor(ev.done)} of ${ev.total} windows in all`
        : ev.variant
          ? `window ${ev.windowsDone} of ${ev.windows} of ${ev.text} (${VARIANT_NAMES[ev.variant]} model) · ${Math.floor(ev.done)} of ${ev.total} windows in all`
          : `0 of ${ev.total} windows (${ev.total / 3} per model × 3 models)`,
    }
    : null;
  return {
    stage,
    blocks: run.blocks > 0 ? `${run.blocksDone} of ${run.blocks} blocks` : '',
    done: run.done,
    total: run.total,
    linears: run.total > 0 ? `${run.done} of ${run.total} linears` : 'no linear finished yet',
    evaluation,
    elapsed: fmtDuration(run.elapsed + since),
    etaSeconds,
    eta,
  };
}

/** "about 1 min 05 s (quantization 40 s, evaluation 25 s)". */
export function estimateText(t: TimeEstimate | null | undefined): string {
  if (!t) return '—';
  return `about ${fmtDuration(t.total)} (quantization ${fmtDuration(t.quantization)}, evaluation ${fmtDuration(t.evaluation)})`;
}

/** "12.0 MiB of 540 MiB (2 %) — model.safetensors", or "Checking the repository…" before sizes are known. */
export function hubProgressText(p: { done: number; total: number; file: string | null } | null): string {
  if (!p || p.total <= 0) return p?.file ? `Checking ${p.file}…` : 'Checking the repository…';
  const pct = Math.floor((p.done / p.total) * 100);
  return `${fmtBytes(p.done)} of ${fmtBytes(p.total)} (${pct} %)${p.file ? ` — ${p.file}` : ''}`;
}

// ---- Earlier runs ----

/** "4-bit · g128 · sym · act-order" (group -1 reads "per row"). */
export function settingsSummary(s: Pick<RunSettings, 'bits' | 'groupSize' | 'sym' | 'actOrder'>): string {
  return [
    `${s.bits}-bit`,
    s.groupSize === -1 ? 'per row' : `g${s.groupSize}`,
    s.sym ? 'sym' : 'asym',
    ...(s.actOrder ? ['act-order'] : []),
  ].join(' · ');
}

export interface HistoryRow {
  id: string;
  model: string;
  settings: string;
  status: HistoryEntry['status'];
  /** Why it failed, stopped or was interrupted; null for a complete run. */
  reason: string | null;
  finishedAt: string;
  layers: number;
  /** "8 × 128 tokens": calibration windows and their length. */
  calibration: string;
  /** "16 + 16 windows × 128": evaluation windows per text. */
  evaluation: string;
  /** "1 %": the damping. */
  damping: string;
  mseRatio: number | null;
  perplexities: { text: string; original: number | null; rtn: number | null; gptq: number | null }[];
  size: string;
  seconds: string;
  /** "est. 58 s", or "" when no estimate was made. */
  estimate: string;
}

const STATUS_TEXT: Record<HistoryEntry['status'], string> = {
  done: 'done', cancelled: 'cancelled', failed: 'failed', running: 'running', interrupted: 'interrupted',
};

/** The status as a row shows it. */
export function historyStatusText(s: HistoryEntry['status']): string {
  return STATUS_TEXT[s];
}

/** Earlier runs as table rows, newest first (by finishing time; ties keep the store's order). */
export function historyRows(history: readonly HistoryEntry[]): HistoryRow[] {
  const time = (h: HistoryEntry) => {
    const t = Date.parse(h.finishedAt);
    return Number.isFinite(t) ? t : 0;
  };
  return [...history].sort((a, b) => time(b) - time(a)).map((h) => {
    const windows = h.evalWindows ?? h.evaluations.map((e) => e.windows);
    return {
      id: h.id,
      model: h.modelName,
      settings: settingsSummary(h.settings),
      status: h.status,
      reason: h.reason ?? null,
      finishedAt: h.finishedAt,
      layers: h.layers.length,
      calibration: `${h.settings.nsamples} × ${h.settings.seqlen} tokens`,
      evaluation: windows.length === 0 ? '—' : `${windows.join(' + ')} window${windows.length === 1 && windows[0] === 1 ? '' : 's'} × ${h.settings.seqlen}`,
      damping: `${Number((h.settings.percDamp * 100).toPrecision(6))} %`,
      mseRatio: mseRatio(h.layers),
      perplexities: perplexityRows(null, h.evaluations).map((p) => ({ text: p.text, original: p.original, rtn: p.rtn, gptq: p.gptq })),
      size: sizeSummary(h.size)?.text ?? '—',
      seconds: fmtDuration(h.seconds),
      estimate: h.estimatedSeconds ? `est. ${fmtDuration(h.estimatedSeconds)}` : '',
    };
  });
}
