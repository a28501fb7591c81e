/**
 * The numbers the "Compare strategies" panel shows, prepared so that its components only draw:
 * the strategies as points of (bits per weight, perplexity or KLD) with their spread over seeds
 * and the Pareto front, the table beside the chart, the per-layer output-error curves of every
 * strategy, the layer × width sensitivity heatmap, and a mixed-precision plan's widths by block.
 * Every measure is the first evaluation text's (the sweep's front is decided on it too). Pure
 * functions: no DOM, no store.
 */
import { droppedResultsText, paretoFront, seedSpread, sweepCancelledText, type SeedSpread, type SensitivityMap, type SweepMethod, type SweepRunReport } from '../../core/sweep';
import type { MixedPrecisionPlan } from '../../core/mixed-precision';
import { linearAxis, logAxis, type AxisTicks } from '../charts/axis';
import { logColour, logFloor, logRange, shortName, type LogRange } from './chart-data';
import { fmtSci } from '../format';
import { counted } from '../../core/plural';

export type SweepMetric = 'perplexity' | 'kld';

/** What the Y axis shows, with its unit. */
export const METRIC_TITLE: Record<SweepMetric, string> = {
  perplexity: 'perplexity',
  kld: 'mean KL divergence from the original (nats)',
};

/** One colour per method on the chart (GPTQ blue, RTN red, AWQ green, as in the layer charts). */
export const METHOD_COLOUR: Record<SweepMethod, string> = { gptq: '#2563ab', rtn: '#c0392b', awq: '#1e8449' };

/** Colours of the per-layer curves, one per strategy in turn. */
export const SERIES_COLOURS = ['#2563ab', '#c0392b', '#1e8449', '#8e44ad', '#d35400', '#16a085', '#7f8c8d', '#b7950b'];

/** A strategy as a point: the mean over seeds, and the min–max over seeds as its error bar. */
export interface SweepPoint {
  label: string;
  method: SweepMethod;
  bpw: number;
  /** Mean over seeds. */
  y: number;
  low: number;
  high: number;
  /** [y − low, high − y]: recharts' ErrorBar reads the two arms from it. */
  errorY: [number, number];
  /** Seeds measured. */
  n: number;
  onFront: boolean;
}

/** The first evaluation text of a sweep (its points and front are measured on it). */
export function firstText(report: SweepRunReport): string {
  return report.evaluations[0]?.text ?? '';
}

function metricValues(report: SweepRunReport, i: number, metric: SweepMetric): number[] {
  const text = firstText(report);
  return report.sweep.strategies[i].seeds
    .map((r) => (metric === 'perplexity' ? r.perplexity[text] : r.divergence[text]?.kld_mean))
    .filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
}

/**
 * One point per strategy that has a measure on the first text (a strategy cancelled before its
 * evaluation has none and is left out), in the sweep's order; `onFront` marks the Pareto front of
 * (bpw, mean of `metric`), both minimised.
 */
export function sweepPoints(report: SweepRunReport, metric: SweepMetric): SweepPoint[] {
  const points: SweepPoint[] = [];
  report.sweep.strategies.forEach((s, i) => {
    const values = metricValues(report, i, metric);
    if (values.length === 0 || !Number.isFinite(s.bpw)) return;
    const sp = seedSpread(values);
    points.push({ label: s.label, method: s.strategy.method, bpw: s.bpw, y: sp.mean, low: sp.min, high: sp.max, errorY: [sp.mean - sp.min, sp.max - sp.mean], n: sp.n, onFront: false });
  });
  for (const i of paretoFront(points.map((p) => ({ x: p.bpw, y: p.y })))) points[i].onFront = true;
  return points;
}

/** The front as a line: its points by increasing bits per weight. */
export function frontLine(points: readonly SweepPoint[]): { bpw: number; y: number; label: string }[] {
  return points.filter((p) => p.onFront).sort((a, b) => a.bpw - b.bpw || a.y - b.y).map((p) => ({ bpw: p.bpw, y: p.y, label: p.label }));
}

/**
 * The chart's axes: bits per weight on a linear axis; the measure on a log axis when its range
 * spans more than a decade (2-bit perplexities next to 8-bit ones; KLD), else linear.
 */
export function sweepAxes(points: readonly SweepPoint[]): { x: AxisTicks; y: AxisTicks; yScale: 'linear' | 'log' } {
  const x = linearAxis(points.map((p) => p.bpw));
  const ys = points.flatMap((p) => [p.low, p.high]);
  const lo = Math.min(...ys);
  const hi = Math.max(...ys);
  const log = ys.length > 0 && lo > 0 && hi / lo > 10;
  return { x, y: log ? logAxis(ys) : linearAxis(ys), yScale: log ? 'log' : 'linear' };
}

