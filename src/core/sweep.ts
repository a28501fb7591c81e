/**
 * A strategy sweep: several rounding strategies run on the same calibration windows (and over
 * several seeds), each measured by perplexity and divergence against bits per weight.
 *
 * Compact syntax of a strategy (the CLI's --sweep, the studio's list):
 *   [method:]BITS[gGROUP][+flag…]      e.g. 4g128, gptq:3g32+asym, rtn:4g128, awq:4g64+mse
 *   method  gptq (default), rtn or awq
 *   BITS    2, 3, 4 or 8;  gGROUP a group size (g-1 or no g: one group per row)
 *   flags   asym, act (act-order), static (static groups), mse (MSE clipping search),
 *           damp0.05 (damping fraction); act, static and damp apply to gptq only.
 * Flags may follow without '+' as well: 3g128asym.
 *
 * Pure: the engine's src/engine/sweep.ts runs them.
 */
import { counted } from './plural';
import { dampingRefusal } from './damping';
import type { RunSettings } from './run';
import type { ReportOutput } from './report';
import type { DivergenceStats } from './divergence';
import type { KernelChoices } from './kernel-choice';
import type { ExportPlan } from './export/plan';
import type { SensitivityLinear } from './mixed-precision';
import { BPW_COVERS } from './export/bpw';
import { staticGroupsRefusal } from './groups';

/** What a sweep's bits per weight count (src/core/export/bpw.ts). */
export const BPW_COVERS_TEXT = BPW_COVERS;

export type SweepMethod = 'gptq' | 'rtn' | 'awq';
export const SWEEP_METHODS: readonly SweepMethod[] = ['gptq', 'rtn', 'awq'];
export const SWEEP_BITS = [2, 3, 4, 8] as const;

export interface Strategy {
  method: SweepMethod;
  bits: number;
  groupSize: number;
  sym: boolean;
  actOrder: boolean;
  staticGroups: boolean;
  mse: boolean;
  percDamp: number;
}

/** Default damping of a strategy that names none. */
export const DEFAULT_DAMP = 0.01;

/** The strategy's canonical text, e.g. "gptq:4g128+act" (parseStrategy gives it back). */
export function strategyLabel(s: Strategy): string {
  const flags = [
    s.sym ? null : 'asym',
    s.actOrder ? 'act' : null,
    s.staticGroups ? 'static' : null,
    s.mse ? 'mse' : null,
    s.percDamp !== DEFAULT_DAMP ? `damp${s.percDamp}` : null,
  ].filter((f): f is string => f !== null);
  return `${s.method}:${s.bits}${s.groupSize === -1 ? '' : `g${s.groupSize}`}${flags.map((f) => `+${f}`).join('')}`;
}

/**
 * Parses one strategy, letters in either case ("RTN:4G32" is rtn:4g32; labels are lower case);
 * throws a RangeError saying what is wrong and what is allowed.
 */
export function parseStrategy(text: string): Strategy {
  const t = text.trim().toLowerCase();
  const m = /^(?:(gptq|rtn|awq):)?([0-9]+)(?:g(-?[0-9]+))?(.*)$/.exec(t);
  const help = 'write [gptq:|rtn:|awq:]BITS[gGROUP][+asym][+act][+static][+mse][+dampF], e.g. 4g128, rtn:3g32+asym, awq:4g64';
  if (!m) throw new RangeError(`strategy "${text}": ${help}`);
  const bits = Number(m[2]);
  if (!(SWEEP_BITS as readonly number[]).includes(bits)) throw new RangeError(`strategy "${text}": bits must be 2, 3, 4 or 8 (the widths GPTQ files hold), got ${bits}`);
  const groupSize = m[3] === undefined ? -1 : Number(m[3]);
  if (!(groupSize === -1 || (Number.isInteger(groupSize) && groupSize > 0))) throw new RangeError(`strategy "${text}": the group size must be -1 or a positive integer`);
  const s: Strategy = { method: (m[1] ?? 'gptq') as SweepMethod, bits, groupSize, sym: true, actOrder: false, staticGroups: false, mse: false, percDamp: DEFAULT_DAMP };
  let rest = m[4];
  while (rest.length > 0) {
    const f = /^\+?(asym|sym|act|static|mse|damp([0-9]*\.?[0-9]+))/.exec(rest);
    if (!f && /^\+?damp/.test(rest)) {
      throw new RangeError(`strategy "${text}": +damp needs a fraction of the mean of diag(H) written after it, e.g. +damp0.01 (1 %)`);
    }
    if (!f) throw new RangeError(`strategy "${text}": unknown flag "${rest}"; ${help}`);
    switch (f[1]) {
      case 'asym': s.sym = false; break;
      case 'sym': s.sym = true; break;
      case 'act': s.actOrder = true; break;
      case 'static': s.staticGroups = true; break;
      case 'mse': s.mse = true; break;
      default: {
        const d = Number(f[2]);
        const refused = dampingRefusal(d);
        if (refused) throw new RangeError(`strategy "${text}": ${refused}, got ${f[2]}`);
        s.percDamp = d;
      }
    }
    rest = rest.slice(f[0].length);
  }
  if (s.method !== 'gptq' && (s.actOrder || s.staticGroups || s.percDamp !== DEFAULT_DAMP)) {
    throw new RangeError(`strategy "${text}": act-order, static groups and damping belong to GPTQ; ${s.method.toUpperCase()} has no Hessian to use them`);
  }
  const staticRefused = staticGroupsRefusal(s, {
    setting: '+static', perRow: 'one group per row (no g)', fix: `give a group size (e.g. ${s.bits}g128${s.actOrder ? '+act' : ''}+static) or drop +static`,
  });
  if (staticRefused) throw new RangeError(`strategy "${text}": ${staticRefused}`);
  return s;
}

