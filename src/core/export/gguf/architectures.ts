/**
 * How each architecture the studio quantizes is written for llama.cpp: one description per
 * architecture (a table the exporter reads, never a branch per module). Sources, in the llama.cpp
 * that node-llama-cpp 3.21.1 bundles: src/llama-arch.cpp (key and tensor names),
 * src/llama-model.cpp (load_hparams, llama_model_rope_type), src/models/<arch>.cpp (what each
 * architecture loads and computes), conversion/*.py (what the converter writes).
 * A new architecture is one entry here: its GGUF name, its tensors' names and the biases its graph
 * reads, the RoPE layout and what of RoPE scaling, sliding windows and layers without RoPE it can
 * express, the epsilon key and the norms' offset. What a model needs and its entry cannot express is
 * named by ggufMisfits before the run; nothing approximate is written.
 */
import type { Architecture, ModelConfig } from '../../model/config';
import type { ModelLayout } from '../../model/architecture';
import { ropeInverseFrequencies, type RopeScaling, type RopeSpec } from '../../model/rope';
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
   * The GGUF block tensors whose ".bias" the architecture loads ('all': every one it has). Any
   * other bias would be a tensor llama.cpp does not create: a load error ("wrong number of tensors").
   */
  biases: 'all' | readonly string[];
  /**
   * llama.cpp's RoPE for this architecture: 'norm' rotates pairs (2i, 2i+1), so the q/k rows of
   * Hugging Face's rotate_half layout are reordered (see ropeRowOrder); 'neox' rotates (i, i + d/2)
   * as Hugging Face does; 'none' has no RoPE (learned positions).
   */
  rope: 'norm' | 'neox' | 'none';
  /** Linears whose rows the 'norm' RoPE reorders, with the head count that splits them. */
  ropeRows: Record<string, 'heads' | 'kvHeads'>;
  /** RoPE may rotate fewer dimensions than the head (rope.dimension_count; phi3). */
  partialRotary: boolean;
  /**
   * The layers llama.cpp runs without RoPE: those with (il + 1) % n === 0 (smollm3's fixed
   * n_no_rope_layer_step of 4), or null when every layer has RoPE.
   */
  noRopeEvery: number | null;
  /**
   * RoPE scalings of the full-attention layers the file can carry: 'linear' as rope.scaling.type
   * and .factor (every architecture: llama.cpp's freq_scale), 'llama3' as the rope_freqs tensor
   * (llama's graph only), 'longrope' as rope_factors_long/short (phi3's graph). 'dynamic' is
   * plain RoPE within the context, which a run's windows never exceed: it is written as plain,
   * as llama.cpp's converter does.
   */
  ropeScalings: readonly RopeScaling['type'][];
  /**
   * Sliding-window attention: 'period' (gemma3: attention.sliding_window on the layers that are not
   * every sliding_window_pattern-th, with rope.freq_base_swa); 'none': llama.cpp attends over the
   * whole context (llama and qwen2 have no window; phi3 turns its window off), so a run whose
   * windows are longer than a layer's sliding window has no GGUF.
   */
  slidingWindow: 'period' | 'none';
  /** q's rows must be the hidden size (create_tensor_qkv with n_embd: qwen2, phi3). */
  qRowsAreHidden: boolean;
  /** The key of the norms' epsilon (RMSNorm or LayerNorm). */
  epsKey: 'attention.layer_norm_rms_epsilon' | 'attention.layer_norm_epsilon';
  /** Norm weights stored as w + normOffset (gemma's 1 + w, conversion/gemma.py norm_shift); 0 for the others. */
  normOffset: number;
  /** Whether llama.cpp reads {arch}.vocab_size (llama). */
  vocabSizeKey: boolean;
  /** llama.cpp multiplies the token embeddings by √n_embd itself, in f32 (gemma3.cpp); else they are used as stored. */
  embedScale: boolean;
  /** {arch}.final_logit_softcapping is read (gemma3). */
  logitSoftcap: boolean;
  /**
   * The score scale llama.cpp applies when it is not 1/√key_length (gemma3: its 27B rule). Where the
   * model's own scale differs (gemma3's query_pre_attn_scalar), q's norm carries the ratio: RoPE is
   * linear, so scaling the q norm's weights scales the scores by the same factor.
   */
  attentionScale?: (c: ModelConfig) => number;
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

const QK_NORMS: Record<string, string> = { 'self_attn.q_norm': 'attn_q_norm', 'self_attn.k_norm': 'attn_k_norm' };

