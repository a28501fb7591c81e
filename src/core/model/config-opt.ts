/**
 * opt's config.json → ModelConfig, with OPTConfig's defaults (transformers
 * models/opt/configuration_opt.py): ffn_dim 3072, context 2048, relu, biases on every linear
 * (enable_bias), LayerNorm (eps 1e-5, nn.LayerNorm's default: the config has no key for it),
 * pre-LN (do_layer_norm_before), word_embed_proj_dim = hidden_size, tied head.
 */
import { commonTail, flag, positiveInt, refuse, type Raw } from './config-keys';
import type { ModelConfig } from './config';

/** The activations OPT checkpoints use that the studio runs (ACT2FN names). */
const OPT_ACTIVATIONS = ['relu', 'gelu_new', 'gelu_pytorch_tanh'] as const;

export function optConfig(raw: Raw): ModelConfig {
  const act = raw.activation_function ?? 'relu';
  if (!(OPT_ACTIVATIONS as readonly unknown[]).includes(act)) {
    refuse(`activation_function "${String(act)}" is not supported for opt (supported: ${OPT_ACTIVATIONS.join(', ')})`);
  }
  if (raw.layer_norm_elementwise_affine === false) {
    refuse('layer_norm_elementwise_affine: false (LayerNorms without weights) is not supported for opt');
  }
  const hiddenSize = positiveInt(raw, 'hidden_size', 768);
  const numHeads = positiveInt(raw, 'num_attention_heads', 12);
  const before = flag(raw, 'do_layer_norm_before', true);
  const removeFinal = flag(raw, '_remove_final_layer_norm', false);
  const embedDim = positiveInt(raw, 'word_embed_proj_dim', hiddenSize);
  const bias = flag(raw, 'enable_bias', true);
  return {
    arch: 'opt',
    hiddenSize,
    intermediateSize: positiveInt(raw, 'ffn_dim', 3072),
    numLayers: positiveInt(raw, 'num_hidden_layers', 12),
    numHeads,
    numKvHeads: numHeads,
    headDim: Math.floor(hiddenSize / numHeads),
    vocabSize: positiveInt(raw, 'vocab_size', 50272),
    maxPositions: positiveInt(raw, 'max_position_embeddings', 2048),
    ropeTheta: 10000,
    normEps: 1e-5,
    norm: 'layer',
    activation: act as ModelConfig['activation'],
    tieWordEmbeddings: flag(raw, 'tie_word_embeddings', true),
    qkvBias: bias,
    attnOutBias: bias,
    mlpBias: bias,
    slidingWindow: null,
    ...commonTail(raw),
    ...(!before && { normPlacement: 'post' as const }),
    ...((!before || removeFinal) && { noFinalNorm: true }),
    ...(embedDim !== hiddenSize && { embedDim }),
  };
}
