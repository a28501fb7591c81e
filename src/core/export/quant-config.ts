/**
 * The quantization config that transformers (optimum), vLLM, GPTQModel and AutoGPTQ read, written
 * both as config.json's "quantization_config" and as quantize_config.json (docs: §2.5), and read
 * back by the studio's own checkpoint reader.
 */
import type { RunSettings } from '../run';
import type { ModelLayout } from '../model/architecture';
import type { ExportPlan } from './plan';
import { isPackable, type PackableBits } from './pack';
import type { CheckpointFormat } from './gptq-linear';

export const QUANTIZER_NAME = 'gptq-studio:0.1.0';

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * `dynamic` rules that exclude the unquantized linears ("-:" + a regex on the full module name,
 * honoured by GPTQModel and vLLM), including vLLM's fused names when all their parts are excluded.
 */
export function exclusionRules(layout: ModelLayout, unquantized: string[]): Record<string, Record<string, never>> {
  const prefix = escapeRegex(layout.blockPrefix(0)).replace(/(?<=\\\.)0(?=\\\.)/, '\\d+');
  const names = [...unquantized];
  // vLLM's fused module names (the layout's fusedSets), which its loader matches against `dynamic` patterns.
  for (const { name, parts } of layout.block.fusedSets) {
    if (parts.every((p) => unquantized.includes(p))) names.push(name);
  }
  const rules: Record<string, Record<string, never>> = {};
  for (const n of names) rules[`-:^${prefix}${escapeRegex(n)}$`] = {};
  return rules;
}

/** `${block}.${linear}` → width, grouped into the units that share a width (vLLM's fused layers), per block. */
function widthUnits(layout: ModelLayout, moduleBits: Record<string, number>): { block: number; names: string[]; fused: string | null; bits: number }[] {
  const out: { block: number; names: string[]; fused: string | null; bits: number }[] = [];
  const fused = layout.block.fusedSets;
  for (let b = 0; b < layout.numBlocks; b++) {
    const taken = new Set<string>();
    for (const l of layout.block.linears) {
      const bits = moduleBits[`${b}.${l.name}`];
      if (bits === undefined || taken.has(l.name)) continue;
      const f = fused.find(({ parts }) => parts.includes(l.name));
      if (f) {
        const widths = new Set(f.parts.map((n) => moduleBits[`${b}.${n}`]));
        if (widths.size !== 1) throw new RangeError(`block ${b}: ${f.parts.join(', ')} have widths ${[...widths].join(', ')}; vLLM loads them as one layer of one width`);
        f.parts.forEach((n) => taken.add(n));
        out.push({ block: b, names: f.parts, fused: f.name, bits });
      } else {
        taken.add(l.name);
        out.push({ block: b, names: [l.name], fused: null, bits });
      }
    }
  }
  return out;
}

/**
 * Positive `dynamic` rules giving the linears of a mixed-precision run whose width is not `baseBits`
 * their own ("+:" + a regex matched from the start of the module name, first rule wins: GPTQModel
 * and vLLM). A fused unit's rule also names vLLM's fused layer (…qkv_proj, …gate_up_proj), which is
 * the name vLLM matches; GPTQModel matches the unfused ones. Throws when fused parts disagree.
 */
export function widthRules(layout: ModelLayout, moduleBits: Record<string, number>, baseBits: number): Record<string, { bits: number }> {
  const rules: Record<string, { bits: number }> = {};
  for (const u of widthUnits(layout, moduleBits)) {
    if (u.bits === baseBits) continue;
    const names = [...u.names, ...(u.fused ? [u.fused] : [])];
    // "self_attn.q_proj", "self_attn.k_proj" … → self_attn\.(?:q_proj|k_proj|…)
    const dot = names[0].lastIndexOf('.');
    const parent = names[0].slice(0, dot + 1);
    const shared = names.every((n) => n.lastIndexOf('.') === dot && n.startsWith(parent));
    const alt = names.length === 1 ? escapeRegex(names[0])
      : shared ? `${escapeRegex(parent)}(?:${names.map((n) => escapeRegex(n.slice(dot + 1))).join('|')})`
        : `(?:${names.map(escapeRegex).join('|')})`;
    rules[`+:^${escapeRegex(layout.blockPrefix(u.block))}${alt}$`] = { bits: u.bits };
  }
  return rules;
}

export interface QuantizationConfigInputs {
  settings: RunSettings;
  plan: ExportPlan;
  layout: ModelLayout;
  /** True when any exported g_idx is not the trivial ⌊k / group⌋ (act-order without static groups). */
  descAct: boolean;
}

export function quantizationConfig({ settings, plan, layout, descAct }: QuantizationConfigInputs): Record<string, unknown> {
  const skipped = plan.unquantized.map((u) => u.name);
  const config: Record<string, unknown> = {
    quant_method: 'gptq',
    bits: settings.bits,
    group_size: settings.groupSize,
    desc_act: descAct,
    sym: settings.sym,
    damp_percent: settings.percDamp,
    static_groups: settings.staticGroups,
    true_sequential: settings.trueSequential,
    lm_head: false,
    format: plan.format,
    checkpoint_format: plan.format,
    pack_dtype: 'int32',
    model_name_or_path: null,
    model_file_base_name: 'model',
    meta: {
      quantizer: [QUANTIZER_NAME],
      damp_percent: settings.percDamp,
      static_groups: settings.staticGroups,
      true_sequential: settings.trueSequential,
      mse: settings.mse,
      act_order: settings.actOrder,
      nsamples: settings.nsamples,
      seqlen: settings.seqlen,
      seed: settings.seed,
    },
  };
  // Exclusions first: the first matching rule wins.
  const dynamic: Record<string, Record<string, number>> = {
    ...(skipped.length > 0 ? exclusionRules(layout, skipped) : {}),
    ...(settings.moduleBits ? widthRules(layout, settings.moduleBits, settings.bits) : {}),
  };
  if (Object.keys(dynamic).length > 0) config.dynamic = dynamic;
  if (skipped.length > 0) {
    config.modules_in_block_to_quantize = layout.block.sequentialGroups
      .map((group) => group.filter((n) => !skipped.includes(n)))
      .filter((group) => group.length > 0);
  }
  return config;
}

