/**
 * The one axis, tick and number-format policy of every chart in the studio and the lessons.
 *
 * - Linear axes get "nice" ticks: steps of 1, 2, 2.5 or 5 × 10^k, about five of them, and a
 *   domain from the first tick to the last, so every point lies inside.
 * - Log axes span whole decades around the data (10^⌊log min⌋ to 10^⌈log max⌉), so the smallest
 *   point is never drawn below the axis; ticks at each decade (with 2 and 5 between when the span
 *   is under two decades).
 * - Every tick of an axis shares one format chosen from the axis' range: fixed decimals set by
 *   the step within 10⁻³ ≤ |v| < 10⁴; SI suffixes (k, M, G) above; powers of ten (2×10⁻⁴) below.
 *   A real minus sign, no float noise (0.30000000000000004 → 0.3).
 * - Axis titles say what is plotted and in which unit: `axisTitle('output MSE', 'log scale')`.
 * Pure functions: the components pass their results to recharts.
 */

export interface AxisTicks {
  ticks: number[];
  domain: [number, number];
  /** Formats a value of this axis the way its ticks are formatted. */
  format: (v: number) => string;
}

const MINUS = '\u2212';
const SUPERSCRIPT: Record<string, string> = { '-': '⁻', '0': '⁰', '1': '¹', '2': '²', '3': '³', '4': '⁴', '5': '⁵', '6': '⁶', '7': '⁷', '8': '⁸', '9': '⁹' };

const minus = (s: string) => s.replace(/^-/, MINUS);

/** 10^k written with a superscript exponent: 1e-4 → "10⁻⁴". */
export function powerOfTen(k: number): string {
  return `10${String(k).replace(/[-0-9]/g, (c) => SUPERSCRIPT[c])}`;
}

/** The step of nice ticks: 1, 2, 2.5 or 5 × 10^k, the first that gives at most `count` intervals over `span`. */
export function niceStep(span: number, count = 5): number {
  if (!(span > 0) || !Number.isFinite(span)) return 1;
  const raw = span / Math.max(1, count);
  const k = Math.floor(Math.log10(raw));
  const base = 10 ** k;
  for (const m of [1, 2, 2.5, 5, 10]) if (m * base >= raw * (1 - 1e-9)) return m * base;
  return 10 * base;
}

/** Rounds away binary noise from a multiple of `step` (0.1 × 3 → 0.3). */
function clean(v: number, step: number): number {
  const digits = Math.max(0, -Math.floor(Math.log10(step)) + 2);
  return Number(v.toFixed(Math.min(20, digits))) + 0;
}

/** Decimals that show every multiple of `step` exactly (0.25 → 2, 5 → 0). */
export function decimalsFor(step: number): number {
  for (let d = 0; d <= 12; d++) {
    const scaled = step * 10 ** d;
    if (Math.abs(scaled - Math.round(scaled)) < 1e-9 * Math.max(1, scaled)) return d;
  }
  return 12;
}

const SI = [
  { at: 1e9, suffix: 'G' },
  { at: 1e6, suffix: 'M' },
  { at: 1e3, suffix: 'k' },
];

/**
 * One format for every value of an axis whose ticks are `ticks` (see the module comment).
 * Values other than the ticks (tooltips) get the same style with three significant digits.
 */
export function tickFormat(ticks: readonly number[], step?: number): (v: number) => string {
  const finite = ticks.filter(Number.isFinite);
  const largest = finite.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const smallestNonZero = finite.reduce((m, v) => (v !== 0 ? Math.min(m, Math.abs(v)) : m), Infinity);
  if (largest >= 1e4) {
    const si = SI.find((u) => largest >= u.at)!;
    const d = step !== undefined ? decimalsFor(step / si.at) : 1;
    return (v) => (v === 0 ? '0' : minus(`${Number((v / si.at).toFixed(Math.min(d, 3)))}${si.suffix}`));
  }
  if (largest > 0 && largest < 1e-2 && smallestNonZero < 1e-3) {
    return (v) => scientific(v);
  }
  const d = step !== undefined ? decimalsFor(step) : Math.min(4, Math.max(0, 2 - Math.floor(Math.log10(largest || 1))));
  return (v) => (v === 0 ? '0' : minus(v.toFixed(d)));
}

/** 2e-4 → "2×10⁻⁴"; 1e-4 → "10⁻⁴"; 0 → "0"; up to three significant digits. */
export function scientific(v: number): string {
  if (v === 0) return '0';
  if (!Number.isFinite(v)) return String(v);
  const k = Math.floor(Math.log10(Math.abs(v)));
  const m = Number((v / 10 ** k).toPrecision(3));
  if (Math.abs(m) === 10) return `${m < 0 ? MINUS : ''}${powerOfTen(k + 1)}`;
  if (Math.abs(m) === 1) return `${m < 0 ? MINUS : ''}${powerOfTen(k)}`;
  return `${minus(String(m))}×${powerOfTen(k)}`;
}

/** 10^k as the nearest double to the decimal literal (10 ** -5 is not 1e-5 in binary). */
const pow10 = (k: number) => Number(`1e${k}`);

/** Nice linear ticks over the values (0 included when `withZero`); a flat or empty range gets a unit span. */
export function linearAxis(values: Iterable<number>, opts: { count?: number; withZero?: boolean } = {}): AxisTicks {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (opts.withZero) {
    min = Math.min(min, 0);
    max = Math.max(max, 0);
  }
  if (!Number.isFinite(min)) {
    min = 0;
    max = 1;
  }
  if (min === max) {
    const pad = min === 0 ? 1 : Math.abs(min) / 2;
    min -= pad;
    max += pad;
    if (opts.withZero && min < 0 && max > 0 && min >= -pad * 2) min = Math.min(0, min);
  }
  const step = niceStep(max - min, opts.count ?? 5);
  const lo = Math.floor(min / step + 1e-9) * step;
  const hi = Math.ceil(max / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let i = 0; lo + i * step <= hi + step * 1e-9; i++) ticks.push(clean(lo + i * step, step));
  return { ticks, domain: [ticks[0], ticks[ticks.length - 1]], format: tickFormat(ticks, step) };
}