const COMMON = {
  partialRotary: false,
  noRopeEvery: null,
  ropeScalings: ['linear', 'dynamic'],
  slidingWindow: 'none',
  qRowsAreHidden: false,
  epsKey: 'attention.layer_norm_rms_epsilon',
  normOffset: 0,
  vocabSizeKey: false,
  embedScale: false,
  logitSoftcap: false,
} as const;

/**
 * llama (src/models/llama.cpp): optional biases on every linear; llama3 RoPE scaling as the
 * rope_freqs tensor. Mistral checkpoints are written as llama too (conversion/llama.py).
 */
const LLAMA: GgufArchitecture = {
  ...COMMON,
  name: 'llama',
  blockTensors: LLAMA_BLOCK,
  biases: 'all',
  rope: 'norm',
  ropeRows: { 'self_attn.q_proj': 'heads', 'self_attn.k_proj': 'kvHeads' },
  ropeScalings: ['linear', 'dynamic', 'llama3'],
  vocabSizeKey: true,
};

/** qwen2 (src/models/qwen2.cpp): llama's tensors with q/k/v biases, NEOX RoPE, q rows = hidden. */
const QWEN2: GgufArchitecture = {
  ...COMMON,
  name: 'qwen2',
  blockTensors: LLAMA_BLOCK,
  biases: ['attn_q', 'attn_k', 'attn_v'],
  rope: 'neox',
  ropeRows: {},
  qRowsAreHidden: true,
};

/** qwen3 (src/models/qwen3.cpp): qwen2 plus attn_q_norm / attn_k_norm over head_dim before RoPE; any head_dim (key_length). */
const QWEN3: GgufArchitecture = {
  ...COMMON,
  name: 'qwen3',
  blockTensors: { ...LLAMA_BLOCK, ...QK_NORMS },
  biases: ['attn_q', 'attn_k', 'attn_v'],
  rope: 'neox',
  ropeRows: {},
};

/**
 * gemma3 (src/models/gemma3.cpp, conversion/gemma.py Gemma3Model): (1 + w) norms, four per block
 * and q/k norms; the embeddings scaled by √n_embd in llama.cpp (not in the file); sliding windows
 * every layer but each sliding_window_pattern-th, with their own RoPE base; GELU (tanh) gate;
 * final logit softcapping. Scores are scaled by 1/√key_length (1/√(n_embd/n_head) for the 62-layer
 * 27B), not by query_pre_attn_scalar^−0.5: the q norm carries the ratio when the two differ.
 */
const GEMMA3: GgufArchitecture = {
  ...COMMON,
  name: 'gemma3',
  blockTensors: {
    ...LLAMA_BLOCK,
    ...QK_NORMS,
    post_attention_layernorm: 'post_attention_norm',
    pre_feedforward_layernorm: 'ffn_norm',
    post_feedforward_layernorm: 'post_ffw_norm',
  },
  biases: ['attn_q', 'attn_k', 'attn_v'],
  rope: 'neox',
  ropeRows: {},
  slidingWindow: 'period',
  normOffset: 1,
  embedScale: true,
  logitSoftcap: true,
  attentionScale: (c) => Math.fround(1 / Math.fround(Math.sqrt(c.numLayers === 62 ? Math.floor(c.hiddenSize / c.numHeads) : c.headDim))),
};

/**
 * phi3 (src/models/phi3.cpp, conversion/phi.py Phi3MiniModel): fused attn_qkv and ffn_up
 * ([gate | up], SwiGLU over its halves), partial rotary (rope.dimension_count), longrope as
 * rope_factors_long/short with rope.scaling.attn_factor; llama.cpp takes the long factors when its
 * context is longer than rope.scaling.original_context_length (Hugging Face: when the sequence is).
 * llama.cpp turns Phi-3's sliding window off, so the window is not written.
 */
const PHI3: GgufArchitecture = {
  ...COMMON,
  name: 'phi3',
  blockTensors: {
    input_layernorm: 'attn_norm',
    post_attention_layernorm: 'ffn_norm',
    'self_attn.qkv_proj': 'attn_qkv',
    'self_attn.o_proj': 'attn_output',
    'mlp.gate_up_proj': 'ffn_up',
    'mlp.down_proj': 'ffn_down',
  },
  biases: ['attn_qkv'],
  rope: 'neox',
  ropeRows: {},
  partialRotary: true,
  ropeScalings: ['linear', 'dynamic', 'longrope'],
  qRowsAreHidden: true,
};

