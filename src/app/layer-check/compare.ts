/**
 * The layer check: what is checked, how it is read from the URL, and how the worker's GPU result
 * is compared with the f64 reference. Pure functions, no DOM and no GPU.
 *
 * A GPU GPTQ in f32 and the f64 reference agree up to rounding, except at rounding ties. A
 * symmetric grid whose group parameters are found as the sweep reaches the group (groupSize ≠ −1,
 * no static groups) has one built in: when the group's largest-magnitude weight is negative and in
 * its first column, that weight lands exactly halfway between codes 0 and 1, so f32 and f64
 * arithmetic may round it either way. GPTQ then
 * feeds a different error into the rest of the row, and a few later codes (and that row's later
 * group scales) differ too; measured on this page, 0–2% of the codes on the default case. So the
 * check asks for near-total code agreement, the same dequantized value wherever both results sit
 * on the same grid point, and the losses and output errors close; not bit equality.
 */
import { defaultQuantOptions } from '../../core/types';
import type { GptqResult, QuantOptions, QuantResult } from '../../core/types';
import type { GpuGptqResult } from '../../engine/gptq-layer';
import type { LayerShape } from './layer';

export interface LayerCheckSpec extends LayerShape {
  options: QuantOptions;
}

/** The default case: 48×40 weights, 96 tokens, 4 bits in groups of 16, blocks of 16 columns. */
export const DEFAULT_LAYER_CHECK: LayerCheckSpec = {
  seed: 0,
  rows: 48,
  cols: 40,
  tokens: 96,
  options: { ...defaultQuantOptions, bits: 4, groupSize: 16, blockSize: 16 },
};

/** Pass thresholds. */
export const THRESHOLDS = {
  /** Fraction of integer codes that must equal the reference's. */
  minCodeAgreement: 0.99,
  /**
   * Max |ΔQ| / scale on entries that sit on the same grid point in both results (same code, same
   * zero, scales within SAME_SCALE): only f32 against f64 rounding of scale·(code − zero) is left.
   */
  maxSameGridDqOverScale: 1e-3,
  /** Relative difference allowed between the GPU's and the reference's loss, and output MSE. */
  maxLossRelDiff: 0.02,
  maxMseRelDiff: 0.02,
} as const;

/**
 * Two scales count as the same when within this relative difference. Group scales are found from
 * the weights as updated so far, so one code that rounds the other way earlier in a row moves the
 * later groups' scales of that row a little; those entries are judged by the loss and MSE instead.
 */
export const SAME_SCALE = 1e-4;