export interface SweepTableRow {
  label: string;
  method: SweepMethod;
  bpw: number;
  perplexity: SeedSpread | null;
  kld: SeedSpread | null;
  /** Mean over seeds of the share of tokens whose top-1 prediction is the original's. */
  top1: number | null;
  /** Mean over seeds of the RMS change in the correct token's probability. */
  dpRms: number | null;
  /** On the Pareto front of the measure shown. */
  onFront: boolean;
  /** Why it has no download (AWQ, a refused plan), or null. */
  notExportable: string | null;
}

/** The table beside the chart: every strategy (measured or not), in the sweep's order. */
export function sweepTableRows(report: SweepRunReport, metric: SweepMetric): SweepTableRow[] {
  const text = firstText(report);
  const front = new Set(sweepPoints(report, metric).filter((p) => p.onFront).map((p) => p.label));
  const mean = (vs: (number | undefined)[]) => {
    const ok = vs.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
    return ok.length > 0 ? ok.reduce((a, b) => a + b, 0) / ok.length : null;
  };
  return report.sweep.strategies.map((s, i) => {
    const ppl = metricValues(report, i, 'perplexity');
    const kld = metricValues(report, i, 'kld');
    return {
      label: s.label,
      method: s.strategy.method,
      bpw: s.bpw,
      perplexity: ppl.length > 0 ? seedSpread(ppl) : null,
      kld: kld.length > 0 ? seedSpread(kld) : null,
      top1: mean(s.seeds.map((r) => r.divergence[text]?.top1_agree)),
      dpRms: mean(s.seeds.map((r) => r.divergence[text]?.dp_rms)),
      onFront: front.has(s.label),
      notExportable: s.notExportable,
    };
  });
}

/** "12.34 (12.10–12.60)": a mean with its range over seeds (the range only with two or more seeds). */
export function spreadText(s: SeedSpread | null, format: (v: number) => string = fmtSci): string {
  if (!s) return 'not measured';
  return s.n > 1 ? `${format(s.mean)} (${format(s.min)}–${format(s.max)})` : format(s.mean);
}

export interface LayerCurves {
  /** One row per linear (block by block): `label` and, per strategy i, `s${i}` = its mean output MSE over seeds (floored for the log axis). */
  rows: ({ label: string; short: string; block: number } & Record<string, number | string>)[];
  series: { key: string; label: string; colour: string }[];
  y: AxisTicks;
}

/** Every strategy's per-layer output MSE (mean over its seeds), overlaid on one log axis. */
export function layerCurves(report: SweepRunReport): LayerCurves {
  const strategies = report.sweep.strategies.filter((s) => s.seeds.length > 0);
  const means = strategies.map((s) => {
    const m = new Map<string, number>();
    for (const r of s.seeds) for (const l of r.layers) m.set(`${l.block}.${l.name}`, (m.get(`${l.block}.${l.name}`) ?? 0) + l.mse / s.seeds.length);
    return m;
  });
  const order: { block: number; name: string }[] = [];
  const seen = new Set<string>();
  for (const s of strategies) {
    for (const l of s.seeds[0].layers) {
      const key = `${l.block}.${l.name}`;
      if (!seen.has(key)) {
        seen.add(key);
        order.push(l);
      }
    }
  }
  order.sort((a, b) => a.block - b.block);
  const floor = logFloor(means.flatMap((m) => [...m.values()]));
  const rows = order.map((l) => {
    const row: LayerCurves['rows'][number] = { label: `${l.block}.${l.name}`, short: shortName(l.name), block: l.block };
    means.forEach((m, i) => {
      const v = m.get(`${l.block}.${l.name}`);
      if (v !== undefined) row[`s${i}`] = Number.isFinite(v) && v > 0 ? v : floor;
    });
    return row;
  });
  const series = strategies.map((s, i) => ({ key: `s${i}`, label: s.label, colour: SERIES_COLOURS[i % SERIES_COLOURS.length] }));
  const values = rows.flatMap((r) => series.map((s) => r[s.key])).filter((v): v is number => typeof v === 'number');
  return { rows, series, y: logAxis(values) };
}

export interface HeatCellData {
  bits: number;
  value: number;
  text: string;
  background: string;
  /** Light text on the dark end of the ramp. */
  light: boolean;
}

export interface SensitivityGrid {
  widths: number[];
  rows: { key: string; label: string; block: number; cells: HeatCellData[] }[];
  range: LogRange | null;
}

