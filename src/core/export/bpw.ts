/**
 * Bits per weight of a GPTQ export, counted from the file's layout (../../shared/docs/gptq-reference.md §2,
 * src/core/export/gptq-linear.ts) for each quantized linear [N out, K in] with G groups:
 *   qweight  I32 [K·bits/32, N]   K·N·bits bits (the codes)
 *   qzeros   I32 [G, N·bits/32]   G·N·bits
 *   scales   F16 [G, N]           G·N·16
 *   g_idx    I32 [K]              K·32
 * bpw = Σ those bits / Σ the model's weights in those linears. Padding added for the loaders (an MLP
 * width padded to a multiple of 32 or of the group) is counted as stored but not as weights, so it
 * shows as cost. Not covered: the linears left in F16, embeddings, norms, biases and the LM head.
 */
import { groupCount } from '../types';
import { packedLength } from './pack';
import { mlpLinears, type ExportPlan } from './plan';
import type { ModelLayout } from '../model/architecture';

/** One linear as the file stores it: its stored shape and width, and its weights in the model. */
export interface StoredLinear {
  /** Out features as stored (padded rows included). */
  N: number;
  /** In features as stored (padded columns included). */
  K: number;
  bits: number;
  groupSize: number;
  /** The model's own weights in this linear (rows × cols before padding). */
  weights: number;
}

/** Bits of a linear's qweight, qzeros, scales and g_idx. */
export function storedBits(l: Pick<StoredLinear, 'N' | 'K' | 'bits' | 'groupSize'>): { qweight: number; qzeros: number; scales: number; gIdx: number; total: number } {
  const G = groupCount(l.K, l.groupSize);
  const qweight = packedLength(l.K, l.bits) * l.N * 32;
  const qzeros = G * packedLength(l.N, l.bits) * 32;
  const scales = G * l.N * 16;
  const gIdx = l.K * 32;
  return { qweight, qzeros, scales, gIdx, total: qweight + qzeros + scales + gIdx };
}

/** Bits per weight over these quantized linears (see the module comment); NaN for none. */
export function bitsPerWeight(linears: readonly StoredLinear[]): number {
  let bits = 0;
  let weights = 0;
  for (const l of linears) {
    bits += storedBits(l).total;
    weights += l.weights;
  }
  return weights > 0 ? bits / weights : Number.NaN;
}

/** What the bpw covers, in words, for charts and reports. */
export const BPW_COVERS =
  'qweight + qzeros + F16 scales + g_idx of the quantized linears, per weight of those linears ' +
  '(padding counted as cost); F16 linears, embeddings, norms and the LM head are not included';

/**
 * The quantized linears of every block as an export with `plan` stores them (its padded MLP
 * width, its linears left in F16 excluded), each at bitsOf(block, name).
 */
export function plannedLinears(
  layout: ModelLayout,
  plan: Pick<ExportPlan, 'intermediate' | 'unquantized'>,
  groupSize: number,
  bitsOf: (block: number, name: string) => number,
): (StoredLinear & { block: number; name: string; rows: number; cols: number })[] {
  const mlp = mlpLinears(layout);
  const skip = new Set(plan.unquantized.map((u) => u.name));
  const out: (StoredLinear & { block: number; name: string; rows: number; cols: number })[] = [];
  for (let b = 0; b < layout.numBlocks; b++) {
    for (const l of layout.block.linears) {
      if (skip.has(l.name)) continue;
      const N = plan.intermediate && mlp.expand.includes(l.name) ? plan.intermediate.to : l.out;
      const K = plan.intermediate && l.name === mlp.contract ? plan.intermediate.to : l.in;
      out.push({ block: b, name: l.name, rows: l.out, cols: l.in, N, K, bits: bitsOf(b, l.name), groupSize, weights: l.out * l.in });
    }
  }
  return out;
}
