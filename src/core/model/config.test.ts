import { describe, expect, it } from 'vitest';
import { CheckpointError } from './checkpoint-error';
import { assertSequenceFits, defaultSeqlen, parseModelConfig } from './config';

const parse = (raw: object) => parseModelConfig(JSON.stringify(raw));

const llama = {
  model_type: 'llama', hidden_size: 64, intermediate_size: 172, num_hidden_layers: 5,
  num_attention_heads: 8, num_key_value_heads: 4, vocab_size: 512, max_position_embeddings: 512,
  rms_norm_eps: 1e-5, bos_token_id: 1, eos_token_id: 2, torch_dtype: 'float32',
};

describe('parseModelConfig', () => {
  it('llama: GQA, head_dim default, rope and tie defaults as in LlamaConfig', () => {
    expect(parse(llama)).toEqual({
      arch: 'llama', hiddenSize: 64, intermediateSize: 172, numLayers: 5, numHeads: 8, numKvHeads: 4,
      headDim: 8, vocabSize: 512, maxPositions: 512, ropeTheta: 10000, normEps: 1e-5, norm: 'rms',
      activation: 'silu', tieWordEmbeddings: false, qkvBias: false, attnOutBias: false, mlpBias: false,
      slidingWindow: null, torchDtype: 'float32', bosTokenId: 1, eosTokenIds: [2],
    });
  });

  it('llama: explicit head_dim, attention_bias, mlp_bias, eos list, rope_theta, tied, num_key_value_heads default', () => {
    const c = parse({
      ...llama, num_key_value_heads: undefined, head_dim: 16, attention_bias: true, mlp_bias: true,
      eos_token_id: [2, 7], rope_theta: 500000, tie_word_embeddings: true, rope_scaling: null, dtype: 'bfloat16',
      torch_dtype: undefined,
    });
    expect(c).toMatchObject({
      numKvHeads: 8, headDim: 16, qkvBias: true, attnOutBias: true, mlpBias: true, eosTokenIds: [2, 7],
      ropeTheta: 500000, tieWordEmbeddings: true, torchDtype: 'bfloat16',
    });
  });

  it('mistral: sliding window recorded (4096 by default), no biases', () => {
    const base = { ...llama, model_type: 'mistral', max_position_embeddings: 32768 };
    expect(parse(base)).toMatchObject({ arch: 'mistral', slidingWindow: 4096, qkvBias: false, tieWordEmbeddings: false });
    expect(parse({ ...base, sliding_window: null }).slidingWindow).toBeNull();
    expect(parse({ ...base, sliding_window: 1024 }).slidingWindow).toBe(1024);
  });

  it('qwen2: q/k/v biases without o_proj bias; sliding window only with use_sliding_window', () => {
    const base = {
      ...llama, model_type: 'qwen2', hidden_size: 896, num_attention_heads: 14, num_key_value_heads: 2,
      rope_theta: 1000000, rms_norm_eps: 1e-6, sliding_window: 32768, use_sliding_window: false,
      tie_word_embeddings: true,
    };
    expect(parse(base)).toMatchObject({
      arch: 'qwen2', headDim: 64, qkvBias: true, attnOutBias: false, mlpBias: false, slidingWindow: null,
      ropeTheta: 1000000, normEps: 1e-6, tieWordEmbeddings: true,
    });
    expect(parse({ ...base, use_sliding_window: true, sliding_window: 4096 }).slidingWindow).toBe(4096);
  });

  it('gpt2: n_inner default 4·n_embd, tied by default, LayerNorm, gelu_new, all biases', () => {
    const gpt2 = { model_type: 'gpt2', n_embd: 768, n_layer: 12, n_head: 12, n_positions: 1024, vocab_size: 50257,
      bos_token_id: 50256, eos_token_id: 50256 };
    expect(parse(gpt2)).toEqual({
      arch: 'gpt2', hiddenSize: 768, intermediateSize: 3072, numLayers: 12, numHeads: 12, numKvHeads: 12,
      headDim: 64, vocabSize: 50257, maxPositions: 1024, ropeTheta: 10000, normEps: 1e-5, norm: 'layer',
      activation: 'gelu_new', tieWordEmbeddings: true, qkvBias: true, attnOutBias: true, mlpBias: true,
      slidingWindow: null, torchDtype: null, bosTokenId: 50256, eosTokenIds: [50256],
    });
    expect(parse({ ...gpt2, n_inner: 1000, tie_word_embeddings: false, layer_norm_epsilon: 1e-6 }))
      .toMatchObject({ intermediateSize: 1000, tieWordEmbeddings: false, normEps: 1e-6 });
    expect(parse({ ...gpt2, n_inner: null }).intermediateSize).toBe(3072);
  });

  it('refuses unsupported model types, naming it and the supported ones', () => {
    expect(() => parse({ ...llama, model_type: 'mamba' })).toThrow(CheckpointError);
    expect(() => parse({ ...llama, model_type: 'mamba' }))
      .toThrow('config.json: model_type "mamba" is not supported; supported model types: llama, mistral, qwen2, qwen3, gemma3_text, phi3, smollm3, opt, gpt2');
    expect(() => parse({ hidden_size: 4 })).toThrow(/model_type null is not supported/);
  });

  it('refuses unsupported rope_scaling types and other unsupported settings clearly', () => {
    expect(() => parse({ ...llama, rope_scaling: { rope_type: 'yarn', factor: 8 } }))
      .toThrow('config.json: rope_scaling rope_type "yarn" is not supported; supported RoPE types: default, linear, dynamic, llama3');
    expect(() => parse({ ...llama, hidden_act: 'gelu' })).toThrow(/hidden_act "gelu" is not supported/);
    expect(() => parse({ model_type: 'gpt2', n_embd: 8, n_layer: 1, n_head: 2, n_positions: 4, vocab_size: 5,
      activation_function: 'relu' })).toThrow(/activation_function "relu"/);
  });

  it('refuses missing or malformed fields and bad JSON', () => {
    expect(() => parse({ ...llama, hidden_size: undefined })).toThrow('config.json: "hidden_size" is missing');
    expect(() => parse({ ...llama, num_hidden_layers: 2.5 })).toThrow(/"num_hidden_layers" must be a positive integer/);
    expect(() => parse({ ...llama, num_key_value_heads: 3 })).toThrow(/8 attention heads are not a multiple of 3/);
    expect(() => parseModelConfig('{ nope')).toThrow(/config.json: not valid JSON/);
  });
});

describe('sequence length checks', () => {
  it('default seqlen is min(2048, context, sliding window)', () => {
    expect(defaultSeqlen(parse(llama))).toBe(512);
    expect(defaultSeqlen(parse({ ...llama, max_position_embeddings: 32768 }))).toBe(2048);
    expect(defaultSeqlen(parse({ ...llama, model_type: 'mistral', max_position_embeddings: 32768, sliding_window: 1024 }))).toBe(1024);
  });

  it('refuses windows longer than the context or the sliding window', () => {
    const mistral = parse({ ...llama, model_type: 'mistral', max_position_embeddings: 32768, sliding_window: 1024 });
    expect(() => assertSequenceFits(mistral, 1024)).not.toThrow();
    expect(() => assertSequenceFits(mistral, 2048)).toThrow(/sliding attention window of 1024/);
    // The message gives the largest window the model takes, to use instead.
    expect(() => assertSequenceFits(parse(llama), 513)).toThrow(/^seqlen 513 is longer than the model's context of 512 tokens: the longest window it takes is 512, so use seqlen 512 or less$/);
    expect(() => assertSequenceFits(parse(llama), 512)).not.toThrow();
  });
});