/**
 * Integer ticks (columns, ranks, steps): a nice step of at least 1, and a domain that is exactly
 * the data's first to last index (ticks at the nice multiples inside it), so no space is wasted
 * past the last column.
 */
export function integerAxis(values: Iterable<number>, opts: { count?: number } = {}): AxisTicks {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    lo = Math.min(lo, Math.floor(v));
    hi = Math.max(hi, Math.ceil(v));
  }
  if (!Number.isFinite(lo)) [lo, hi] = [0, 1];
  if (hi === lo) hi = lo + 1;
  const step = Math.max(1, niceStep(hi - lo, opts.count ?? 5));
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi; t += step) ticks.push(t);
  return { ticks, domain: [lo, hi], format: tickFormat(ticks, step) };
}

/** Counts (weights per bin): nice integer ticks from 0 up past the largest. */
export function countAxis(values: Iterable<number>): AxisTicks {
  const a = linearAxis(values, { withZero: true });
  if (niceStep(a.domain[1] - a.domain[0]) >= 1) return a;
  const hi = Math.max(1, Math.ceil(a.domain[1]));
  const ticks = Array.from({ length: hi + 1 }, (_, i) => i);
  return { ticks, domain: [0, hi], format: tickFormat(ticks, 1) };
}

/**
 * A log axis over the positive finite values: whole decades around them, a tick per decade (every
 * second or third decade when there are many; 2 and 5 between when under two decades).
 */
export function logAxis(values: Iterable<number>, maxTicks = 7): AxisTicks {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (!(v > 0) || !Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (!Number.isFinite(min)) {
    min = 1;
    max = 10;
  }
  let lo = Math.floor(Math.log10(min) + 1e-12);
  let hi = Math.ceil(Math.log10(max) - 1e-12);
  if (hi === lo) hi = lo + 1;
  const decades = hi - lo;
  const every = Math.max(1, Math.ceil(decades / (maxTicks - 1)));
  lo = Math.floor(lo / every) * every;
  hi = Math.ceil(hi / every) * every;
  const ticks: number[] = [];
  for (let k = lo; k <= hi; k += every) {
    ticks.push(pow10(k));
    if (decades < 2 && k < hi) ticks.push(2 * pow10(k), 5 * pow10(k));
  }
  const domain: [number, number] = [pow10(lo), pow10(hi)];
  const plain = domain[0] >= 1e-2 && domain[1] <= 1e4;
  const format = plain ? (v: number) => minus(String(Number(v.toPrecision(3)))) : scientific;
  return { ticks: ticks.map((t) => Number(t.toPrecision(12))), domain, format };
}

/** "output MSE (log scale)", "W − Q", "diag(H)": what an axis shows, with its unit or scale when it has one. */
export function axisTitle(what: string, unit?: string): string {
  return unit ? `${what} (${unit})` : what;
}

/** Pixels a Y axis needs for its widest tick label (about 7 px a character at 11 px, plus the tick). */
export function axisWidth(a: Pick<AxisTicks, 'ticks' | 'format'>): number {
  const longest = a.ticks.reduce((m, t) => Math.max(m, a.format(t).length), 1);
  return Math.ceil(14 + 7 * longest);
}

/**
 * Whether two axes have the same domain and ticks (then the same format: it follows from them).
 * A chart keeps its axis object while this holds (useStable), so that recharts, which compares an
 * axis' props by identity, does not register the axis again.
 */
export function sameAxis(a: AxisTicks, b: AxisTicks): boolean {
  return a === b || (a.domain[0] === b.domain[0] && a.domain[1] === b.domain[1] && sameArray(a.ticks, b.ticks));
}

/** Whether two arrays hold the same values (===) in the same order. */
export function sameArray<T>(a: readonly T[], b: readonly T[]): boolean {
  return a === b || (a.length === b.length && a.every((v, i) => v === b[i]));
}

// Shared by every axis, so that the props of an axis drawn again compare equal (recharts compares these shallowly).
const TICK = { fontSize: 11 };
const Y_TITLE_STYLE = { textAnchor: 'middle' as const, fontSize: 12 };
const X_TITLE_STYLE = { fontSize: 12 };

/** Recharts props of a numeric Y axis with a title, from an AxisTicks (equal props for the same `a` and title). */
export function yAxisProps(a: AxisTicks, title: string, scale: 'linear' | 'log' = 'linear') {
  return {
    type: 'number' as const,
    scale,
    domain: a.domain,
    ticks: a.ticks,
    tickFormatter: a.format,
    allowDataOverflow: true,
    interval: 0 as const,
    width: axisWidth(a) + 18,
    tick: TICK,
    label: { value: title, angle: -90, position: 'insideLeft' as const, style: Y_TITLE_STYLE, offset: 4 },
  };
}

/** Recharts props of a numeric X axis with a title, from an AxisTicks (equal props for the same `a` and title). */
export function xAxisProps(a: AxisTicks, title: string, scale: 'linear' | 'log' = 'linear') {
  return {
    type: 'number' as const,
    scale,
    domain: a.domain,
    ticks: a.ticks,
    tickFormatter: a.format,
    allowDataOverflow: true,
    interval: 0 as const,
    height: 42,
    tick: TICK,
    label: { value: title, position: 'insideBottom' as const, style: X_TITLE_STYLE, offset: 0 },
  };
}
