/**
 * config.json → a normalized ModelConfig for the architectures the studio runs. Defaults follow
 * Hugging Face transformers' config classes (LlamaConfig, MistralConfig, Qwen2Config, Qwen3Config,
 * Gemma3TextConfig, OPTConfig, GPT2Config) for keys a config.json leaves out. Fields marked
 * optional are absent when the family does not use the feature, so the plain Llama and GPT-2
 * configs stay as they were.
 */
import { commonTail, flag, layerTypes, positiveInt, positiveNumber, refuse, type Raw } from './config-keys';
import { readRope, type RopeScaling } from './rope';
import { gemma3Config } from './config-gemma3';
import { optConfig } from './config-opt';

export const SUPPORTED_MODEL_TYPES = ['llama', 'mistral', 'qwen2', 'qwen3', 'gemma3_text', 'phi3', 'smollm3', 'opt', 'gpt2'] as const;
export type Architecture = (typeof SUPPORTED_MODEL_TYPES)[number];

/** Attention of one layer: full causal, or within a sliding window. */
export type LayerType = 'full' | 'sliding';

export interface ModelConfig {
  arch: Architecture;
  hiddenSize: number;
  /** MLP width (gpt2: n_inner ?? 4·n_embd; opt: ffn_dim). */
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  /** Key/value heads (grouped-query attention); = numHeads without GQA. */
  numKvHeads: number;
  /** head_dim ?? hiddenSize / numHeads; may differ from hiddenSize / numHeads (e.g. Qwen3-like configs). */
  headDim: number;
  vocabSize: number;
  /** Longest context the model was trained for (gpt2: n_positions, the size of wpe). */
  maxPositions: number;
  /** RoPE base (llama family; gemma3: of the full-attention layers); unused by gpt2 and opt. */
  ropeTheta: number;
  normEps: number;
  /** 'rms_plus_one': Gemma's RMSNorm, x/rms(x) · (1 + w). */
  norm: 'rms' | 'rms_plus_one' | 'layer';
  /**
   * The activation as transformers names it. 'silu' and 'gelu_pytorch_tanh' gate the MLP
   * (down(act(gate(x)) · up(x))); gpt2's 'gelu_new' and opt's 'relu' (or a tanh GELU) do not.
   */
  activation: 'silu' | 'gelu_new' | 'gelu_pytorch_tanh' | 'relu';
  /** LM head shares the token embedding matrix. */
  tieWordEmbeddings: boolean;
  /** Biases on the q, k and v projections (qwen2: always; llama: attention_bias; gpt2: always). */
  qkvBias: boolean;
  /** Bias on the attention output projection (llama: attention_bias; qwen2: never; gpt2: always). */
  attnOutBias: boolean;
  /** Biases on the MLP linears (llama: mlp_bias; gpt2: always). */
  mlpBias: boolean;
  /**
   * Sliding-window attention span, or null for full causal attention. Without layerTypes it
   * applies to every layer (mistral, qwen2) and windows may not be longer.
   */
  slidingWindow: number | null;
  /** torch_dtype (or dtype) as the config states it, e.g. "bfloat16"; null when absent. */
  torchDtype: string | null;
  bosTokenId: number | null;
  eosTokenIds: number[];
  /** RoPE scaling (of the full-attention layers); absent: plain RoPE. */
  ropeScaling?: RopeScaling;
  /**
   * Per layer, full or sliding-window attention (gemma3, qwen3 with use_sliding_window); sliding
   * layers see the last slidingWindow positions, and windows of any length up to the context run.
   */
  layerTypes?: LayerType[];
  /** RoPE base of the sliding layers (gemma3's rope_local_base_freq). */
  localRopeTheta?: number;
  /** RMSNorm of every head of q and k over head_dim before RoPE (qwen3, gemma3). */
  qkNorm?: boolean;
  /** Attention scores are q·k times this (gemma3: query_pre_attn_scalar^−0.5); absent: head_dim^−0.5. */
  attnScale?: number;
  /** Token embeddings are multiplied by this (gemma3: √hidden), rounded to the embedding's stored dtype. */
  embedScale?: number;
  /** Logits become c·tanh(logits / c) (gemma3's final_logit_softcapping). */
  finalLogitSoftcap?: number;
  /** 'post': x = norm(x + f(x)) (opt's do_layer_norm_before: false); absent: pre-norm. */
  normPlacement?: 'post';
  /** The model has no final norm before the head (opt post-LN, or _remove_final_layer_norm). */
  noFinalNorm?: boolean;
  /** Width of the token embeddings and the head's input when it differs from hiddenSize (opt's word_embed_proj_dim). */
  embedDim?: number;
  /** Rotated dimensions per head when fewer than headDim (phi3's partial_rotary_factor · head_dim). */
  rotaryDim?: number;
  /** Per layer, whether RoPE applies (smollm3's no_rope_layers: 1 RoPE, 0 none); absent: every layer. */
  ropeLayers?: boolean[];
  /**
   * What config.json says two ways that the run reads one way, said before a run (RunPlan.warnings):
   * e.g. rope_theta and rope_parameters.rope_theta with different values, and which one is used.
   * Absent when there is nothing to say.
   */
  warnings?: string[];
}