function intParam(q: URLSearchParams, name: string, fallback: number): number {
  const v = q.get(name);
  if (v === null || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new RangeError(`?${name}= must be an integer, got "${v}"`);
  return n;
}

function numParam(q: URLSearchParams, name: string, fallback: number): number {
  const v = q.get(name);
  if (v === null || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new RangeError(`?${name}= must be a number, got "${v}"`);
  return n;
}

function boolParam(q: URLSearchParams, name: string, fallback: boolean): boolean {
  const v = q.get(name);
  if (v === null || v === '') return fallback;
  return v === '1' || v === 'true';
}

/**
 * Reads a layer-check case from the query string; any parameter left out keeps its default.
 * `/?check=layer&seed=3&bits=3&group=8&sym=0&actorder=1&static=1&mse=1&block=8&damp=0.01&rows=48&cols=40&tokens=96`
 */
export function parseLayerCheckSpec(search: string): LayerCheckSpec {
  const q = new URLSearchParams(search);
  const d = DEFAULT_LAYER_CHECK;
  const shape = {
    seed: intParam(q, 'seed', d.seed),
    rows: intParam(q, 'rows', d.rows),
    cols: intParam(q, 'cols', d.cols),
    tokens: intParam(q, 'tokens', d.tokens),
  };
  for (const [k, v] of Object.entries(shape)) {
    if (k !== 'seed' && (v < 1 || v > 4096)) throw new RangeError(`?${k}= must be from 1 to 4096, got ${v}`);
  }
  const options: QuantOptions = {
    bits: intParam(q, 'bits', d.options.bits),
    groupSize: intParam(q, 'group', d.options.groupSize),
    sym: boolParam(q, 'sym', d.options.sym),
    mse: boolParam(q, 'mse', d.options.mse),
    actOrder: boolParam(q, 'actorder', d.options.actOrder),
    staticGroups: boolParam(q, 'static', d.options.staticGroups),
    percDamp: numParam(q, 'damp', d.options.percDamp),
    blockSize: intParam(q, 'block', d.options.blockSize),
  };
  return { ...shape, options };
}

export interface LayerCheckReport {
  pass: boolean;
  /** One line per failed criterion; empty when `pass`. */
  failures: string[];
  entries: number;
  codesDiffering: number;
  codeAgreement: number;
  /** Largest |code_gpu − code_ref|. */
  maxCodeStep: number;
  /** Entries on the same grid point in both (same code, zero, and scale within SAME_SCALE). */
  sameGridEntries: number;
  maxSameGridDqOverScale: number;
  maxAbsDq: number;
  /** Max |ΔQ| / the reference's scale of that entry, over all entries. */
  maxDqOverScale: number;
  /** Fraction of the [groups, rows] scales within SAME_SCALE of the reference's. */
  scaleAgreement: number;
  maxScaleRelDiff: number;
  loss: { gpu: number; reference: number; relDiff: number };
  mse: { gptq: number; rtn: number; gptqReference: number; relDiff: number };
  fellBackToRtn: { gpu: boolean; reference: boolean };
  /** Damping fraction finally used (raised when Cholesky failed). */
  percDampUsed: { gpu: number; reference: number };
  /** Whether the act-order permutations are identical (null when act-order is off). */
  permAgrees: boolean | null;
  /** GPU stage timings as the engine reports them, plus the reference's wall time. */
  seconds: { gpu: Record<string, number>; reference: number };
}

/** What the GPU side returns (the worker's quantizeLayer response, minus what is not compared). */
export interface GpuSide {
  gptq: GpuGptqResult;
  rtn: QuantResult;
  mse: { gptq: number; rtn: number };
}

/** What the f64 reference side computed on the main thread. */
export interface ReferenceSide {
  gptq: GptqResult;
  /** Output MSE of the reference's Q on the same X, in f64. */
  mse: number;
  seconds: number;
}

function relDiff(a: number, b: number): number {
  const m = Math.max(Math.abs(a), Math.abs(b));
  return m === 0 ? 0 : Math.abs(a - b) / m;
}

export function compareLayer(spec: LayerCheckSpec, gpu: GpuSide, ref: ReferenceSide): LayerCheckReport {
  const { rows, cols } = spec;
  const g = gpu.gptq;
  const r = ref.gptq;
  const entries = rows * cols;
  if (g.Q.length !== entries || r.Q.length !== entries || g.codes.length !== entries) {
    throw new Error(`result sizes differ: GPU Q ${g.Q.length}, reference Q ${r.Q.length}, expected ${entries}`);
  }

  if (g.groups !== r.groups || g.scales.length !== r.scales.length || g.zeros.length !== r.zeros.length) {
    throw new Error(`group counts differ: GPU ${g.groups} (${g.scales.length} scales), reference ${r.groups} (${r.scales.length} scales)`);
  }

  if (g.gIdx.length !== r.gIdx.length || g.gIdx.some((x, j) => x !== r.gIdx[j])) {
    throw new Error('the GPU and the reference assign columns to different groups (g_idx differs)');
  }

  // Scales and zeros: [groups, rows].
  let scalesSame = 0;
  let maxScaleRelDiff = 0;
  for (let k = 0; k < r.scales.length; k++) {
    const d = relDiff(g.scales[k], r.scales[k]);
    maxScaleRelDiff = Math.max(maxScaleRelDiff, d);
    if (d <= SAME_SCALE) scalesSame++;
  }

  let codesDiffering = 0;
  let maxCodeStep = 0;
  let sameGridEntries = 0;
  let maxSameGridDqOverScale = 0;
  let maxAbsDq = 0;
  let maxDqOverScale = 0;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const k = i * cols + j; // [rows, cols]
      const gk = r.gIdx[j] * rows + i; // [groups, rows]
      const scale = Math.abs(r.scales[gk]);
      const dq = Math.abs(g.Q[k] - r.Q[k]);
      const rel = scale > 0 ? dq / scale : dq === 0 ? 0 : Infinity;
      maxAbsDq = Math.max(maxAbsDq, dq);
      maxDqOverScale = Math.max(maxDqOverScale, rel);
      const step = Math.abs(g.codes[k] - r.codes[k]);
      if (step !== 0) {
        codesDiffering++;
        maxCodeStep = Math.max(maxCodeStep, step);
      } else if (g.zeros[gk] === r.zeros[gk] && relDiff(g.scales[gk], r.scales[gk]) <= SAME_SCALE) {
        sameGridEntries++;
        maxSameGridDqOverScale = Math.max(maxSameGridDqOverScale, rel);
      }
    }
  }

  let permAgrees: boolean | null = null;
  if (spec.options.actOrder) {
    permAgrees = g.perm !== null && r.perm !== null && g.perm.length === r.perm.length && g.perm.every((p, i) => p === r.perm![i]);
  }

  const codeAgreement = 1 - codesDiffering / entries;
  const loss = { gpu: g.loss, reference: r.loss, relDiff: relDiff(g.loss, r.loss) };
  const mse = { gptq: gpu.mse.gptq, rtn: gpu.mse.rtn, gptqReference: ref.mse, relDiff: relDiff(gpu.mse.gptq, ref.mse) };

  const t = THRESHOLDS;
  const failures: string[] = [];
  if (!(codeAgreement >= t.minCodeAgreement)) failures.push(`codes agree on ${fmtPct(codeAgreement)} of entries (need ≥ ${fmtPct(t.minCodeAgreement)})`);
  if (!(maxSameGridDqOverScale <= t.maxSameGridDqOverScale)) {
    failures.push(`on the same grid point, max |ΔQ|/scale is ${maxSameGridDqOverScale.toExponential(2)} (need ≤ ${t.maxSameGridDqOverScale})`);
  }
  if (!(loss.relDiff <= t.maxLossRelDiff)) failures.push(`GPU loss differs from the reference's by ${fmtPct(loss.relDiff)} (need ≤ ${fmtPct(t.maxLossRelDiff)})`);
  if (!(mse.relDiff <= t.maxMseRelDiff)) failures.push(`GPU output MSE differs from the reference's by ${fmtPct(mse.relDiff)} (need ≤ ${fmtPct(t.maxMseRelDiff)})`);
  if (!(mse.gptq < mse.rtn)) failures.push(`GPTQ's output MSE (${mse.gptq.toExponential(3)}) is not below RTN's (${mse.rtn.toExponential(3)})`);
  if (g.fellBackToRtn !== r.fellBackToRtn) failures.push(`fell back to RTN: GPU ${g.fellBackToRtn}, reference ${r.fellBackToRtn}`);
  if (permAgrees === false) failures.push('act-order permutations differ');

  return {
    pass: failures.length === 0,
    failures,
    entries,
    codesDiffering,
    codeAgreement,
    maxCodeStep,
    sameGridEntries,
    maxSameGridDqOverScale,
    maxAbsDq,
    maxDqOverScale,
    scaleAgreement: scalesSame / r.scales.length,
    maxScaleRelDiff,
    loss,
    mse,
    fellBackToRtn: { gpu: g.fellBackToRtn, reference: r.fellBackToRtn },
    percDampUsed: { gpu: g.percDampUsed, reference: r.percDampUsed },
    permAgrees,
    seconds: { gpu: Object.fromEntries(Object.entries(g.seconds)) as Record<string, number>, reference: ref.seconds },
  };
}

export function fmtPct(x: number): string {
  return `${(100 * x).toFixed(2)}%`;
}
