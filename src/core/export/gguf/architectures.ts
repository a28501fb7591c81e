/**
 * How each architecture the studio quantizes is written for llama.cpp: one description per
 * architecture (a table the exporter reads, never a branch per module). Sources: llama.cpp
 * src/llama-arch.cpp (key and tensor names), src/llama-model.cpp (load_hparams, rope types),
 * src/models/<arch>.cpp (what each graph reads), conversion/*.py (what the converter writes).
 * A new architecture is one entry here: its GGUF name, its tensors' names, the RoPE layout,
 * the epsilon key and any extra metadata.
 */
import type { Architecture, ModelConfig } from '../../model/config';
import { gguf, type GgufKv } from './writer';

export interface GgufArchitecture {
  /** general.architecture, and the prefix of the model's keys. */
  name: string;
  /**
   * Hugging Face block-level module → GGUF block tensor (without "blk.N." and ".weight"/".bias"),
   * for every norm and linear of a block; a module missing here cannot be exported.
   */
  blockTensors: Record<string, string>;
  /**
   * llama.cpp's RoPE for this architecture: 'norm' rotates pairs (2i, 2i+1), so the q/k rows of
   * Hugging Face's rotate_half layout are reordered (see ropeRowOrder); 'neox' rotates (i, i + d/2)
   * as Hugging Face does; 'none' has no RoPE (learned positions).
   */
  rope: 'norm' | 'neox' | 'none';
  /** Linears whose rows the 'norm' RoPE reorders, with the head count that splits them. */
  ropeRows: Record<string, 'heads' | 'kvHeads'>;
  /** The key of the norms' epsilon (RMSNorm or LayerNorm). */
  epsKey: 'attention.layer_norm_rms_epsilon' | 'attention.layer_norm_epsilon';
  /** Norm weights stored as w + normOffset (gemma's 1 + w); 0 for the others. */
  normOffset: number;
  /** Whether llama.cpp reads {arch}.vocab_size (llama). */
  vocabSizeKey: boolean;
  /** Extra metadata this architecture needs beyond the common keys. */
  extraKeys?: (c: ModelConfig) => GgufKv[];
}

const LLAMA_BLOCK: Record<string, string> = {
  input_layernorm: 'attn_norm',
  post_attention_layernorm: 'ffn_norm',
  'self_attn.q_proj': 'attn_q',
  'self_attn.k_proj': 'attn_k',
  'self_attn.v_proj': 'attn_v',
  'self_attn.o_proj': 'attn_output',
  'mlp.gate_proj': 'ffn_gate',
  'mlp.up_proj': 'ffn_up',
  'mlp.down_proj': 'ffn_down',
};

/** llama (src/models/llama.cpp); Mistral checkpoints are written as llama too (conversion/llama.py). */
const LLAMA: GgufArchitecture = {
  name: 'llama',
  blockTensors: LLAMA_BLOCK,
  rope: 'norm',
  ropeRows: { 'self_attn.q_proj': 'heads', 'self_attn.k_proj': 'kvHeads' },
  epsKey: 'attention.layer_norm_rms_epsilon',
  normOffset: 0,
  vocabSizeKey: true,
};

/** qwen2 (src/models/qwen2.cpp): llama's tensors with q/k/v biases, NEOX RoPE. */
const QWEN2: GgufArchitecture = {
  name: 'qwen2',
  blockTensors: LLAMA_BLOCK,
  rope: 'neox',
  ropeRows: {},
  epsKey: 'attention.layer_norm_rms_epsilon',
  normOffset: 0,
  vocabSizeKey: false,
};

/** gpt2 (src/models/gpt2.cpp): fused attn_qkv, LayerNorm with biases, learned positions. */
const GPT2: GgufArchitecture = {
  name: 'gpt2',
  blockTensors: {
    ln_1: 'attn_norm',
    ln_2: 'ffn_norm',
    'attn.c_attn': 'attn_qkv',
    'attn.c_proj': 'attn_output',
    'mlp.c_fc': 'ffn_up',
    'mlp.c_proj': 'ffn_down',
  },
  rope: 'none',
  ropeRows: {},
  epsKey: 'attention.layer_norm_epsilon',
  normOffset: 0,
  vocabSizeKey: false,
};

/** The GGUF description of each architecture the export supports; an absent one is refused by the plan. */
export const GGUF_ARCHITECTURES: Partial<Record<Architecture, GgufArchitecture>> = {
  llama: LLAMA,
  mistral: LLAMA,
  qwen2: QWEN2,
  gpt2: GPT2,
};

/** GGUF names of the tensors outside the blocks (src/llama-arch.cpp). */
export const GGUF_GLOBAL_TENSORS = {
  embedTokens: 'token_embd.weight',
  embedPositions: 'position_embd.weight',
  finalNorm: 'output_norm',
  lmHead: 'output.weight',
} as const;

/**
 * The {arch}.* hyperparameters llama.cpp reads (llama-model.cpp load_hparams): lengths and counts
 * u32, epsilon and RoPE base f32. `feedForward` is the MLP width of the file (padded, if it was).
 */
export function architectureKeys(a: GgufArchitecture, c: ModelConfig, feedForward: number): GgufKv[] {
  const k = (key: string) => `${a.name}.${key}`;
  const kvs: GgufKv[] = [
    { key: k('context_length'), value: gguf.u32(c.maxPositions) },
    { key: k('embedding_length'), value: gguf.u32(c.hiddenSize) },
    { key: k('block_count'), value: gguf.u32(c.numLayers) },
    { key: k('feed_forward_length'), value: gguf.u32(feedForward) },
    { key: k('attention.head_count'), value: gguf.u32(c.numHeads) },
    { key: k('attention.head_count_kv'), value: gguf.u32(c.numKvHeads) },
    { key: k(a.epsKey), value: gguf.f32(c.normEps) },
  ];
  if (c.headDim * c.numHeads !== c.hiddenSize) {
    kvs.push({ key: k('attention.key_length'), value: gguf.u32(c.headDim) }, { key: k('attention.value_length'), value: gguf.u32(c.headDim) });
  }
  if (a.rope !== 'none') {
    kvs.push({ key: k('rope.freq_base'), value: gguf.f32(c.ropeTheta) }, { key: k('rope.dimension_count'), value: gguf.u32(c.headDim) });
  }
  if (a.vocabSizeKey) kvs.push({ key: k('vocab_size'), value: gguf.u32(c.vocabSize) });
  if (a.extraKeys) kvs.push(...a.extraKeys(c));
  return kvs;
}
