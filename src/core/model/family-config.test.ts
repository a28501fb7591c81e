/** config.json of the families beyond llama/gpt2 → ModelConfig and layout (names, shapes, structure). */
import { describe, expect, it } from 'vitest';
import { assertSequenceFits, defaultSeqlen, parseModelConfig } from './config';
import { modelLayout, requiredTensors, roundToDtype, runEmbedScale } from './architecture';
import { architectureFacts } from './describe';

const parse = (raw: object) => parseModelConfig(JSON.stringify(raw));

// The released configs' values (Hub config.json files).
const QWEN3_06B = {
  architectures: ['Qwen3ForCausalLM'], attention_bias: false, bos_token_id: 151643, eos_token_id: 151645, head_dim: 128,
  hidden_act: 'silu', hidden_size: 1024, intermediate_size: 3072, max_position_embeddings: 40960, max_window_layers: 28,
  model_type: 'qwen3', num_attention_heads: 16, num_hidden_layers: 28, num_key_value_heads: 8, rms_norm_eps: 1e-6,
  rope_scaling: null, rope_theta: 1000000, sliding_window: null, tie_word_embeddings: true, torch_dtype: 'bfloat16',
  use_sliding_window: false, vocab_size: 151936,
};
const GEMMA3_270M = {
  architectures: ['Gemma3ForCausalLM'], attention_bias: false, attn_logit_softcapping: null, bos_token_id: 2, eos_token_id: 1,
  final_logit_softcapping: null, head_dim: 256, hidden_activation: 'gelu_pytorch_tanh', hidden_size: 640, intermediate_size: 2048,
  layer_types: [...Array(5).fill('sliding_attention'), 'full_attention', ...Array(5).fill('sliding_attention'), 'full_attention',
    ...Array(5).fill('sliding_attention'), 'full_attention'],
  max_position_embeddings: 32768, model_type: 'gemma3_text', num_attention_heads: 4, num_hidden_layers: 18, num_key_value_heads: 1,
  pad_token_id: 0, query_pre_attn_scalar: 256, rms_norm_eps: 1e-6, rope_local_base_freq: 10000.0, rope_scaling: null,
  rope_theta: 1000000.0, sliding_window: 512, torch_dtype: 'bfloat16', use_bidirectional_attention: false, vocab_size: 262144,
};
const OPT_350M = {
  _remove_final_layer_norm: false, activation_function: 'relu', architectures: ['OPTForCausalLM'], bos_token_id: 2,
  do_layer_norm_before: false, enable_bias: true, eos_token_id: 2, ffn_dim: 4096, hidden_size: 1024, max_position_embeddings: 2048,
  model_type: 'opt', num_attention_heads: 16, num_hidden_layers: 24, pad_token_id: 1, torch_dtype: 'float16', vocab_size: 50272,
  word_embed_proj_dim: 512,
};

describe('qwen3', () => {
  it('Qwen3-0.6B: explicit head_dim 128 ≠ 1024/16, q/k norms, no biases, tied, plain RoPE θ 1e6', () => {
    const c = parse(QWEN3_06B);
    expect(c).toMatchObject({ arch: 'qwen3', headDim: 128, numHeads: 16, numKvHeads: 8, qkNorm: true, qkvBias: false, attnOutBias: false, tieWordEmbeddings: true, ropeTheta: 1e6, slidingWindow: null });
    expect(c.layerTypes).toBeUndefined();
    const layout = modelLayout(c);
    expect(layout.block.linears.map((l) => [l.name, l.out, l.in])).toEqual([
      ['self_attn.q_proj', 2048, 1024], ['self_attn.k_proj', 1024, 1024], ['self_attn.v_proj', 1024, 1024], ['self_attn.o_proj', 1024, 2048],
      ['mlp.gate_proj', 3072, 1024], ['mlp.up_proj', 3072, 1024], ['mlp.down_proj', 1024, 3072],
    ]);
    expect(layout.block.attention.qNorm).toMatchObject({ name: 'self_attn.q_norm', size: 128, kind: 'rms', eps: 1e-6 });
    expect(layout.block.attention.scale).toBe(128 ** -0.5);
    const required = requiredTensors(layout, c);
    expect(required).toContainEqual({ name: 'model.layers.27.self_attn.k_norm.weight', shape: [128] });
    expect(required.map((r) => r.name)).not.toContain('lm_head.weight');
    expect(layout.layerAttention(5)).toEqual({ rope: { theta: 1e6, dim: 128 }, window: null });
  });

  it('use_sliding_window: layers from max_window_layers on attend within the window, and longer windows run', () => {
    const c = parse({ ...QWEN3_06B, use_sliding_window: true, sliding_window: 4096, max_window_layers: 20 });
    expect(c.layerTypes!.filter((t) => t === 'sliding')).toHaveLength(8);
    const layout = modelLayout(c);
    expect(layout.layerAttention(19).window).toBeNull();
    expect(layout.layerAttention(20).window).toBe(4096);
    expect(() => assertSequenceFits(c, 8192)).not.toThrow();
  });
});