/** smollm3 (src/models/smollm3.cpp, conversion/llama.py SmolLM3Model): llama's layout and RoPE, no RoPE on every 4th layer, no rope_freqs. */
const SMOLLM3: GgufArchitecture = {
  ...LLAMA,
  name: 'smollm3',
  biases: ['attn_q', 'attn_k', 'attn_v'],
  noRopeEvery: 4,
  ropeScalings: ['linear', 'dynamic'],
  vocabSizeKey: false,
};

/** gpt2 (src/models/gpt2.cpp): fused attn_qkv, LayerNorm with biases, learned positions. */
const GPT2: GgufArchitecture = {
  ...COMMON,
  name: 'gpt2',
  blockTensors: {
    ln_1: 'attn_norm',
    ln_2: 'ffn_norm',
    'attn.c_attn': 'attn_qkv',
    'attn.c_proj': 'attn_output',
    'mlp.c_fc': 'ffn_up',
    'mlp.c_proj': 'ffn_down',
  },
  biases: 'all',
  rope: 'none',
  ropeRows: {},
  ropeScalings: [],
  epsKey: 'attention.layer_norm_epsilon',
};

/** The GGUF description of each architecture the export supports; an absent one is refused by the plan. */
export const GGUF_ARCHITECTURES: Partial<Record<Architecture, GgufArchitecture>> = {
  llama: LLAMA,
  mistral: LLAMA,
  qwen2: QWEN2,
  qwen3: QWEN3,
  gemma3_text: GEMMA3,
  phi3: PHI3,
  smollm3: SMOLLM3,
  gpt2: GPT2,
};

/** Why an architecture the studio quantizes has no GGUF at all. */
export const NO_GGUF_ARCHITECTURE: Partial<Record<Architecture, string>> = {
  opt: 'llama.cpp has no OPT architecture (src/llama-arch.cpp), so OPT models have no GGUF; the GPTQ download runs them in transformers and vLLM',
};

/** llama.cpp pads every context to a multiple of 256 tokens (llama-context.cpp, GGML_PAD(n_ctx, 256)). */
const LLAMA_CONTEXT_PAD = 256;

/** GGUF names of the tensors outside the blocks (src/llama-arch.cpp). */
export const GGUF_GLOBAL_TENSORS = {
  embedTokens: 'token_embd.weight',
  embedPositions: 'position_embd.weight',
  finalNorm: 'output_norm',
  lmHead: 'output.weight',
  ropeFreqs: 'rope_freqs.weight',
  ropeFactorsLong: 'rope_factors_long.weight',
  ropeFactorsShort: 'rope_factors_short.weight',
} as const;

/** Whether the block tensor's bias is one the architecture loads. */
export function readsBias(a: GgufArchitecture, tensor: string): boolean {
  return a.biases === 'all' || a.biases.includes(tensor);
}

/** The RoPE of the full-attention layers: the first layer with RoPE and no sliding window, else the first with RoPE. */
function fullRope(layout: ModelLayout): RopeSpec | null {
  let first: RopeSpec | null = null;
  for (let b = 0; b < layout.numBlocks; b++) {
    const { rope, window } = layout.layerAttention(b);
    if (rope && window === null) return rope;
    first ??= rope;
  }
  return first;
}

/**
 * gemma3's sliding layers as llama.cpp's period P (layer il slides unless (il + 1) % P == 0; 0:
 * every layer slides), or null when no layer slides; throws a phrase when no period gives them.
 */
function slidingPeriod(layout: ModelLayout): number | null {
  const sliding = Array.from({ length: layout.numBlocks }, (_, b) => layout.layerAttention(b).window !== null);
  if (!sliding.includes(true)) return null;
  const firstFull = sliding.indexOf(false);
  const period = firstFull < 0 ? 0 : firstFull + 1;
  const expected = (b: number) => period === 0 || (b + 1) % period !== 0;
  if (sliding.some((s, b) => s !== expected(b))) {
    const kinds = sliding.map((s) => (s ? 'sliding' : 'full')).join(', ');
    throw new Error(`its layers (${kinds}) are not "every P-th layer full", the one pattern llama.cpp's sliding_window_pattern expresses`);
  }
  return period;
}

/**
 * Every way a model needs what the architecture's llama.cpp graph cannot express, each a phrase
 * (empty: the GGUF computes what the run measures). `seqlen` is the run's window length: a sliding
 * window llama.cpp does not implement only matters when windows are longer.
 */
