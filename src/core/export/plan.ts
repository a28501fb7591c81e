/**
 * What the export can take, decided before a run so that the perplexities shown are those of the
 * file downloaded. Loaders need whole int32 words along both dimensions (in and out features
 * multiples of 32, which also covers 3-bit) and whole groups along the input (vLLM: in-features
 * divisible by the group size). An MLP width that misses is padded (zero rows in the expanding
 * linears, zero columns in the contracting one: the same function); any other misfit leaves the
 * linear unquantized, with its fused partners in vLLM (q/k/v, gate/up) so that loaders agree.
 *
 * Every float value of the file is F16 (GPTQ checkpoints are float16 models, and vLLM casts every
 * tensor to the model dtype: ../shared/docs/loaders.md §4). Given each tensor's largest magnitude
 * (src/core/model/tensor-scan.ts), the plan refuses the export when a tensor does not fit ±65504:
 * keeping such a linear in full precision would not help, since full precision in this file is
 * F16 too, and its quantized form dequantizes to the same out-of-range values. The loaders' other
 * rules (vLLM's method and kernel per linear, transformers' config checks) become warnings.
 */
import type { ModelConfig } from '../model/config';
import { mlpLinears, type ModelLayout } from '../model/architecture';
import type { TensorStats } from '../model/tensor-scan';
import { isPackable } from './pack';
import { checkpointFormatFor, type CheckpointFormat } from './gptq-linear';
import { F16_MAX, fitsHalf } from './f16';

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
  /**
   * True when every value fits float16, the dtype of every float tensor in the file: the run then
   * evaluates its RTN and GPTQ models with the values the file holds (F16 scales, F16 embeddings,
   * norms, biases and full-precision linears). False when some tensor exceeds ±65504; the export
   * is then refused and the quantized models are evaluated as computed.
   */
  f16: boolean;
  /** What the common loaders do with this file that the user should know (vLLM kernels, transformers' checks). */
  warnings: string[];
}

/** The settings the plan depends on; the optional ones only change warnings. */
export interface PlanSettings {
  bits: number;
  groupSize: number;
  sym: boolean;
  actOrder?: boolean;
  staticGroups?: boolean;
  percDamp?: number;
  /** Per-linear widths of a mixed-precision run by `${block}.${linear}` (RunSettings.moduleBits). */
  moduleBits?: Record<string, number>;
}

export { mlpLinears };

/** Linears vLLM loads as one fused layer (the layout's fusedSets): they are quantized together or not at all, at one width. */
export function fusedSets(layout: ModelLayout): string[][] {
  return layout.block.fusedSets.map((f) => f.parts);
}

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

/**
 * Tensors whose values do not fit float16, largest first, from the scan's statistics; and the
 * refusal that names them and says what to change (null when all fit).
 */
export function rangeRefusal(ranges: ReadonlyMap<string, TensorStats>): string | null {
  const over = [...ranges].filter(([, s]) => !fitsHalf(s.maxAbs)).sort((a, b) => b[1].maxAbs - a[1].maxAbs);
  if (over.length === 0) return null;
  const named = over.slice(0, 3).map(([n, s]) => `${n} (largest |value| ${s.maxAbs.toPrecision(3)})`).join(', ');
  return `${over.length} tensor${over.length > 1 ? 's hold' : ' holds'} values beyond ±${F16_MAX}, the float16 range: ${named}` +
    `${over.length > 3 ? ', …' : ''}. GPTQ checkpoints are float16 models (scales are F16, and vLLM, transformers and ` +
    'GPTQModel cast every other tensor to float16), so these values would load as ±Inf, quantized or not. ' +
    'The run still compares GPTQ with RTN, but there is no download; to get one, rescale the model so that every ' +
    'weight fits float16 (for example move an outlier row\'s scale into the layer that reads it) and quantize that';
}

/** vLLM's gptq_marlin method: symmetric 4/8-bit grids with these group sizes (loaders.md §5). */
const MARLIN_GROUP_SIZES = [-1, 32, 64, 128];

/**
 * What vLLM and transformers will do with this file, as warnings (loaders.md §1, §4, §5). `shapes`
 * are the quantized linears' [name, out, in] as exported (after padding).
 */