/** One `dynamic` rule: a pattern matched from the start of a module name, first match wins. */
export interface DynamicRule {
  pattern: string;
  /** "-:" rules leave the module unquantized. */
  negative: boolean;
  /** What a positive rule overrides. */
  bits?: PackableBits;
  groupSize?: number;
  sym?: boolean;
  descAct?: boolean;
}

/** The parts of a GPTQ quantization config the studio's reader needs. */
export interface GptqConfigInfo {
  bits: PackableBits;
  groupSize: number;
  sym: boolean;
  descAct: boolean;
  format: CheckpointFormat;
  /** quantization_config.dynamic in order (GPTQModel, vLLM); empty when absent. */
  dynamic: DynamicRule[];
}

/** Python's re.match on a module name (anchored at its start), for the patterns GPTQ configs use. */
function matchesFromStart(pattern: string, name: string): boolean {
  const re = new RegExp(pattern, 'y');
  return re.test(name);
}

/**
 * The config a module is quantized with: the first `dynamic` rule that matches its full name
 * (e.g. "model.layers.3.self_attn.q_proj") decides, as GPTQModel and vLLM do; null when a
 * negative rule leaves it unquantized.
 */
export function moduleQuantConfig(q: GptqConfigInfo, module: string): GptqConfigInfo | null {
  for (const r of q.dynamic) {
    if (!matchesFromStart(r.pattern, module)) continue;
    if (r.negative) return null;
    return { ...q, bits: r.bits ?? q.bits, groupSize: r.groupSize ?? q.groupSize, sym: r.sym ?? q.sym, descAct: r.descAct ?? q.descAct };
  }
  return q;
}

function parseDynamic(raw: unknown): DynamicRule[] {
  if (raw === undefined || raw === null) return [];
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new RangeError('quantization_config.dynamic must be an object of pattern → overrides');
  return Object.entries(raw as Record<string, unknown>).map(([key, value]) => {
    const negative = key.startsWith('-:');
    const pattern = key.replace(/^[+-]:/, '');
    try {
      new RegExp(pattern, 'y');
    } catch (e) {
      throw new RangeError(`quantization_config.dynamic pattern ${JSON.stringify(key)} is not a regular expression the studio can read (${(e as Error).message})`);
    }
    const o = (value ?? {}) as Record<string, unknown>;
    if (typeof o !== 'object' || Array.isArray(o)) throw new RangeError(`quantization_config.dynamic[${JSON.stringify(key)}] must be an object`);
    const rule: DynamicRule = { pattern, negative };
    if (!negative) {
      if (o.bits !== undefined) {
        if (!isPackable(Number(o.bits))) throw new RangeError(`quantization_config.dynamic[${JSON.stringify(key)}].bits is ${JSON.stringify(o.bits)}; GPTQ checkpoints have 2, 3, 4 or 8 bits`);
        rule.bits = Number(o.bits) as PackableBits;
      }
      if (o.group_size !== undefined) {
        const g = Number(o.group_size);
        if (!(g === -1 || (Number.isInteger(g) && g > 0))) throw new RangeError(`quantization_config.dynamic[${JSON.stringify(key)}].group_size is ${JSON.stringify(o.group_size)}`);
        rule.groupSize = g;
      }
      if (o.sym !== undefined) rule.sym = o.sym !== false;
      if (o.desc_act !== undefined) rule.descAct = o.desc_act === true;
    }
    return rule;
  });
}

/** Reads config.json's quantization_config; null when there is none; throws on one we cannot read. */
export function parseGptqConfig(configJson: Record<string, unknown>): GptqConfigInfo | null {
  const q = configJson.quantization_config as Record<string, unknown> | undefined;
  if (!q || typeof q !== 'object') return null;
  if (q.quant_method !== 'gptq') {
    throw new RangeError(`quantization_config.quant_method is ${JSON.stringify(q.quant_method)}; the studio reads only "gptq" checkpoints`);
  }
  const bits = Number(q.bits);
  if (!isPackable(bits)) throw new RangeError(`quantization_config.bits is ${JSON.stringify(q.bits)}; GPTQ checkpoints have 2, 3, 4 or 8 bits`);
  const groupSize = q.group_size === undefined ? 128 : Number(q.group_size);
  if (!(groupSize === -1 || (Number.isInteger(groupSize) && groupSize > 0))) {
    throw new RangeError(`quantization_config.group_size is ${JSON.stringify(q.group_size)}; expected -1 or a positive integer`);
  }
  const format = (q.checkpoint_format ?? q.format ?? 'gptq') as string;
  if (format !== 'gptq' && format !== 'gptq_v2') {
    throw new RangeError(`quantization_config.checkpoint_format is ${JSON.stringify(format)}; the studio reads "gptq" and "gptq_v2"`);
  }
  return { bits, groupSize, sym: q.sym !== false, descAct: q.desc_act === true, format, dynamic: parseDynamic(q.dynamic) };
}