describe('gemma3_text', () => {
  it('gemma-3-270m: layer_types, two RoPE bases, (1 + w) norms, four norms per block, q/k norms, scale, tied', () => {
    const c = parse(GEMMA3_270M);
    expect(c).toMatchObject({
      arch: 'gemma3_text', norm: 'rms_plus_one', activation: 'gelu_pytorch_tanh', headDim: 256, numKvHeads: 1, slidingWindow: 512,
      ropeTheta: 1e6, localRopeTheta: 10000, qkNorm: true, attnScale: 256 ** -0.5, embedScale: Math.sqrt(640), tieWordEmbeddings: true,
    });
    expect(c.finalLogitSoftcap).toBeUndefined();
    const layout = modelLayout(c, undefined, 'BF16');
    expect(layout.embedScale).toBe(25.25); // √640 = 25.298 in bfloat16, as transformers casts it
    // The RTN/GPTQ models of a float16 export run as transformers runs that file: √640 in float16.
    expect(runEmbedScale(layout, false)).toBe(25.25);
    expect(runEmbedScale(layout, true)).toBe(25.296875);
    expect(runEmbedScale(modelLayout(c, undefined, 'F32'), true)).toBe(25.296875);
    expect(layout.layerAttention(0)).toEqual({ rope: { theta: 10000, dim: 256 }, window: 512 });
    expect(layout.layerAttention(5)).toEqual({ rope: { theta: 1e6, dim: 256 }, window: null });
    const b = layout.block;
    expect([b.attnNorm.name, b.attnOutNorm?.name, b.mlpNorm.name, b.mlpOutNorm?.name]).toEqual([
      'input_layernorm', 'post_attention_layernorm', 'pre_feedforward_layernorm', 'post_feedforward_layernorm',
    ]);
    expect(b.attnNorm.kind).toBe('rms_plus_one');
    expect(b.mlp.activation).toBe('gelu_tanh');
    expect(requiredTensors(layout, c).filter((r) => r.name.startsWith('model.layers.0.')).map((r) => r.name)).toEqual([
      'model.layers.0.input_layernorm.weight', 'model.layers.0.post_attention_layernorm.weight',
      'model.layers.0.self_attn.q_norm.weight', 'model.layers.0.self_attn.k_norm.weight',
      'model.layers.0.pre_feedforward_layernorm.weight', 'model.layers.0.post_feedforward_layernorm.weight',
      ...['q_proj', 'k_proj', 'v_proj', 'o_proj'].map((n) => `model.layers.0.self_attn.${n}.weight`),
      ...['gate_proj', 'up_proj', 'down_proj'].map((n) => `model.layers.0.mlp.${n}.weight`),
    ]);
    // Windows longer than the sliding window run: sliding layers attend within it.
    expect(defaultSeqlen(c)).toBe(2048);
    expect(() => assertSequenceFits(c, 2048)).not.toThrow();
  });

  it('sliding_window_pattern without layer_types; v5 rope_parameters per layer type; softcapping; refusals', () => {
    const { layer_types: _, ...old } = GEMMA3_270M;
    const c = parse({ ...old, num_hidden_layers: 12, sliding_window_pattern: 6 });
    expect(c.layerTypes).toEqual([...Array(5).fill('sliding'), 'full', ...Array(5).fill('sliding'), 'full']);
    const v5 = parse({
      ...GEMMA3_270M, rope_theta: undefined, rope_local_base_freq: undefined,
      rope_parameters: { sliding_attention: { rope_type: 'default', rope_theta: 10000 }, full_attention: { rope_type: 'linear', factor: 8.0, rope_theta: 1e6 } },
      final_logit_softcapping: 30.0,
    });
    expect(v5).toMatchObject({ ropeTheta: 1e6, localRopeTheta: 10000, ropeScaling: { type: 'linear', factor: 8 }, finalLogitSoftcap: 30 });
    expect(modelLayout(v5).logitSoftcap).toBe(30);
    expect(v5.warnings).toBeUndefined();
    // gemma3's sliding layers: rope_local_base_freq against rope_parameters.sliding_attention's base.
    const twice = parse({ ...GEMMA3_270M, rope_local_base_freq: 10000, rope_parameters: { sliding_attention: { rope_type: 'default', rope_theta: 20000 }, full_attention: { rope_type: 'default' } } });
    expect(twice).toMatchObject({ localRopeTheta: 20000, ropeTheta: GEMMA3_270M.rope_theta });
    expect(twice.warnings).toEqual([expect.stringMatching(/^config\.json gives rope_local_base_freq 10000 and rope_parameters\.sliding_attention\.rope_theta 20000: RoPE uses 20000/)]);
    expect(() => parse({ ...GEMMA3_270M, rope_local_base_freq: -1 })).toThrow('"rope_local_base_freq" must be a positive number');
    // A legacy rope_scaling applies to the full-attention layers.
    expect(parse({ ...GEMMA3_270M, rope_scaling: { rope_type: 'linear', factor: 8.0 } }).ropeScaling).toEqual({ type: 'linear', factor: 8 });
    expect(() => parse({ ...GEMMA3_270M, use_bidirectional_attention: true })).toThrow(/embedding model/);
    expect(() => parse({ ...GEMMA3_270M, hidden_activation: 'silu' })).toThrow(/hidden_activation "silu" is not supported for gemma3_text/);
    expect(() => parse({ ...GEMMA3_270M, layer_types: ['chunked_attention'] })).toThrow(/layer_types/);
  });

  it('the embedding scale in the stored dtype: √640 and √1152 in bfloat16, float16, float32', () => {
    expect(roundToDtype(Math.sqrt(640), 'BF16')).toBe(25.25);
    expect(roundToDtype(Math.sqrt(1152), 'BF16')).toBe(34);
    expect(roundToDtype(Math.sqrt(640), 'F16')).toBe(25.296875);
    expect(roundToDtype(Math.sqrt(1152), 'F16')).toBe(33.9375);
    expect(roundToDtype(Math.sqrt(640), 'F32')).toBe(Math.fround(Math.sqrt(640)));
  });
});