/**
 * Parses a comma-separated list; an empty list, an empty entry (two commas, or one at either end:
 * named by its position) and duplicates (same canonical label) are refused.
 */
export function parseStrategies(text: string): Strategy[] {
  const parts = text.split(',').map((p) => p.trim());
  if (parts.every((p) => p === '')) throw new RangeError('give at least one strategy, e.g. "4g128,rtn:4g128,awq:4g128"');
  const empty = parts.indexOf('');
  if (empty >= 0) {
    const where = empty === 0 ? 'before the first comma' : empty === parts.length - 1 ? 'after the last comma' : `between "${parts[empty - 1]}" and "${parts[empty + 1]}"`;
    throw new RangeError(`entry ${empty + 1} of ${parts.length} is empty (${where}): remove the extra comma`);
  }
  const out = parts.map(parseStrategy);
  const seen = new Set<string>();
  for (const s of out) {
    const l = strategyLabel(s);
    if (seen.has(l)) throw new RangeError(`strategy ${l} is listed twice`);
    seen.add(l);
  }
  return out;
}

/** The run settings of a strategy over the sweep's base settings (windows, length, seed, true-sequential). */
export function strategySettings(s: Strategy, base: RunSettings): RunSettings {
  return { ...base, bits: s.bits, groupSize: s.groupSize, sym: s.sym, actOrder: s.actOrder, staticGroups: s.staticGroups, mse: s.mse, percDamp: s.percDamp };
}

/** A pass of a sweep that would be refused (src/engine/sweep.ts sweepRefusals): the strategies it measures (labels) and why. */
export interface SweepRefusal {
  labels: string[];
  reason: string;
}

/** "gptq:4g999, rtn:4g999: with group size 999 no linear …": a refusal as the CLI and the studio say it. */
export function sweepRefusalText(r: SweepRefusal): string {
  return `${r.labels.join(', ')}: ${r.reason}`;
}

/**
 * One quantization pass of a sweep: GPTQ with these settings, and on the same grid and the same
 * captured inputs RTN and (when asked) AWQ. Strategies that share a grid share a pass.
 */
export interface SweepPass {
  /** The GPTQ settings of the pass (for RTN/AWQ-only passes, the default GPTQ options on their grid). */
  strategy: Strategy;
  /** Indices of the strategies this pass measures. */
  members: number[];
  awq: boolean;
}

const gridKey = (s: Strategy) => `${s.bits}|${s.groupSize}|${s.sym}|${s.mse}`;

/**
 * Groups strategies into passes: every GPTQ strategy is a pass of its own; an RTN or AWQ strategy
 * joins the first pass on its grid (bits, group, sym, MSE search), or makes one with GPTQ's default options.
 */
