/**
 * What the export can take, decided before a run so that the perplexities shown are those of the
 * file downloaded. Loaders need whole int32 words along both dimensions (in and out features
 * multiples of 32, which also covers 3-bit) and whole groups along the input (vLLM: in-features
 * divisible by the group size). An MLP width that misses is padded (zero rows in the expanding
 * linears, zero columns in the contracting one: the same function); any other misfit leaves the
 * linear unquantized, with its fused partners in vLLM (q/k/v, gate/up) so that loaders agree.
 */
import type { ModelConfig } from '../model/config';
import { mlpLinears, type ModelLayout } from '../model/architecture';
import { isPackable } from './pack';
import { checkpointFormatFor, type CheckpointFormat } from './gptq-linear';

export interface UnquantizedLinear {
  /** Block-level name, e.g. "self_attn.k_proj" (the same in every block). */
  name: string;
  reason: string;
}

export interface ExportPlan {
  /** Null when the settings can be exported; else why not (the run still works, without a download). */
  refusal: string | null;
  format: CheckpointFormat;
  /** The MLP width padded for the export, or null when it fits as it is. */
  intermediate: { from: number; to: number } | null;
  /** Linears the run leaves in full precision so that the file loads. */
  unquantized: UnquantizedLinear[];
}

export { mlpLinears };

/** Why a [N out, K in] linear cannot be packed for the loaders, or null when it can. */
export function misfit(K: number, N: number, groupSize: number): string | null {
  if (K % 32 !== 0) return `in-features ${K} is not a multiple of 32 (qweight packs 32 input rows per word run)`;
  if (N % 32 !== 0) return `out-features ${N} is not a multiple of 32 (qzeros and the loaders' kernels need it)`;
  if (groupSize !== -1 && K % groupSize !== 0) {
    return `in-features ${K} is not a multiple of the group size ${groupSize} (vLLM needs whole groups)`;
  }
  return null;
}

function lcm(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y) [x, y] = [y, x % y];
  return (a / x) * b;
}

export function planExport(config: ModelConfig, layout: ModelLayout, settings: { bits: number; groupSize: number; sym: boolean }): ExportPlan {
  const format = checkpointFormatFor(settings.sym);
  if (!isPackable(settings.bits)) {
    return {
      refusal: `${settings.bits}-bit weights have no GPTQ checkpoint format (loaders take 2, 3, 4 or 8 bits): ` +
        'the run compares GPTQ with RTN, but there is no download; choose 2, 3, 4 or 8 bits to get one',
      format,
      intermediate: null,
      unquantized: [],
    };
  }
  const g = settings.groupSize;
  const h = config.hiddenSize;
  const width = config.intermediateSize;
  const mlp = mlpLinears(layout);
  const step = lcm(32, g === -1 ? 1 : g);
  const padded = Math.ceil(width / step) * step;
  const canPad = padded !== width && misfit(padded, h, g) === null && misfit(h, padded, g) === null;
  const intermediate = canPad ? { from: width, to: padded } : null;

  const reasons = new Map<string, string>();
  for (const l of layout.block.linears) {
    const K = intermediate && l.name === mlp.contract ? padded : l.in;
    const N = intermediate && mlp.expand.includes(l.name) ? (mlp.fused ? 2 : 1) * padded : l.out;
    const why = misfit(K, N, g);
    if (why) reasons.set(l.name, why);
  }
  for (const { parts: set } of layout.block.fusedSets) {
    const first = set.find((n) => reasons.has(n));
    if (!first) continue;
    for (const n of set) {
      if (!reasons.has(n)) reasons.set(n, `vLLM fuses it with ${first}, which cannot be packed (${reasons.get(first)})`);
    }
  }
  const unquantized = layout.block.linears.filter((l) => reasons.has(l.name)).map((l) => ({ name: l.name, reason: reasons.get(l.name)! }));
  return { refusal: null, format, intermediate, unquantized };
}
