/**
 * config.json → a normalized ModelConfig for the architectures the studio runs. Defaults follow
 * Hugging Face transformers' config classes (LlamaConfig, MistralConfig, Qwen2Config, GPT2Config)
 * for keys a config.json leaves out.
 */
import { CheckpointError } from './checkpoint-error';

export const SUPPORTED_MODEL_TYPES = ['llama', 'mistral', 'qwen2', 'gpt2'] as const;
export type Architecture = (typeof SUPPORTED_MODEL_TYPES)[number];

export interface ModelConfig {
  arch: Architecture;
  hiddenSize: number;
  /** MLP width (gpt2: n_inner ?? 4·n_embd). */
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
  /** RoPE base (llama family); unused by gpt2. */
  ropeTheta: number;
  normEps: number;
  norm: 'rms' | 'layer';
  /** 'silu': SiLU-gated MLP, down(silu(gate(x)) · up(x)); 'gelu_new': fc → tanh-GELU → proj. */
  activation: 'silu' | 'gelu_new';
  /** LM head shares the token embedding matrix. */
  tieWordEmbeddings: boolean;
  /** Biases on the q, k and v projections (qwen2: always; llama: attention_bias; gpt2: always). */
  qkvBias: boolean;
  /** Bias on the attention output projection (llama: attention_bias; qwen2: never; gpt2: always). */
  attnOutBias: boolean;
  /** Biases on the MLP linears (llama: mlp_bias; gpt2: always). */
  mlpBias: boolean;
  /** Sliding-window attention span, or null for full causal attention. */
  slidingWindow: number | null;
  /** torch_dtype (or dtype) as the config states it, e.g. "bfloat16"; null when absent. */
  torchDtype: string | null;
  bosTokenId: number | null;
  eosTokenIds: number[];
}

const FILE = 'config.json';

function refuse(what: string): never {
  throw new CheckpointError(`${FILE}: ${what}`, { file: FILE });
}

type Raw = Record<string, unknown>;