export function ggufMisfits(a: GgufArchitecture, c: ModelConfig, layout: ModelLayout, seqlen: number): string[] {
  const why: string[] = [];
  const full = fullRope(layout);
  for (let b = 0; b < layout.numBlocks; b++) {
    const { rope, window } = layout.layerAttention(b);
    const noRope = a.noRopeEvery !== null && (b + 1) % a.noRopeEvery === 0;
    if (a.rope !== 'none' && (rope === null) !== noRope) {
      why.push(a.noRopeEvery === null
        ? `layer ${b} has no RoPE, and llama.cpp's ${a.name} rotates every layer`
        : `layer ${b} ${rope ? 'has' : 'has no'} RoPE, and llama.cpp's ${a.name} leaves out RoPE exactly on every ${a.noRopeEvery}th layer (layers ${a.noRopeEvery - 1}, ${2 * a.noRopeEvery - 1}, …)`);
      break;
    }
    if (rope && !a.partialRotary && rope.dim !== c.headDim) {
      why.push(`RoPE rotates ${rope.dim} of ${c.headDim} dimensions, and llama.cpp's ${a.name} rotates whole heads`);
      break;
    }
    if (a.slidingWindow === 'none' && window !== null && window < seqlen) {
      why.push(`layer ${b} attends within a sliding window of ${window} tokens, shorter than the run's windows of ${seqlen}, and llama.cpp's ${a.name} attends over the whole context: use seqlen ≤ ${window} for a GGUF`);
      break;
    }
  }
  const scaling = full?.scaling?.type;
  if (scaling && !a.ropeScalings.includes(scaling)) {
    why.push(`RoPE scaling "${scaling}" has no form in llama.cpp's ${a.name} (it reads ${a.ropeScalings.filter((s) => s !== 'dynamic').join(', ') || 'none'})`);
  }
  // llama.cpp takes longrope's short factors only while its context, padded to a multiple of
  // LLAMA_CONTEXT_PAD (llama-context.cpp), is within the original context (llama-model.cpp
  // get_rope_factors); transformers takes them while the sequence is.
  const s = full?.scaling;
  if (s?.type === 'longrope' && seqlen <= s.originalMaxPositions && s.originalMaxPositions < LLAMA_CONTEXT_PAD) {
    why.push(`the run's windows of ${seqlen} tokens use longrope's short factors (original context ${s.originalMaxPositions}), and llama.cpp, whose contexts are at least ${LLAMA_CONTEXT_PAD} tokens, always takes the long ones: use seqlen > ${s.originalMaxPositions} for a GGUF`);
  }
  if (a.slidingWindow === 'period') {
    try {
      slidingPeriod(layout);
    } catch (e) {
      why.push((e as Error).message);
    }
    for (let b = 0; b < layout.numBlocks; b++) {
      const { rope, window } = layout.layerAttention(b);
      if (window !== null && rope?.scaling) {
        why.push(`the sliding layers' RoPE is scaled (${rope.scaling.type}), and llama.cpp scales only the full-attention layers`);
        break;
      }
    }
  }
  if (a.qRowsAreHidden && c.numHeads * c.headDim !== c.hiddenSize) {
    why.push(`${c.numHeads} heads of ${c.headDim} are not the hidden size ${c.hiddenSize}, which llama.cpp's ${a.name} assumes`);
  }
  const block = layout.block;
  if (block.normPlacement !== 'pre') why.push(`llama.cpp's ${a.name} normalizes before each sublayer, not after`);
  if (!a.embedScale && layout.embedScale !== 1) why.push(`the embeddings are scaled by ${layout.embedScale}, which llama.cpp's ${a.name} does not do`);
  if (a.embedScale && c.embedScale !== Math.sqrt(c.hiddenSize)) why.push(`the embedding scale is not √hidden, the one llama.cpp's ${a.name} applies`);
  if (!a.logitSoftcap && layout.logitSoftcap !== null) why.push(`llama.cpp's ${a.name} does not softcap the logits`);
  if (layout.projectIn || layout.projectOut) why.push(`llama.cpp's ${a.name} has no project_in / project_out`);
  const scale = Math.fround(block.attention.scale);
  const theirs = a.attentionScale ? a.attentionScale(c) : Math.fround(1 / Math.sqrt(c.headDim));
  if (scale !== theirs && !block.attention.qNorm) {
    why.push(`attention scores are scaled by ${block.attention.scale.toPrecision(6)}, and llama.cpp's ${a.name} scales them by ${theirs.toPrecision(6)} with no q norm to carry the ratio`);
  }
  return why;
}

