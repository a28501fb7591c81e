/**
 * gemma3_text's config.json → ModelConfig, with Gemma3TextConfig's defaults
 * (transformers models/gemma3/configuration_gemma3.py): head_dim 256, query_pre_attn_scalar 256,
 * sliding_window 4096 on the layers that are not every sliding_window_pattern-th (6), RoPE base
 * rope_local_base_freq (10000) on sliding layers and rope_theta (1e6, with rope_scaling) on full ones,
 * gelu_pytorch_tanh, (1 + w) RMSNorms, tied head.
 */
import { commonTail, flag, layerTypes, positiveInt, positiveNumber, refuse, type Raw } from './config-keys';
import type { LayerType, ModelConfig } from './config';
import { readRope } from './rope';

export function gemma3Config(raw: Raw): ModelConfig {
  const act = raw.hidden_activation ?? raw.hidden_act ?? 'gelu_pytorch_tanh';
  if (act !== 'gelu_pytorch_tanh') refuse(`hidden_activation "${String(act)}" is not supported for gemma3_text (only "gelu_pytorch_tanh")`);
  if (raw.use_bidirectional_attention === true) {
    refuse('use_bidirectional_attention: true makes this an embedding model (not causal); the studio quantizes causal language models');
  }
  const hiddenSize = positiveInt(raw, 'hidden_size');
  const numHeads = positiveInt(raw, 'num_attention_heads');
  const numLayers = positiveInt(raw, 'num_hidden_layers');
  const headDim = positiveInt(raw, 'head_dim', 256);
  const maxPositions = positiveInt(raw, 'max_position_embeddings', 131072);
  let types: LayerType[];
  if (raw.layer_types !== undefined && raw.layer_types !== null) {
    types = layerTypes(raw.layer_types, numLayers);
  } else {
    // Layer i is sliding unless (i + 1) is a multiple of the pattern.
    const pattern = positiveInt(raw, 'sliding_window_pattern', 6);
    types = Array.from({ length: numLayers }, (_, i) => ((i + 1) % pattern !== 0 ? 'sliding' : 'full'));
  }
  const full = readRope(raw, { layerType: 'full_attention', defaultTheta: 1_000_000, maxPositions, dim: headDim });
  // Sliding layers: rope_local_base_freq (v4) or rope_parameters.sliding_attention (v5), plain RoPE.
  const local = readRope(
    { rope_theta: raw.rope_local_base_freq == null ? undefined : positiveNumber(raw, 'rope_local_base_freq', 10000), rope_parameters: raw.rope_parameters },
    { layerType: 'sliding_attention', defaultTheta: 10000, maxPositions, dim: headDim, thetaKey: 'rope_local_base_freq' },
  );
  const warnings = [full.warning, local.warning].filter((w): w is string => w !== null);
  if (local.scaling) refuse('RoPE scaling on the sliding-attention layers is not supported (only on full_attention)');
  const softcap = raw.final_logit_softcapping;
  const attentionBias = flag(raw, 'attention_bias', false);
  return {
    arch: 'gemma3_text',
    hiddenSize,
    intermediateSize: positiveInt(raw, 'intermediate_size'),
    numLayers,
    numHeads,
    numKvHeads: positiveInt(raw, 'num_key_value_heads', numHeads),
    headDim,
    vocabSize: positiveInt(raw, 'vocab_size'),
    maxPositions,
    ropeTheta: full.theta,
    normEps: positiveNumber(raw, 'rms_norm_eps', 1e-6),
    norm: 'rms_plus_one',
    activation: 'gelu_pytorch_tanh',
    tieWordEmbeddings: flag(raw, 'tie_word_embeddings', true),
    qkvBias: attentionBias,
    attnOutBias: attentionBias,
    mlpBias: false,
    slidingWindow: positiveInt(raw, 'sliding_window', 4096),
    ...commonTail(raw),
    ...(full.scaling && { ropeScaling: full.scaling }),
    layerTypes: types,
    localRopeTheta: local.theta,
    qkNorm: true,
    attnScale: positiveNumber(raw, 'query_pre_attn_scalar', 256) ** -0.5,
    embedScale: Math.sqrt(hiddenSize),
    ...(softcap !== undefined && softcap !== null && { finalLogitSoftcap: positiveNumber(raw, 'final_logit_softcapping', 1) }),
    ...(warnings.length > 0 && { warnings }),
  };
}