describe('opt', () => {
  it('opt-350m: post-LN without a final norm, project_in/out to 512, learned positions + 2, relu, biases, tied', () => {
    const c = parse(OPT_350M);
    expect(c).toMatchObject({ arch: 'opt', normPlacement: 'post', noFinalNorm: true, embedDim: 512, activation: 'relu', headDim: 64, intermediateSize: 4096, normEps: 1e-5, qkvBias: true, mlpBias: true });
    const layout = modelLayout(c);
    expect(layout).toMatchObject({
      embedTokens: 'model.decoder.embed_tokens.weight', embedPositions: 'model.decoder.embed_positions.weight', positionOffset: 2,
      projectIn: 'model.decoder.project_in.weight', projectOut: 'model.decoder.project_out.weight', finalNorm: null, embedDim: 512,
      lmHead: 'model.decoder.embed_tokens.weight', intermediateSizeKey: 'ffn_dim',
    });
    expect(layout.block.normPlacement).toBe('post');
    expect(layout.block.sequentialGroups).toEqual([['self_attn.k_proj', 'self_attn.v_proj', 'self_attn.q_proj'], ['self_attn.out_proj'], ['fc1'], ['fc2']]);
    const required = requiredTensors(layout, c);
    expect(required.slice(0, 3)).toEqual([
      { name: 'model.decoder.embed_tokens.weight', shape: [50272, 512] },
      { name: 'model.decoder.project_in.weight', shape: [1024, 512] },
      { name: 'model.decoder.embed_positions.weight', shape: [2050, 1024] },
    ]);
    expect(required.at(-1)).toEqual({ name: 'model.decoder.project_out.weight', shape: [512, 1024] });
    expect(required).toContainEqual({ name: 'model.decoder.layers.23.fc1.bias', shape: [4096] });
    expect(required.map((r) => r.name)).not.toContain('model.decoder.final_layer_norm.weight');
    // A bare OPTModel's names start at "decoder.".
    expect(modelLayout(c, '').blockPrefix(3)).toBe('decoder.layers.3.');
  });

  it('opt-125m defaults: pre-LN with the decoder final norm, no projections; refusals name what is supported', () => {
    const c = parse({ model_type: 'opt', hidden_size: 768, num_attention_heads: 12, num_hidden_layers: 12, ffn_dim: 3072, vocab_size: 50272 });
    expect(c.normPlacement).toBeUndefined();
    expect(c.embedDim).toBeUndefined();
    const layout = modelLayout(c);
    expect(layout.finalNorm).toMatchObject({ name: 'model.decoder.final_layer_norm', kind: 'layer', bias: true });
    expect(layout.projectIn).toBeNull();
    expect(parse({ ...OPT_350M, do_layer_norm_before: true, _remove_final_layer_norm: true }).noFinalNorm).toBe(true);
    expect(() => parse({ ...OPT_350M, activation_function: 'gelu' }))
      .toThrow('config.json: activation_function "gelu" is not supported for opt (supported: relu, gelu_new, gelu_pytorch_tanh)');
    expect(() => parse({ ...OPT_350M, layer_norm_elementwise_affine: false })).toThrow(/layer_norm_elementwise_affine/);
  });
});