/**
 * The factor the q norm's stored weights are multiplied by so that llama.cpp's score scale gives
 * the model's (1 when they agree; see GgufArchitecture.attentionScale). Applies to the q norm only.
 */
export function qNormFactor(a: GgufArchitecture, c: ModelConfig, layout: ModelLayout): number {
  const theirs = a.attentionScale ? a.attentionScale(c) : Math.fround(1 / Math.sqrt(c.headDim));
  const ratio = layout.block.attention.scale / theirs;
  return Math.fround(ratio) === 1 ? 1 : ratio;
}

/** The tensors a RoPE scaling adds outside the blocks: name and F32 values (rotated dims / 2 each). */
export function ropeTensors(a: GgufArchitecture, c: ModelConfig, layout: ModelLayout): { name: string; values: Float32Array }[] {
  const rope = fullRope(layout);
  const s = rope?.scaling;
  if (!rope || !s || !a.ropeScalings.includes(s.type)) return [];
  if (s.type === 'llama3') {
    // conversion/llama.py generate_extra_tensors: llama.cpp divides each frequency by its factor.
    const plain = ropeInverseFrequencies({ theta: rope.theta, dim: rope.dim }, 1, c.maxPositions).invFreq;
    const scaled = ropeInverseFrequencies(rope, 1, c.maxPositions).invFreq;
    return [{ name: GGUF_GLOBAL_TENSORS.ropeFreqs, values: Float32Array.from(plain, (f, i) => f / scaled[i]) }];
  }
  if (s.type === 'longrope') {
    // conversion/phi.py generate_extra_tensors.
    return [
      { name: GGUF_GLOBAL_TENSORS.ropeFactorsLong, values: Float32Array.from(s.longFactor) },
      { name: GGUF_GLOBAL_TENSORS.ropeFactorsShort, values: Float32Array.from(s.shortFactor) },
    ];
  }
  return [];
}

/**
 * The {arch}.* hyperparameters llama.cpp reads (llama-model.cpp load_hparams and each
 * architecture's load_arch_hparams): lengths and counts u32, epsilon, RoPE bases and factors f32.
 * `feedForward` is the MLP width of the file (padded, if it was).
 */
export function architectureKeys(a: GgufArchitecture, c: ModelConfig, layout: ModelLayout, feedForward: number): GgufKv[] {
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
  const rope = a.rope === 'none' ? null : fullRope(layout);
  if (rope) {
    kvs.push({ key: k('rope.freq_base'), value: gguf.f32(rope.theta) }, { key: k('rope.dimension_count'), value: gguf.u32(rope.dim) });
    const s = rope.scaling;
    // llama-model.cpp load_hparams reads rope.scaling.*; llama3's factors are the rope_freqs tensor.
    if (s?.type === 'linear') {
      kvs.push({ key: k('rope.scaling.type'), value: gguf.string('linear') }, { key: k('rope.scaling.factor'), value: gguf.f32(s.factor) });
    } else if (s?.type === 'longrope' && a.ropeScalings.includes('longrope')) {
      kvs.push(
        { key: k('rope.scaling.type'), value: gguf.string('longrope') },
        { key: k('rope.scaling.attn_factor'), value: gguf.f32(s.attentionFactor) },
        { key: k('rope.scaling.original_context_length'), value: gguf.u32(s.originalMaxPositions) },
      );
    }
  }
  if (a.slidingWindow === 'period') {
    const period = slidingPeriod(layout);
    if (period !== null) {
      const sliding = Array.from({ length: layout.numBlocks }, (_, b) => layout.layerAttention(b)).find((l) => l.window !== null)!;
      kvs.push(
        { key: k('attention.sliding_window'), value: gguf.u32(sliding.window!) },
        { key: k('attention.sliding_window_pattern'), value: gguf.u32(period) },
      );
      if (sliding.rope) kvs.push({ key: k('rope.freq_base_swa'), value: gguf.f32(sliding.rope.theta) });
    }
  }
  if (a.logitSoftcap && layout.logitSoftcap !== null) kvs.push({ key: k('final_logit_softcapping'), value: gguf.f32(layout.logitSoftcap) });
  if (a.vocabSizeKey) kvs.push({ key: k('vocab_size'), value: gguf.u32(c.vocabSize) });
  return kvs;
}