/** Parses config.json's text. */
export function parseModelConfig(text: string): ModelConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    refuse(`not valid JSON (${(e as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) refuse('not a JSON object');
  return normalizeModelConfig(raw as Raw);
}

/** Normalizes an already parsed config.json object. */
export function normalizeModelConfig(raw: Raw): ModelConfig {
  const modelType = raw.model_type;
  if (!(SUPPORTED_MODEL_TYPES as readonly unknown[]).includes(modelType)) {
    refuse(`model_type ${JSON.stringify(modelType ?? null)} is not supported; supported model types: ` +
      `${SUPPORTED_MODEL_TYPES.join(', ')}`);
  }
  const arch = modelType as Architecture;
  const config = arch === 'gpt2' ? gpt2Config(raw)
    : arch === 'gemma3_text' ? gemma3Config(raw)
      : arch === 'opt' ? optConfig(raw)
        : llamaFamilyConfig(raw, arch);
  if (config.hiddenSize % config.numHeads !== 0 && raw.head_dim === undefined) {
    refuse(`hidden size ${config.hiddenSize} is not divisible by ${config.numHeads} heads`);
  }
  if (config.numHeads % config.numKvHeads !== 0) {
    refuse(`${config.numHeads} attention heads are not a multiple of ${config.numKvHeads} key/value heads`);
  }
  return config;
}

/** Phi-3's rotated width: partial_rotary_factor (top level, or in v5's rope_parameters) · head_dim. */
function rotaryDimOf(raw: Raw, headDim: number): number {
  const params = raw.rope_parameters && typeof raw.rope_parameters === 'object' ? (raw.rope_parameters as Raw) : {};
  const factor = params.partial_rotary_factor ?? raw.partial_rotary_factor ?? 1;
  if (typeof factor !== 'number' || !(factor > 0 && factor <= 1)) refuse(`"partial_rotary_factor" must be in (0, 1], got ${JSON.stringify(factor)}`);
  const dim = Math.floor(headDim * factor);
  if (dim < 2 || dim % 2 !== 0) refuse(`partial_rotary_factor ${factor} of head_dim ${headDim} rotates ${dim} dimensions; RoPE needs an even number`);
  return dim;
}

/** smollm3's no_rope_layers (1: RoPE, 0: none), else every no_rope_layer_interval-th layer without (SmolLM3Config). */
function ropeLayersOf(raw: Raw, layers: number): boolean[] {
  const given = raw.no_rope_layers;
  if (given !== undefined && given !== null) {
    if (!Array.isArray(given) || given.length !== layers || !given.every((x) => x === 0 || x === 1)) {
      refuse(`"no_rope_layers" must list 1 (RoPE) or 0 (none) for each of the ${layers} layers, got ${JSON.stringify(given)}`);
    }
    return given.map((x) => x === 1);
  }
  const interval = positiveInt(raw, 'no_rope_layer_interval', 4);
  return Array.from({ length: layers }, (_, i) => (i + 1) % interval !== 0);
}

type LlamaLike = 'llama' | 'mistral' | 'qwen2' | 'qwen3' | 'phi3' | 'smollm3';

/** Context defaults of the config classes (LlamaConfig's 2048 for the older ones, as before). */
const DEFAULT_CONTEXT: Partial<Record<LlamaLike, number>> = { qwen3: 32768, phi3: 4096, smollm3: 32768 };

function llamaFamilyConfig(raw: Raw, arch: LlamaLike): ModelConfig {
  const act = raw.hidden_act ?? 'silu';
  if (act !== 'silu') refuse(`hidden_act "${String(act)}" is not supported for ${arch} (only "silu")`);

  const hiddenSize = positiveInt(raw, 'hidden_size');
  const numHeads = positiveInt(raw, 'num_attention_heads');
  const numLayers = positiveInt(raw, 'num_hidden_layers');
  // Qwen3Config's defaults: head_dim 128, context 32768.
  const headDim = positiveInt(raw, 'head_dim', arch === 'qwen3' ? 128 : Math.floor(hiddenSize / numHeads));
  const maxPositions = positiveInt(raw, 'max_position_embeddings', DEFAULT_CONTEXT[arch] ?? 2048);
  const rotaryDim = arch === 'phi3' ? rotaryDimOf(raw, headDim) : headDim;
  const rope = readRope(raw, {
    defaultTheta: arch === 'smollm3' ? 2_000_000 : 10000,
    maxPositions,
    dim: rotaryDim,
    // Phi-3: longrope, against the top-level original_max_position_embeddings.
    ...(arch === 'phi3' && {
      extraTypes: ['longrope'],
      originalMaxPositions: raw.original_max_position_embeddings != null ? positiveInt(raw, 'original_max_position_embeddings') : undefined,
    }),
  });
  const attentionBias = arch === 'llama' || arch === 'qwen3' || arch === 'smollm3' ? flag(raw, 'attention_bias', false) : false;
  let slidingWindow: number | null = null;
  let types: LayerType[] | undefined;
  const ropeLayers = arch === 'smollm3' ? ropeLayersOf(raw, numLayers) : undefined;
  if (arch === 'mistral' && raw.sliding_window !== null) {
    slidingWindow = positiveInt(raw, 'sliding_window', 4096);
  } else if (arch === 'qwen2' && flag(raw, 'use_sliding_window', false) && raw.sliding_window !== null) {
    slidingWindow = positiveInt(raw, 'sliding_window', 4096);
  } else if (arch === 'qwen3' && flag(raw, 'use_sliding_window', false) && raw.sliding_window !== null) {
    // Qwen3Config: layer_types, else sliding from max_window_layers on.
    slidingWindow = positiveInt(raw, 'sliding_window', 4096);
    const from = positiveInt(raw, 'max_window_layers', 28);
    types = raw.layer_types !== undefined && raw.layer_types !== null
      ? layerTypes(raw.layer_types, numLayers)
      : Array.from({ length: numLayers }, (_, i) => (i >= from ? 'sliding' : 'full'));
  } else if (arch === 'phi3' && raw.sliding_window !== undefined && raw.sliding_window !== null) {
    // Phi3Attention passes config.sliding_window to every layer.
    slidingWindow = positiveInt(raw, 'sliding_window');
    types = Array.from({ length: numLayers }, () => 'sliding');
  } else if (arch === 'smollm3' && flag(raw, 'use_sliding_window', false) && raw.sliding_window !== undefined && raw.sliding_window !== null) {
    // SmolLM3Config: layer_types, else the layers without RoPE slide.
    slidingWindow = positiveInt(raw, 'sliding_window');
    types = raw.layer_types !== undefined && raw.layer_types !== null
      ? layerTypes(raw.layer_types, numLayers)
      : ropeLayers!.map((r) => (r ? 'full' : 'sliding'));
  }
  return {
    arch,
    hiddenSize,
    intermediateSize: positiveInt(raw, 'intermediate_size'),
    numLayers,
    numHeads,
    numKvHeads: positiveInt(raw, 'num_key_value_heads', numHeads),
    headDim,
    vocabSize: positiveInt(raw, 'vocab_size'),
    maxPositions,
    ropeTheta: rope.theta,
    normEps: positiveNumber(raw, 'rms_norm_eps', arch === 'phi3' ? 1e-5 : 1e-6),
    norm: 'rms',
    activation: 'silu',
    tieWordEmbeddings: flag(raw, 'tie_word_embeddings', arch === 'smollm3'),
    qkvBias: arch === 'qwen2' ? true : attentionBias,
    attnOutBias: attentionBias,
    mlpBias: arch === 'llama' || arch === 'smollm3' ? flag(raw, 'mlp_bias', false) : false,
    slidingWindow,
    ...commonTail(raw),
    ...(rope.scaling && { ropeScaling: rope.scaling }),
    ...(types && { layerTypes: types }),
    ...(arch === 'qwen3' && { qkNorm: true }),
    ...(rotaryDim !== headDim && { rotaryDim }),
    ...(ropeLayers && { ropeLayers }),
    ...(rope.warning && { warnings: [rope.warning] }),
  };
}

function gpt2Config(raw: Raw): ModelConfig {
  const act = raw.activation_function ?? 'gelu_new';
  if (act !== 'gelu_new' && act !== 'gelu_pytorch_tanh') {
    refuse(`activation_function "${String(act)}" is not supported for gpt2 (only "gelu_new")`);
  }
  if (raw.scale_attn_weights === false) refuse('scale_attn_weights: false is not supported');
  if (raw.scale_attn_by_inverse_layer_idx === true) refuse('scale_attn_by_inverse_layer_idx: true is not supported');
  const hiddenSize = positiveInt(raw, 'n_embd');
  const numHeads = positiveInt(raw, 'n_head');
  return {
    arch: 'gpt2',
    hiddenSize,
    intermediateSize: positiveInt(raw, 'n_inner', 4 * hiddenSize),
    numLayers: positiveInt(raw, 'n_layer'),
    numHeads,
    numKvHeads: numHeads,
    headDim: hiddenSize / numHeads,
    vocabSize: positiveInt(raw, 'vocab_size'),
    maxPositions: positiveInt(raw, 'n_positions'),
    ropeTheta: 10000,
    normEps: positiveNumber(raw, 'layer_norm_epsilon', 1e-5),
    norm: 'layer',
    activation: 'gelu_new',
    tieWordEmbeddings: flag(raw, 'tie_word_embeddings', true),
    qkvBias: true,
    attnOutBias: true,
    mlpBias: true,
    slidingWindow: null,
    ...commonTail(raw),
  };
}

/**
 * Throws unless windows of seqlen tokens fit the model: at least 2 tokens, within its context and, with a sliding
 * window on every layer (mistral, qwen2), within the window (then full causal attention over the
 * window is the same thing). Models with per-layer types (gemma3) attend within their windows.
 */
export function assertSequenceFits(config: ModelConfig, seqlen: number): void {
  if (!Number.isSafeInteger(seqlen) || seqlen < 2) {
    throw new RangeError(`seqlen must be a whole number of at least 2 tokens (a window of one token has no next token to score), got ${seqlen}`);
  }
  if (seqlen > config.maxPositions) {
    throw new RangeError(`seqlen ${seqlen} is longer than the model's context of ${config.maxPositions} tokens: ` +
      `the longest window it takes is ${config.maxPositions}, so use seqlen ${config.maxPositions} or less`);
  }
  if (config.slidingWindow !== null && config.layerTypes === undefined && seqlen > config.slidingWindow) {
    throw new RangeError(`seqlen ${seqlen} is longer than the model's sliding attention window of ` +
      `${config.slidingWindow} tokens; sliding-window attention is not supported: use seqlen ≤ ${config.slidingWindow}`);
  }
}

/**
 * The default calibration / evaluation window: min(2048, context, sliding window), where a
 * sliding window limits it only when it applies to every layer (mistral, qwen2).
 */
export function defaultSeqlen(config: ModelConfig): number {
  return Math.min(2048, config.maxPositions, config.layerTypes ? Infinity : config.slidingWindow ?? Infinity);
}