export function sweepPasses(strategies: readonly Strategy[]): SweepPass[] {
  const passes: SweepPass[] = [];
  strategies.forEach((s, i) => {
    if (s.method === 'gptq') passes.push({ strategy: s, members: [i], awq: false });
  });
  strategies.forEach((s, i) => {
    if (s.method === 'gptq') return;
    let p = passes.find((x) => gridKey(x.strategy) === gridKey(s));
    if (!p) {
      p = { strategy: { ...s, method: 'gptq', actOrder: false, staticGroups: false, percDamp: DEFAULT_DAMP }, members: [], awq: false };
      passes.push(p);
    }
    p.members.push(i);
    if (s.method === 'awq') p.awq = true;
  });
  return passes;
}

/** min, max, mean and sample standard deviation (0 for one value) of a measurement over seeds. */
export interface SeedSpread {
  mean: number;
  sd: number;
  min: number;
  max: number;
  n: number;
}

export function seedSpread(values: readonly number[]): SeedSpread {
  if (values.length === 0) throw new RangeError('no values');
  const n = values.length;
  const mean = values.reduce((s, v) => s + v, 0) / n;
  const sd = n > 1 ? Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, sd, min: Math.min(...values), max: Math.max(...values), n };
}

/**
 * Whether two strategies' measurements differ by less than the seed noise: their min–max ranges
 * over seeds overlap, or their means are within the larger ±σ. False when either has one seed.
 */
export function withinSeedNoise(a: SeedSpread, b: SeedSpread): boolean {
  if (a.n < 2 || b.n < 2) return false;
  const overlap = a.min <= b.max && b.min <= a.max;
  return overlap || Math.abs(a.mean - b.mean) <= Math.max(a.sd, b.sd);
}

/**
 * Indices of the Pareto front of points (x, y), both to be minimised: a point is on the front when
 * no other point has x ≤ and y ≤ with one of them strictly smaller. Ordered by x.
 */
export function paretoFront(points: readonly { x: number; y: number }[]): number[] {
  const idx = points.map((_, i) => i).filter((i) => Number.isFinite(points[i].x) && Number.isFinite(points[i].y));
  const front = idx.filter((i) => !idx.some((j) => j !== i && points[j].x <= points[i].x && points[j].y <= points[i].y && (points[j].x < points[i].x || points[j].y < points[i].y)));
  return front.sort((a, b) => points[a].x - points[b].x || points[a].y - points[b].y);
}

/** What one strategy measured with one calibration seed. */
export interface StrategySeedResult {
  seed: number;
  /** Perplexity per evaluation text (by name); null when not measured (cancelled). */
  perplexity: Record<string, number | null>;
  /** Divergence from the original per evaluation text. */
  divergence: Record<string, DivergenceStats | null>;
  /** Per-linear output MSE of this strategy's method, in run order (rows/cols of the model). */
  layers: { block: number; name: string; mse: number; alpha?: number | null }[];
}

/** One strategy of a sweep, as report.json's "sweep" block holds it. */
export interface StrategyResult {
  label: string;
  strategy: Strategy;
  /** Bits per weight from the export's layout (src/core/export/bpw.ts; BPW_COVERS says what it counts). */
  bpw: number;
  /** Why this strategy has no download (AWQ: comparison only; a plan's refusal), or null when it has one. */
  notExportable: string | null;
  seeds: StrategySeedResult[];
  /** Spread over seeds of the first text's perplexity and mean KLD. */
  summary: { perplexity: SeedSpread | null; kld: SeedSpread | null };
}

export interface SweepReport {
  strategies: StrategyResult[];
  seeds: number[];
  /** The original model's perplexity per evaluation text. */
  original: Record<string, number>;
  /** Labels of the strategies on the Pareto front of (bpw, first text's mean perplexity). */
  front: string[];
  /** What bpw counts. */
  bpwCovers: string;
  /** The plan of each pass, as decided before it ran (padding, unquantized linears), by label. */
  plans: Record<string, ExportPlan>;
}

/** The summary of a strategy's seeds on the first text. */
export function strategySummary(seeds: readonly StrategySeedResult[], firstText: string): StrategyResult['summary'] {
  const ppl = seeds.map((s) => s.perplexity[firstText]).filter((v): v is number => typeof v === 'number');
  const kld = seeds.map((s) => s.divergence[firstText]?.kld_mean).filter((v): v is number => typeof v === 'number');
  return { perplexity: ppl.length > 0 ? seedSpread(ppl) : null, kld: kld.length > 0 ? seedSpread(kld) : null };
}