describe('architectureFacts (the studio\'s "Recognised" panel)', () => {
  const facts = (raw: object, dtype?: string) => {
    const c = parse(raw);
    return Object.fromEntries(architectureFacts(c, modelLayout(c, undefined, dtype)).map((f) => [f.key, f.value]));
  };

  it('names what sets each family apart', () => {
    const gemma = facts(GEMMA3_270M, 'BF16');
    expect(gemma.rope).toBe('plain (θ 10000) on 15 layers; plain (θ 1000000) on 3 layers');
    expect(gemma['head-dim']).toBe('256 (not hidden / heads = 160)');
    expect(gemma.attention).toBe('sliding window of 512 on 15 of 18 layers, full on the rest');
    expect(gemma.norms).toBe('RMSNorm (1 + w), pre-norm, norms on each sublayer output too (4 per block), q/k norms per head');
    expect(gemma.mlp).toBe('gated GELU (tanh) (gate_proj, up_proj, down_proj)');
    expect(gemma.embeddings).toBe('scaled by 25.25 (√640 in the stored dtype)');
    expect(gemma.head).toBe('tied to the embeddings');

    const qwen3 = facts(QWEN3_06B);
    expect(qwen3['head-dim']).toBe('128 (not hidden / heads = 64)');
    expect(qwen3.norms).toBe('RMSNorm, pre-norm, q/k norms per head');
    expect(qwen3.rope).toBe('plain (θ 1000000)');

    const llama32 = facts({
      model_type: 'llama', hidden_size: 2048, intermediate_size: 8192, num_hidden_layers: 16, num_attention_heads: 32, num_key_value_heads: 8,
      vocab_size: 128256, max_position_embeddings: 131072, rope_theta: 500000.0, tie_word_embeddings: true,
      rope_scaling: { rope_type: 'llama3', factor: 32.0, low_freq_factor: 1.0, high_freq_factor: 4.0, original_max_position_embeddings: 8192 },
    });
    expect(llama32.rope).toBe('llama3 (factor 32, low/high 1/4, original context 8192, θ 500000)');
    expect(llama32.attention).toBe('full causal');
    expect(llama32.mlp).toBe('gated SiLU (gate_proj, up_proj, down_proj)');

    const opt = facts(OPT_350M);
    expect(opt.positions).toBe('learned (embed_positions), row = position + 2');
    expect(opt.norms).toBe('LayerNorm, post-norm (after the residual add), no final norm');
    expect(opt.mlp).toBe('plain ReLU (fc1, fc2), with biases');
    expect(opt.embeddings).toBe('width 512, project_in / project_out to 1024');
  });
});