/** The layers × widths map as coloured cells: output MSE on a log colour scale (viridis, dark = small). */
export function sensitivityGrid(map: SensitivityMap): SensitivityGrid {
  const all = map.linears.flatMap((l) => map.widths.map((w) => l.mse[w]));
  const range = logRange(all);
  const rows = [...map.linears]
    .map((l, i) => ({ l, i }))
    .sort((a, b) => a.l.block - b.l.block || a.i - b.i)
    .map(({ l }) => ({
      key: `${l.block}.${l.name}`,
      label: `${l.block}.${l.name}`,
      block: l.block,
      cells: map.widths.map((bits) => {
        const value = l.mse[bits];
        const rgb = range ? logColour(value, range.logMin, range.logMax) : [68, 1, 84];
        // Relative luminance of the ramp colour: light text on the dark violet/blue end.
        const lum = (0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]) / 255;
        return { bits, value, text: fmtSci(value), background: `rgb(${rgb.join(', ')})`, light: lum < 0.5 };
      }),
    }));
  return { widths: [...map.widths], rows, range };
}

export interface MixedPlanTable {
  /** Linear names in the order of the map (columns). */
  names: string[];
  /** One row per block: the width of each linear (null where the linear is not quantized). */
  rows: { block: number; bits: (number | null)[] }[];
}

/** A plan's widths as a blocks × linears table. */
export function mixedPlanTable(plan: MixedPrecisionPlan, map: SensitivityMap): MixedPlanTable {
  const names: string[] = [];
  for (const l of map.linears) if (!names.includes(l.name)) names.push(l.name);
  const blocks = [...new Set(map.linears.map((l) => l.block))].sort((a, b) => a - b);
  return { names, rows: blocks.map((block) => ({ block, bits: names.map((n) => plan.bits[`${block}.${n}`] ?? null) })) };
}

/** "49,408 weights at 2 bits, 70,144 at 3 bits": a plan's weights per width, widest last. */
export function weightsPerBitsText(w: Record<number, number>): string {
  return Object.entries(w)
    .map(([b, n]) => [Number(b), n] as const)
    .sort((a, b) => a[0] - b[0])
    .map(([b, n], i) => `${n.toLocaleString('en-US')}${i === 0 ? ' weights' : ''} at ${b} bits`)
    .join(', ');
}

/** The strategy presets offered as checkboxes, on the studio's group size. */
export function strategyPresets(groupSize: number): string[] {
  const g = groupSize === -1 ? '' : `g${groupSize}`;
  return [`gptq:4${g}`, `rtn:4${g}`, `awq:4${g}`, `gptq:3${g}`, `gptq:2${g}`, `gptq:8${g}`, `gptq:4${g}+act`, `gptq:4${g}+mse`, `gptq:3${g}+asym`, `rtn:3${g}`];
}

/** "2 strategies × 1 seed": the size of a sweep, for its done line. */
export function sweepSizeText(report: Pick<SweepRunReport, 'sweep'>): string {
  return `${counted(report.sweep.strategies.length, 'strategy', 'strategies')} × ${counted(report.sweep.seeds.length, 'seed')}`;
}

/**
 * "2 strategies over seed 0; 1 calibration window of 64 tokens; evaluated on 3 windows of e.txt":
 * what a sweep ran on, for its results' label.
 */
export function sweepRunText(report: Pick<SweepRunReport, 'sweep' | 'settings' | 'evaluations'>): string {
  const seeds = report.sweep.seeds;
  return `${counted(report.sweep.strategies.length, 'strategy', 'strategies')} over ${seeds.length === 1 ? 'seed' : 'seeds'} ${seeds.join(', ')}; ` +
    `${counted(report.settings.nsamples, 'calibration window')} of ${counted(report.settings.seqlen, 'token')}; ` +
    `evaluated on ${report.evaluations.map((e) => `${counted(e.windows, 'window')} of ${e.text}`).join(', ')}`;
}

/**
 * The line of a cancelled sweep: which strategies it kept (every seed measured, their results shown
 * below) and which were not measured; with no report (cancelled before any strategy finished), that
 * nothing is kept.
 */
export function sweepCancelledLine(report: Pick<SweepRunReport, 'cancelled'> | null, measured: readonly { label: string; seed: number }[] = [], seeds = 1): string {
  const c = report?.cancelled;
  if (!c && measured.length > 0) return `Cancelled before ${droppedResultsText(measured, seeds)}: nothing of this comparison is kept.`;
  if (!c) return 'Cancelled: nothing of this comparison is kept.';
  const text = sweepCancelledText(c);
  return `${text[0].toUpperCase()}${text.slice(1)}. The results below are those of the ${c.after === 1 ? 'strategy' : `${c.after} strategies`} whose every seed was measured.`;
}

/** "stories260K-sweep-report.json": a sweep's report.json as the studio saves it (no path, file-name-safe). */
export function sweepReportName(modelName: string): string {
  return `${(modelName || 'model').replace(/[^A-Za-z0-9._-]+/g, '-')}-sweep-report.json`;
}
