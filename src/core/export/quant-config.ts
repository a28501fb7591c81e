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
  if (skipped.length > 0) {
    config.dynamic = exclusionRules(layout, skipped);
    config.modules_in_block_to_quantize = layout.block.sequentialGroups
      .map((group) => group.filter((n) => !skipped.includes(n)))
      .filter((group) => group.length > 0);
  }
  return config;
}

/** The parts of a GPTQ quantization config the studio's reader needs. */
export interface GptqConfigInfo {
  bits: PackableBits;
  groupSize: number;
  sym: boolean;
  descAct: boolean;
  format: CheckpointFormat;
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
  return { bits, groupSize, sym: q.sym !== false, descAct: q.desc_act === true, format };
}