// Phi-4-mini-instruct's and SmolLM3-3B's config.json values.
const PHI4_MINI = {
  architectures: ['Phi3ForCausalLM'], model_type: 'phi3', hidden_size: 3072, intermediate_size: 8192, num_hidden_layers: 32,
  num_attention_heads: 24, num_key_value_heads: 8, vocab_size: 200064, max_position_embeddings: 131072,
  original_max_position_embeddings: 4096, partial_rotary_factor: 0.75, rms_norm_eps: 1e-5, rope_theta: 10000.0,
  rope_scaling: { type: 'longrope', short_factor: Array(48).fill(1.0), long_factor: Array(48).fill(2.0) }, sliding_window: 262144,
  hidden_act: 'silu', tie_word_embeddings: true, bos_token_id: 199999, eos_token_id: 199999, torch_dtype: 'bfloat16',
};
const SMOLLM3_3B = {
  architectures: ['SmolLM3ForCausalLM'], model_type: 'smollm3', hidden_size: 2048, intermediate_size: 11008, num_hidden_layers: 36,
  num_attention_heads: 16, num_key_value_heads: 4, vocab_size: 128256, max_position_embeddings: 65536, rope_theta: 5000000.0,
  no_rope_layers: Array.from({ length: 36 }, (_, i) => ((i + 1) % 4 === 0 ? 0 : 1)), use_sliding_window: false, sliding_window: null,
  rms_norm_eps: 1e-6, hidden_act: 'silu', tie_word_embeddings: true, torch_dtype: 'bfloat16',
};

describe('phi3', () => {
  it('Phi-4-mini: fused qkv_proj and gate_up_proj as stored, 96 of 128 dims rotated, longrope, a window on every layer', () => {
    const c = parse(PHI4_MINI);
    expect(c).toMatchObject({ arch: 'phi3', headDim: 128, rotaryDim: 96, slidingWindow: 262144 });
    expect(c.ropeScaling).toMatchObject({ type: 'longrope', originalMaxPositions: 4096 });
    expect((c.ropeScaling as { attentionFactor: number }).attentionFactor).toBeCloseTo(Math.sqrt(1 + Math.log(32) / Math.log(4096)), 12);
    const layout = modelLayout(c);
    expect(layout.block.linears.map((l) => [l.name, l.out, l.in, l.bias])).toEqual([
      ['self_attn.qkv_proj', 5120, 3072, false], ['self_attn.o_proj', 3072, 3072, false],
      ['mlp.gate_up_proj', 16384, 3072, false], ['mlp.down_proj', 3072, 8192, false],
    ]);
    expect(layout.block.sequentialGroups).toEqual([['self_attn.qkv_proj'], ['self_attn.o_proj'], ['mlp.gate_up_proj'], ['mlp.down_proj']]);
    expect(layout.block.fusedSets).toEqual([]);
    expect(layout.layerAttention(7)).toMatchObject({ window: 262144, rope: { dim: 96, theta: 10000 } });
    expect(() => assertSequenceFits(c, 8192)).not.toThrow();
    // Phi-3's longrope is not Llama's: refused there by name.
    expect(() => parse({ ...PHI4_MINI, model_type: 'llama' })).toThrow(/rope_type "longrope" is not supported; supported RoPE types: default, linear, dynamic, llama3$/);
    expect(() => parse({ ...PHI4_MINI, rope_scaling: { type: 'su', short_factor: [], long_factor: [] } }))
      .toThrow('config.json: rope_scaling rope_type "su" is not supported; supported RoPE types: default, linear, dynamic, llama3, longrope');
    expect(() => parse({ ...PHI4_MINI, partial_rotary_factor: 0.7 })).toThrow(/rotates 89 dimensions; RoPE needs an even number/);
  });
});

describe('smollm3', () => {
  it('SmolLM3-3B: every fourth layer without RoPE (no_rope_layers), tied, plain RoPE θ 5e6 elsewhere', () => {
    const c = parse(SMOLLM3_3B);
    expect(c.ropeLayers!.filter((r) => !r)).toHaveLength(9);
    const layout = modelLayout(c);
    expect(layout.layerAttention(2).rope).toEqual({ theta: 5e6, dim: 128 });
    expect(layout.layerAttention(3).rope).toBeNull();
    expect(c.tieWordEmbeddings).toBe(true);
    const { no_rope_layers: _, ...byInterval } = SMOLLM3_3B;
    expect(parse(byInterval).ropeLayers).toEqual(c.ropeLayers);
    const facts = Object.fromEntries(architectureFacts(c, layout).map((f) => [f.key, f.value]));
    expect(facts.rope).toBe('plain (θ 5000000) on 27 layers; none (NoPE) on 9 layers');
    expect(() => parse({ ...SMOLLM3_3B, no_rope_layers: [1, 0] })).toThrow(/no_rope_layers/);
  });
});