export function loaderWarnings(settings: PlanSettings, format: CheckpointFormat, shapes: [string, number, number][]): string[] {
  const { bits, groupSize: g, sym } = settings;
  const warnings: string[] = [];
  const marlin = sym && (bits === 4 || bits === 8) && MARLIN_GROUP_SIZES.includes(g);
  // A non-trivial g_idx (desc_act) comes from act-order with groups, unless static groups keep them in order.
  const descAct = settings.actOrder === true && settings.staticGroups !== true && g !== -1;
  if (shapes.length > 0 && !marlin) {
    const why = !sym || (bits !== 4 && bits !== 8)
      ? `${bits}-bit ${sym ? 'symmetric' : 'asymmetric'} grids`
      : `group size ${g}`;
    warnings.push(`vLLM serves ${why} with its gptq method (gptq_gemm kernel; its fast Marlin kernels take symmetric 4- and ` +
      `8-bit grids with group size -1, 32, 64 or 128), which runs in float16 only: the export says float16, so do not ` +
      `pass --dtype bfloat16${bits === 4 ? '; newer vLLM also warns that its 4-bit gptq_gemm kernel is buggy' : ''}.`);
  }
  if (marlin && descAct) {
    const strict = shapes.filter(([, out, inF]) => out % 64 !== 0 || inF % 128 !== 0);
    if (strict.length > 0) {
      const names = [...new Set(strict.map(([n]) => n))];
      const machete = (g === 64 || g === 128) && strict.every(([, out, inF]) => out % 128 === 0 && inF % 64 === 0);
      warnings.push(`With act-order, vLLM's Marlin kernel needs in-features divisible by 128 and out-features by 64; ` +
        `${names.join(', ')} ${names.length > 1 ? 'miss' : 'misses'} that, so vLLM runs ${names.length > 1 ? 'them' : 'it'} with ` +
        `${machete ? 'Machete on Hopper and elsewhere with ' : ''}its Exllama kernel, which needs float16: the export says ` +
        'float16; under --dtype bfloat16 vLLM would find no kernel for them. Without act-order Marlin takes any width.');
    }
  }
  if (format === 'gptq_v2') {
    warnings.push('Asymmetric grids are stored as gptq_v2 (true zero points, both format and checkpoint_format): ' +
      'GPTQModel and vLLM read it; AutoGPTQ does not.');
  }
  if (settings.percDamp !== undefined && !(settings.percDamp > 0 && settings.percDamp < 1)) {
    warnings.push(`damp_percent ${settings.percDamp} (${Number((settings.percDamp * 100).toPrecision(6))} % of the mean of diag(H)) is written ` +
      'as used, but transformers (GPTQConfig) and optimum refuse to load a damp_percent outside (0, 1): use a damping above 0 % ' +
      'and below 100 % for a file transformers loads.');
  }
  return warnings;
}

/**
 * The export plan for these settings. `ranges` (each used tensor's largest magnitude, from the
 * scan before a run) adds the float16 range check; without it (a preview) values are assumed to fit.
 */
