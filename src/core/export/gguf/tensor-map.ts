/**
 * Every tensor of a model under its GGUF name, in checkpoint order (requiredTensors): token_embd,
 * position_embd, each block's norms and linears (weights and biases), output_norm, and output
 * unless the head is tied (llama.cpp then reuses token_embd: src/models/llama.cpp ~40–46); then
 * the RoPE factor tensors a scaling adds (rope_freqs, rope_factors_long/short). Block tensors are
 * named through the architecture's description.
 */
import { requiredTensors, type ModelLayout } from '../../model/architecture';
import type { ModelConfig } from '../../model/config';
import { GGUF_GLOBAL_TENSORS, readsBias, ropeTensors, type GgufArchitecture } from './architectures';

export type GgufTensorRole =
  | { kind: 'embedTokens' }
  | { kind: 'embedPositions' }
  | { kind: 'lmHead' }
  /** A block linear's weight or bias. */
  | { kind: 'linear'; block: number; module: string; part: 'weight' | 'bias' }
  /** Any other tensor (norm weights and biases): written as F32. `module` is the block-level name, or null for the final norm. */
  | { kind: 'norm'; part: 'weight' | 'bias'; module: string | null }
  /** RoPE frequency factors computed from config.json (F32). */
  | { kind: 'rope'; values: Float32Array };

export interface GgufTensorName {
  /** The GGUF name, e.g. "blk.0.attn_q.weight". */
  name: string;
  /** The checkpoint's name, e.g. "model.layers.0.self_attn.q_proj.weight"; for RoPE factors, "config.json". */
  source: string;
  role: GgufTensorRole;
}

/** Throws an Error naming the tensor when the description has no GGUF name for it, or llama.cpp would not load it. */
export function ggufTensorNames(layout: ModelLayout, config: ModelConfig, arch: GgufArchitecture): GgufTensorName[] {
  const linears = new Set(layout.block.linears.map((l) => l.name));
  const prefixes = Array.from({ length: layout.numBlocks }, (_, b) => layout.blockPrefix(b));
  const tensors = requiredTensors(layout, config).map(({ name: source }): GgufTensorName => {
    if (source === layout.embedTokens) return { name: GGUF_GLOBAL_TENSORS.embedTokens, source, role: { kind: 'embedTokens' } };
    if (source === layout.embedPositions) return { name: GGUF_GLOBAL_TENSORS.embedPositions, source, role: { kind: 'embedPositions' } };
    if (source === layout.lmHead && !layout.tiedLmHead) return { name: GGUF_GLOBAL_TENSORS.lmHead, source, role: { kind: 'lmHead' } };
    const part = source.endsWith('.bias') ? 'bias' : 'weight';
    const module = source.slice(0, source.length - part.length - 1);
    if (module === layout.finalNorm?.name) return { name: `${GGUF_GLOBAL_TENSORS.finalNorm}.${part}`, source, role: { kind: 'norm', part, module: null } };
    const block = prefixes.findIndex((p) => source.startsWith(p));
    const inBlock = block >= 0 ? module.slice(prefixes[block].length) : null;
    const base = inBlock === null ? undefined : arch.blockTensors[inBlock];
    if (inBlock === null || !base) throw new Error(`the ${arch.name} GGUF description has no tensor for "${source}"`);
    const isLinear = linears.has(inBlock);
    if (isLinear && part === 'bias' && !readsBias(arch, base)) {
      throw new Error(`llama.cpp's ${arch.name} loads no bias for ${base} ("${source}"), so this model has no GGUF`);
    }
    const role: GgufTensorRole = isLinear ? { kind: 'linear', block, module: inBlock, part } : { kind: 'norm', part, module: inBlock };
    return { name: `blk.${block}.${base}.${part}`, source, role };
  });
  for (const { name, values } of ropeTensors(arch, config, layout)) tensors.push({ name, source: 'config.json', role: { kind: 'rope', values } });
  return tensors;
}
