/** The small JSON files of a Hugging Face LlamaForCausalLM checkpoint folder. */
import { EOT, EOT_ID } from './bpe';
import type { ModelShape } from './model';

/** config.json: exactly the keys transformers' LlamaConfig reads for this model. */
export function llamaConfigJson(s: ModelShape): Record<string, unknown> {
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    hidden_size: s.hidden,
    intermediate_size: s.inter,
    num_hidden_layers: s.layers,
    num_attention_heads: s.heads,
    num_key_value_heads: s.kvHeads,
    head_dim: s.headDim,
    hidden_act: 'silu',
    max_position_embeddings: s.maxPositions,
    rms_norm_eps: s.eps,
    rope_theta: s.ropeTheta,
    attention_bias: false,
    mlp_bias: false,
    tie_word_embeddings: true,
    vocab_size: s.vocab,
    bos_token_id: EOT_ID,
    eos_token_id: EOT_ID,
    torch_dtype: 'float32',
    initializer_range: 0.02,
    use_cache: true,
  };
}

export function tokenizerConfigJson(maxLength: number): Record<string, unknown> {
  return {
    tokenizer_class: 'PreTrainedTokenizerFast',
    bos_token: EOT,
    eos_token: EOT,
    unk_token: null,
    add_bos_token: false,
    add_eos_token: false,
    model_max_length: maxLength,
    // keep decode(encode(x)) === x: no " ?" → "?" clean-up (the KJV has "thyself ?")
    clean_up_tokenization_spaces: false,
  };
}

export function generationConfigJson(): Record<string, unknown> {
  return { bos_token_id: EOT_ID, eos_token_id: EOT_ID, do_sample: false, max_new_tokens: 64 };
}
