/**
 * A mixed-precision plan from a layer-sensitivity map: which width each linear gets so that the
 * export's bits per weight (src/core/export/bpw.ts, scales, zeros and g_idx included) stays at or
 * under a target, with as little output error as a greedy choice finds.
 *
 * Units: linears that loaders fuse (vLLM's q/k/v and gate/up, per block) move together, so the
 * file loads in vLLM, which requires one precision per fused layer. A unit's error at width b is
 * Σ over its linears of the output MSE × rows (the squared output error per token,
 * ‖(W − Q)Xᵀ‖² / tokens, measured on the run's captured inputs); its cost is the bits its tensors
 * take in the file. Greedy (a knapsack's usual heuristic): start every unit at the narrowest width;
 * repeatedly take the upgrade (a unit to any wider width) with the largest error reduction per
 * extra bit that still fits the budget; stop when none fits.
 */
import { storedBits } from './export/bpw';

export interface SensitivityLinear {
  block: number;
  name: string;
  /** The model's shape (weights counted: rows × cols). */
  rows: number;
  cols: number;
  /** The shape as stored (after padding for the loaders). */
  N: number;
  K: number;
  /** Output MSE at each width the map measured. */
  mse: Record<number, number>;
}

export interface MixedPrecisionPlan {
  /** Width of every planned linear by `${block}.${name}`. */
  bits: Record<string, number>;
  /** The plan's bits per weight (≤ the target unless `belowMinimum`). */
  bpw: number;
  target: number;
  /** The narrowest and widest plans' bits per weight (what targets make sense). */
  range: { min: number; max: number };
  /** Σ units' squared output error per token at the chosen widths. */
  error: number;
  /** The width most weights have: the export's base `bits` (the others get `dynamic` overrides). */
  baseBits: number;
  /** True when even every linear at the narrowest width exceeds the target (the plan is then that). */
  belowMinimum: boolean;
  /** Weights at each width. */
  weightsPerBits: Record<number, number>;
}

/**
 * Plans widths from `widths` (those the map measured, ascending) for `linears` at `groupSize` so
 * that bpw ≤ `targetBpw`; `fused` lists block-level names that must share a width (per block).
 * Throws on a linear without an MSE for some width, or no linears.
 */
export function planMixedPrecision(
  linears: readonly SensitivityLinear[],
  widths: readonly number[],
  groupSize: number,
  targetBpw: number,
  fused: readonly (readonly string[])[],
): MixedPrecisionPlan {
  if (linears.length === 0) throw new RangeError('no quantized linears to plan');
  const ws = [...widths].sort((a, b) => a - b);
  for (const l of linears) {
    for (const w of ws) if (!Number.isFinite(l.mse[w])) throw new RangeError(`block ${l.block} ${l.name} has no output error measured at ${w} bits`);
  }
  // Units: fused names of a block together, every other linear alone.
  const units: SensitivityLinear[][] = [];
  const byBlock = new Map<number, SensitivityLinear[]>();
  for (const l of linears) byBlock.set(l.block, [...(byBlock.get(l.block) ?? []), l]);
  for (const [, ls] of [...byBlock].sort((a, b) => a[0] - b[0])) {
    const taken = new Set<string>();
    for (const l of ls) {
      if (taken.has(l.name)) continue;
      const set = fused.find((f) => f.includes(l.name));
      const unit = set ? ls.filter((x) => set.includes(x.name)) : [l];
      unit.forEach((x) => taken.add(x.name));
      units.push(unit);
    }
  }
  const cost = (u: SensitivityLinear[], w: number) => u.reduce((s, l) => s + storedBits({ N: l.N, K: l.K, bits: w, groupSize }).total, 0);
  const err = (u: SensitivityLinear[], w: number) => u.reduce((s, l) => s + l.mse[w] * l.rows, 0);
  const weights = linears.reduce((s, l) => s + l.rows * l.cols, 0);
  const budget = targetBpw * weights;
  const level = units.map(() => 0);
  let used = units.reduce((s, u) => s + cost(u, ws[0]), 0);
  const min = used / weights;
  const max = units.reduce((s, u) => s + cost(u, ws[ws.length - 1]), 0) / weights;
  for (;;) {
    let best: { u: number; to: number; ratio: number; dc: number } | null = null;
    for (let u = 0; u < units.length; u++) {
      const from = ws[level[u]];
      for (let k = level[u] + 1; k < ws.length; k++) {
        const dc = cost(units[u], ws[k]) - cost(units[u], from);
        if (used + dc > budget) continue;
        const ratio = (err(units[u], from) - err(units[u], ws[k])) / dc;
        if (ratio > 0 && (!best || ratio > best.ratio)) best = { u, to: k, ratio, dc };
      }
    }
    if (!best) break;
    level[best.u] = best.to;
    used += best.dc;
  }
  const bits: Record<string, number> = {};
  const weightsPerBits: Record<number, number> = {};
  let error = 0;
  units.forEach((u, i) => {
    const w = ws[level[i]];
    error += err(u, w);
    for (const l of u) {
      bits[`${l.block}.${l.name}`] = w;
      weightsPerBits[w] = (weightsPerBits[w] ?? 0) + l.rows * l.cols;
    }
  });
  const baseBits = Number(Object.entries(weightsPerBits).sort((a, b) => b[1] - a[1] || Number(b[0]) - Number(a[0]))[0][0]);
  return { bits, bpw: used / weights, target: targetBpw, range: { min, max }, error, baseBits, belowMinimum: min > targetBpw, weightsPerBits };
}