function positiveInt(raw: Raw, key: string, fallback?: number): number {
  const value = raw[key] ?? fallback;
  if (value === undefined) refuse(`"${key}" is missing`);
  if (!Number.isSafeInteger(value) || (value as number) <= 0) {
    refuse(`"${key}" must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value as number;
}

function positiveNumber(raw: Raw, key: string, fallback: number): number {
  const value = raw[key] ?? fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    refuse(`"${key}" must be a positive number, got ${JSON.stringify(value)}`);
  }
  return value;
}

function flag(raw: Raw, key: string, fallback: boolean): boolean {
  const value = raw[key] ?? fallback;
  if (typeof value !== 'boolean') refuse(`"${key}" must be true or false, got ${JSON.stringify(value)}`);
  return value;
}

function tokenIds(value: unknown, key: string): number[] {
  if (value === undefined || value === null) return [];
  const ids = Array.isArray(value) ? value : [value];
  if (!ids.every((id) => Number.isSafeInteger(id) && id >= 0)) {
    refuse(`"${key}" must be a token id or a list of them, got ${JSON.stringify(value)}`);
  }
  return ids as number[];
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
  const config = arch === 'gpt2' ? gpt2Config(raw) : llamaFamilyConfig(raw, arch);
  if (config.hiddenSize % config.numHeads !== 0 && raw.head_dim === undefined) {
    refuse(`hidden size ${config.hiddenSize} is not divisible by ${config.numHeads} heads`);
  }
  if (config.numHeads % config.numKvHeads !== 0) {
    refuse(`${config.numHeads} attention heads are not a multiple of ${config.numKvHeads} key/value heads`);
  }
  return config;
}

function commonTail(raw: Raw) {
  const dtype = raw.torch_dtype ?? raw.dtype ?? null;
  return {
    torchDtype: typeof dtype === 'string' ? dtype : null,
    bosTokenId: tokenIds(raw.bos_token_id, 'bos_token_id')[0] ?? null,
    eosTokenIds: tokenIds(raw.eos_token_id, 'eos_token_id'),
  };
}

function llamaFamilyConfig(raw: Raw, arch: 'llama' | 'mistral' | 'qwen2'): ModelConfig {
  if (raw.rope_scaling !== undefined && raw.rope_scaling !== null) {
    refuse(`rope_scaling ${JSON.stringify(raw.rope_scaling)} is not supported yet (only plain RoPE); ` +
      'use a model without rope_scaling');
  }
  // Newer transformers nest RoPE settings in rope_parameters.
  let ropeTheta = positiveNumber(raw, 'rope_theta', 10000);
  const ropeParameters = raw.rope_parameters as Raw | undefined | null;
  if (ropeParameters && typeof ropeParameters === 'object') {
    const type = ropeParameters.rope_type ?? 'default';
    if (type !== 'default') refuse(`rope_parameters.rope_type "${String(type)}" is not supported yet (only plain RoPE)`);
    ropeTheta = positiveNumber(ropeParameters, 'rope_theta', ropeTheta);
  }
  const act = raw.hidden_act ?? 'silu';
  if (act !== 'silu') refuse(`hidden_act "${String(act)}" is not supported for ${arch} (only "silu")`);

  const hiddenSize = positiveInt(raw, 'hidden_size');
  const numHeads = positiveInt(raw, 'num_attention_heads');
  const attentionBias = arch === 'llama' ? flag(raw, 'attention_bias', false) : false;
  let slidingWindow: number | null = null;
  if (arch === 'mistral' && raw.sliding_window !== null) {
    slidingWindow = positiveInt(raw, 'sliding_window', 4096);
  } else if (arch === 'qwen2' && flag(raw, 'use_sliding_window', false) && raw.sliding_window !== null) {
    slidingWindow = positiveInt(raw, 'sliding_window', 4096);
  }
  return {
    arch,
    hiddenSize,
    intermediateSize: positiveInt(raw, 'intermediate_size'),
    numLayers: positiveInt(raw, 'num_hidden_layers'),
    numHeads,
    numKvHeads: positiveInt(raw, 'num_key_value_heads', numHeads),
    headDim: positiveInt(raw, 'head_dim', Math.floor(hiddenSize / numHeads)),
    vocabSize: positiveInt(raw, 'vocab_size'),
    maxPositions: positiveInt(raw, 'max_position_embeddings', 2048),
    ropeTheta,
    normEps: positiveNumber(raw, 'rms_norm_eps', 1e-6),
    norm: 'rms',
    activation: 'silu',
    tieWordEmbeddings: flag(raw, 'tie_word_embeddings', false),
    qkvBias: arch === 'qwen2' ? true : attentionBias,
    attnOutBias: attentionBias,
    mlpBias: arch === 'llama' ? flag(raw, 'mlp_bias', false) : false,
    slidingWindow,
    ...commonTail(raw),
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
 * Throws unless windows of seqlen tokens fit the model: within its context and, with sliding-window
 * attention, within the window (then full causal attention over the window is the same thing).
 */
export function assertSequenceFits(config: ModelConfig, seqlen: number): void {
  if (!Number.isSafeInteger(seqlen) || seqlen < 1) throw new RangeError(`seqlen must be a positive integer, got ${seqlen}`);
  if (seqlen > config.maxPositions) {
    throw new RangeError(`seqlen ${seqlen} is longer than the model's context of ${config.maxPositions} tokens`);
  }
  if (config.slidingWindow !== null && seqlen > config.slidingWindow) {
    throw new RangeError(`seqlen ${seqlen} is longer than the model's sliding attention window of ` +
      `${config.slidingWindow} tokens; sliding-window attention is not supported: use seqlen ≤ ${config.slidingWindow}`);
  }
}

/** The default calibration / evaluation window: min(2048, context, sliding window). */
export function defaultSeqlen(config: ModelConfig): number {
  return Math.min(2048, config.maxPositions, config.slidingWindow ?? Infinity);
}
