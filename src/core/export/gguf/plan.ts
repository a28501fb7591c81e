/**
 * What the GGUF export of a run will hold, decided before the run like the GPTQ export plan
 * (../plan.ts): the block type the grid maps onto exactly, the linears written as F16 and why,
 * or why there is no GGUF and the nearest settings that have one. A grid without an exact GGUF
 * type is never written under one (no approximate file under an exact name).
 *
 *   4-bit symmetric → Q4_0     4-bit asymmetric → Q4_1     8-bit symmetric → Q8_0
 *   groups: a multiple of 32 or one per row; act-order only with static groups (or one group per row)
 */
import type { ModelConfig } from '../../model/config';
import type { ModelLayout } from '../../model/architecture';
import { mlpLinears, type ExportPlan, type UnquantizedLinear } from '../plan';
import type { GgufQuantType } from './constants';
import { GGUF_ARCHITECTURES, NO_GGUF_ARCHITECTURE, ggufMisfits } from './architectures';
import { ggufTensorNames } from './tensor-map';
import { ggufTokenizer, GgufTokenizerError } from './tokenizer';
import { QK } from './blocks';

export interface GgufSettings {
  bits: number;
  groupSize: number;
  sym: boolean;
  actOrder: boolean;
  staticGroups: boolean;
  /** Tokens per calibration / evaluation window (a sliding window llama.cpp lacks matters only when windows are longer). */
  seqlen: number;
  /** A mixed-precision run's per-linear widths (RunSettings.moduleBits): no single GGUF type. */
  moduleBits?: Record<string, number>;
}

export interface GgufPlan {
  /** The block type of the quantized linears; null when there is no GGUF (see refusal). */
  type: GgufQuantType | null;
  /** Why there is no GGUF download, or null. */
  refusal: string | null;
  /** The nearest settings whose grid has an exact GGUF type, when the grid is what refuses. */
  suggestion: { settings: GgufSettings; type: GgufQuantType; text: string } | null;
  /** Linears (block-level names) written as floats (F16 by default, F32 by the export's setting), and why. */
  floatLinears: UnquantizedLinear[];
}

/** The exact GGUF type of a grid, or null. */
export function ggufTypeOf(s: Pick<GgufSettings, 'bits' | 'sym'>): GgufQuantType | null {
  if (s.bits === 4) return s.sym ? 'Q4_0' : 'Q4_1';
  if (s.bits === 8 && s.sym) return 'Q8_0';
  return null;
}

/** Why a grid has no exact GGUF type (each reason a phrase), or an empty list. */
function gridMisfits(s: GgufSettings): string[] {
  const why: string[] = [];
  if (ggufTypeOf(s) === null) {
    why.push(`${s.bits}-bit ${s.sym ? 'symmetric' : 'asymmetric'} weights have no exact GGUF block type (4-bit symmetric is Q4_0, 4-bit asymmetric Q4_1, 8-bit symmetric Q8_0)`);
  }
  if (s.groupSize !== -1 && s.groupSize % QK !== 0) {
    why.push(`groups of ${s.groupSize} columns do not fill GGUF's blocks of ${QK} (each block carries one scale)`);
  }
  if (s.actOrder && !s.staticGroups && s.groupSize !== -1) {
    why.push('act-order without static groups puts columns of different groups in one block of 32');
  }
  return why;
}

/** The nearest settings with an exact type: the fewest bits at or above these, the nearest group of 32·k, static groups. */
function nearest(s: GgufSettings): { settings: GgufSettings; type: GgufQuantType; text: string } {
  const bits = s.bits <= 4 ? 4 : 8;
  const sym = bits === 8 ? true : s.sym;
  const groupSize = s.groupSize === -1 || s.groupSize % QK === 0 ? s.groupSize : Math.max(QK, Math.round(s.groupSize / QK) * QK);
  const staticGroups = s.staticGroups || (s.actOrder && groupSize !== -1);
  const settings = { bits, sym, groupSize, actOrder: s.actOrder, staticGroups, seqlen: s.seqlen };
  const type = ggufTypeOf(settings)!;
  const parts = [`${bits}-bit ${sym ? 'symmetric' : 'asymmetric'}`, groupSize === -1 ? 'one group per row' : `groups of ${groupSize}`];
  if (s.actOrder) parts.push(staticGroups ? 'act-order with static groups' : 'act-order');
  return { settings, type, text: `${parts.join(', ')} (${type})` };
}