/** Labels on the Pareto front of (bpw, mean perplexity on the first text). */
export function sweepFront(strategies: readonly StrategyResult[]): string[] {
  const pts = strategies.map((s) => ({ x: s.bpw, y: s.summary.perplexity?.mean ?? Number.NaN }));
  return paretoFront(pts).map((i) => strategies[i].label);
}

/** A layer × width map of GPTQ's output error, measured in one pass on the same captured inputs. */
export interface SensitivityMap {
  /** The strategy whose pass measured it: the mixed-precision run takes its settings (and group size). */
  label: string;
  /** Widths measured, ascending. */
  widths: number[];
  /** Every quantized linear, in run order, with its shapes (model and stored) and MSE per width. */
  linears: SensitivityLinear[];
}

/** Progress of a sweep: steps are (pass, seed) pairs; each quantizes once and evaluates its strategies. */
export type SweepProgressEvent =
  | { type: 'stage'; stage: 'checking' | 'reference' | 'evaluating'; detail: string; elapsed: number; done?: number; total?: number }
  | { type: 'step'; step: number; steps: number; seed: number; labels: string[]; phase: 'quantizing' | 'evaluating'; elapsed: number }
  | { type: 'linear'; step: number; done: number; total: number; elapsed: number }
  | { type: 'result'; label: string; result: StrategySeedResult; elapsed: number };

/** What a cancelled sweep's report says of the strategies it does not hold. */
export interface SweepCancelled {
  /** Strategies whose every seed finished (quantized, perplexity and divergence on every text): the report's. */
  after: number;
  /** Strategies asked for. */
  of: number;
  /** Labels of the strategies not measured (not started, or not every seed finished), in the order given. */
  strategies: string[];
}

/**
 * "cancelled after 1 of 3 strategies; not measured: gptq:2g32, rtn:3g32": a cancelled sweep's
 * line (the CLI prints it, the studio shows it above the results).
 */
export function sweepCancelledText(c: SweepCancelled): string {
  return `cancelled after ${c.after} of ${c.of} ${c.of === 1 ? 'strategy' : 'strategies'}; not measured: ${c.strategies.join(', ')}`;
}

/**
 * What a sweep cancelled before any strategy had every seed measured drops: "any strategy had all
 * 2 seeds measured: the 1 result measured (gptq:4g32 seed 5) was dropped, as a strategy is compared
 * over all its seeds" (after "cancelled before"; the CLI's message and the studio's line).
 */
export function droppedResultsText(dropped: readonly { label: string; seed: number }[], seeds: number): string {
  const list = dropped.map((r) => `${r.label} seed ${r.seed}`).join(', ');
  return `any strategy had all ${counted(seeds, 'seed')} measured: the ${counted(dropped.length, 'result')} measured (${list}) ` +
    `${dropped.length === 1 ? 'was' : 'were'} dropped, as a strategy is compared over all its seeds`;
}

/** report.json of a sweep (the CLI's --sweep, the studio's "Compare strategies"). */
export interface SweepRunReport {
  kind: 'sweep';
  model: { name: string; arch: string; blocks: number; hiddenSize: number; parameters: number; dtype: string };
  /** As RunReport's: the adapter's summary and the kernels it ran (`kernels`). */
  adapter: Record<string, unknown> & { kernels?: KernelChoices };
  /** The base settings every strategy shares (windows, length, true-sequential; seed = the first seed). */
  settings: RunSettings;
  /** What was written, in report.json's shape for runs (src/core/report.ts): report.json alone. */
  output: ReportOutput;
  calibration: { text: string; tokens: number };
  evaluations: { text: string; seqlen: number; windows: number }[];
  sweep: SweepReport;
  /** The layer-sensitivity map, when asked for (and measured whole: a cancel before its pass ended leaves null). */
  sensitivity: SensitivityMap | null;
  /**
   * Present only when the sweep was cancelled after at least one strategy had finished every seed:
   * `sweep` then holds those strategies alone (front, plans and summaries over them) and this says
   * which were not measured. A sweep cancelled before that writes no report.
   */
  cancelled?: SweepCancelled;
  seconds: number;
  /** The files written: report.json (the CLI), or the studio's one saved file. */
  files?: string[];
  /**
   * What the user was told before the work, for every strategy alike (the plan's warnings for the
   * base settings, SweepHooks.onWarnings).
   */
  warnings: string[];
}