export function planExport(config: ModelConfig, layout: ModelLayout, settings: PlanSettings, ranges?: ReadonlyMap<string, TensorStats>): ExportPlan {
  const format = checkpointFormatFor(settings.sym);
  const outOfRange = ranges ? rangeRefusal(ranges) : null;
  if (!isPackable(settings.bits)) {
    return {
      refusal: `${settings.bits}-bit weights have no GPTQ checkpoint format (loaders take 2, 3, 4 or 8 bits): ` +
        'the run compares GPTQ with RTN, but there is no download; choose 2, 3, 4 or 8 bits to get one',
      format,
      intermediate: null,
      unquantized: [],
      f16: outOfRange === null,
      warnings: [],
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
  const shapes = layout.block.linears.filter((l) => !reasons.has(l.name)).map((l): [string, number, number] => [
    l.name,
    intermediate && mlp.expand.includes(l.name) ? padded : l.out,
    intermediate && l.name === mlp.contract ? padded : l.in,
  ]);
  const widths = mixedWidths(settings, layout);
  if (widths.refusal) return { refusal: widths.refusal, format, intermediate, unquantized, f16: outOfRange === null, warnings: [] };
  const warnings = widths.others.length === 0 ? loaderWarnings(settings, format, shapes) : [
    ...new Set([settings.bits, ...widths.others].flatMap((bits) => loaderWarnings({ ...settings, bits }, format, shapes))),
    `Mixed precision: ${widths.others.length === 1 ? 'some linears have' : 'linears have'} ${widths.others.join('/')} bits beside the base ${settings.bits} ` +
      '(positive rules in quantization_config.dynamic, honoured by GPTQModel and vLLM; q/k/v and gate/up share a width as vLLM fuses them). ' +
      `transformers and optimum drop \`dynamic\`: they build every quantized linear at ${settings.bits} bits, so loading this file ` +
      'there fails on the first linear stored at another width (its qweight has another shape): load it with GPTQModel or vLLM.',
  ];
  return { refusal: outOfRange, format, intermediate, unquantized, f16: outOfRange === null, warnings };
}

/** The widths of a mixed-precision run other than the base, or why its widths cannot be exported. */
function mixedWidths(settings: PlanSettings, layout: ModelLayout): { others: number[]; refusal: string | null } {
  const m = settings.moduleBits;
  if (!m || Object.keys(m).length === 0) return { others: [], refusal: null };
  const names = new Set(layout.block.linears.map((l) => l.name));
  for (const [key, bits] of Object.entries(m)) {
    const dot = key.indexOf('.');
    const block = Number(key.slice(0, dot));
    if (!(Number.isInteger(block) && block >= 0 && block < layout.numBlocks && names.has(key.slice(dot + 1)))) {
      return { others: [], refusal: `the mixed-precision plan names ${key}, which is no linear of this model: plan it again for this model` };
    }
    if (!isPackable(bits)) return { others: [], refusal: `the mixed-precision plan gives ${key} ${bits} bits; GPTQ files hold 2, 3, 4 or 8` };
  }
  for (let b = 0; b < layout.numBlocks; b++) {
    for (const set of fusedSets(layout)) {
      const w = new Set(set.map((n) => m[`${b}.${n}`] ?? settings.bits));
      if (w.size > 1) return { others: [], refusal: `block ${b}: ${set.join(', ')} have different widths (${[...w].join(', ')}); vLLM loads them as one layer of one width` };
    }
  }
  const others = [...new Set(Object.values(m))].filter((w) => w !== settings.bits).sort((a, b) => a - b);
  return { others, refusal: null };
}

/** Group sizes tried when saying which ones fit a model. */
const COMMON_GROUP_SIZES = [-1, 16, 32, 64, 128, 256];

/**
 * Why a run with these settings would quantize nothing (every linear left in full precision by the
 * plan), saying which group sizes fit this model; null when something gets quantized.
 */
export function nothingToQuantize(config: ModelConfig, layout: ModelLayout, settings: PlanSettings, plan: ExportPlan): string | null {
  if (plan.unquantized.length < layout.block.linears.length) return null;
  const quantizedCount = (g: number) => layout.block.linears.length - planExport(config, layout, { ...settings, groupSize: g }).unquantized.length;
  const all = COMMON_GROUP_SIZES.filter((g) => quantizedCount(g) === layout.block.linears.length);
  const some = COMMON_GROUP_SIZES.filter((g) => quantizedCount(g) > 0);
  const label = (gs: number[]) => gs.map((g) => (g === -1 ? '-1 (one group per row)' : String(g))).join(', ');
  const advice = all.length > 0
    ? `group sizes that quantize every linear of this model: ${label(all)}`
    : some.length > 0
      ? `group sizes that quantize some of its linears: ${label(some)}`
      : 'none of the group sizes -1, 16, 32, 64, 128, 256 packs a linear of this model for the loaders';
  return `with group size ${settings.groupSize} no linear of this model can be exported quantized ` +
    `(${plan.unquantized[0].name}: ${plan.unquantized[0].reason}), so the run would quantize nothing; ${advice}`;
}