/** One parse of the last tokenizer seen: the plan is asked again at every settings change. */
let tokenizerCheck: { key: string; problem: string | null } | null = null;

function tokenizerProblem(tokenizerJson: string | null, tokenizerConfigJson: string | null, config: ModelConfig): string | null {
  if (tokenizerJson === null) return 'the checkpoint has no tokenizer.json, which the GGUF must carry';
  const key = `${config.vocabSize}\u0000${tokenizerConfigJson ?? ''}\u0000${tokenizerJson}`;
  if (tokenizerCheck?.key !== key) {
    let problem: string | null = null;
    try {
      ggufTokenizer({ tokenizerJson, tokenizerConfigJson, vocabSize: config.vocabSize, bosTokenId: config.bosTokenId, eosTokenIds: config.eosTokenIds });
    } catch (e) {
      if (!(e instanceof GgufTokenizerError)) throw e;
      problem = e.message;
    }
    tokenizerCheck = { key, problem };
  }
  return tokenizerCheck.problem;
}

/**
 * The GGUF plan of a run with `settings` on a model, given the GPTQ export plan (its padded MLP
 * width and the linears the run leaves unquantized).
 */
export function planGguf(
  ckpt: { config: ModelConfig; layout: ModelLayout; tokenizerJson: string | null; tokenizerConfigJson: string | null },
  settings: GgufSettings,
  exportPlan: Pick<ExportPlan, 'intermediate' | 'unquantized'>,
): GgufPlan {
  const { config, layout } = ckpt;
  const arch = GGUF_ARCHITECTURES[config.arch];
  const none = (refusal: string, suggestion: GgufPlan['suggestion'] = null): GgufPlan => ({ type: null, refusal, suggestion, floatLinears: [] });
  if (!arch) return none(NO_GGUF_ARCHITECTURE[config.arch] ?? `the GGUF export does not describe ${config.arch} models yet`);
  const misfits = ggufMisfits(arch, config, layout, settings.seqlen);
  if (misfits.length > 0) return none(`llama.cpp cannot compute this model as the run does: ${misfits.join('; ')}`);
  try {
    ggufTensorNames(layout, config, arch);
  } catch (e) {
    return none((e as Error).message);
  }
  const tokenizer = tokenizerProblem(ckpt.tokenizerJson, ckpt.tokenizerConfigJson, config);
  if (tokenizer) return none(tokenizer);
  if (settings.moduleBits && Object.keys(settings.moduleBits).length > 0) {
    return none('a mixed-precision run has linears of several widths, and the GGUF export writes one block type per run ' +
      '(one type per tensor is not done yet): no GGUF is written for it; the GPTQ checkpoint holds every width');
  }
  const grid = gridMisfits(settings);
  if (grid.length > 0) {
    const suggestion = nearest(settings);
    return none(`${grid.join('; ')}: no GGUF is written for this run. The nearest setting with an exact type: ${suggestion.text}`, suggestion);
  }
  const skipped = new Map(exportPlan.unquantized.map((u) => [u.name, u.reason]));
  const floatLinears: UnquantizedLinear[] = [];
  const contract = mlpLinears(layout).contract;
  for (const l of layout.block.linears) {
    const skip = skipped.get(l.name);
    // The contracting MLP linear reads the padded width when the plan pads it.
    const K = exportPlan.intermediate && l.name === contract ? exportPlan.intermediate.to : l.in;
    if (skip) floatLinears.push({ name: l.name, reason: `the run leaves it unquantized (${skip}), so its original weights are written as floats` });
    else if (K % QK !== 0) floatLinears.push({ name: l.name, reason: `in-features ${K} is not a multiple of ${QK}: written as float copies of the run's weights, as llama.cpp keeps such shapes in F16` });
  }
  return { type: ggufTypeOf(settings), refusal: null, suggestion: null, floatLinears };
}
