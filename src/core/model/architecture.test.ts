import { describe, expect, it } from 'vitest';
import { inputSets, linearSpec, modelLayout, requiredTensors, storedWeightShape } from './architecture';
import { parseModelConfig } from './config';

const llamaConfig = parseModelConfig(JSON.stringify({
  model_type: 'qwen2', hidden_size: 64, intermediate_size: 172, num_hidden_layers: 2, num_attention_heads: 8,
  num_key_value_heads: 2, vocab_size: 100, max_position_embeddings: 128, tie_word_embeddings: true,
}));
const gpt2Config = parseModelConfig(JSON.stringify({
  model_type: 'gpt2', n_embd: 32, n_layer: 2, n_head: 4, n_positions: 16, vocab_size: 27, tie_word_embeddings: false,
}));

describe('modelLayout', () => {
  it('llama family: names, [out, in] shapes, biases, true-sequential groups', () => {
    const layout = modelLayout(llamaConfig);
    expect(layout.blockPrefix(3)).toBe('model.layers.3.');
    expect(layout.lmHead).toBe('model.embed_tokens.weight');
    expect(layout.block.linears.map((l) => [l.name, l.out, l.in, l.bias])).toEqual([
      ['self_attn.q_proj', 64, 64, true],
      ['self_attn.k_proj', 16, 64, true],
      ['self_attn.v_proj', 16, 64, true],
      ['self_attn.o_proj', 64, 64, false],
      ['mlp.gate_proj', 172, 64, false],
      ['mlp.up_proj', 172, 64, false],
      ['mlp.down_proj', 64, 172, false],
    ]);
    expect(layout.block.sequentialGroups).toEqual([
      ['self_attn.k_proj', 'self_attn.v_proj', 'self_attn.q_proj'], ['self_attn.o_proj'],
      ['mlp.up_proj', 'mlp.gate_proj'], ['mlp.down_proj'],
    ]);
    const required = requiredTensors(layout, llamaConfig);
    expect(required.map((r) => r.name)).not.toContain('lm_head.weight');
    expect(required).toContainEqual({ name: 'model.layers.1.self_attn.k_proj.bias', shape: [16] });
    expect(required).toContainEqual({ name: 'model.norm.weight', shape: [64] });
    expect(required.length).toBe(1 + 2 * (2 + 7 + 3) + 1);
  });

  it('gpt2: Conv1D stored [in, out], fused c_attn, learned positions, untied head', () => {
    const layout = modelLayout(gpt2Config);
    expect(layout.blockPrefix(0)).toBe('transformer.h.0.');
    expect(layout.embedPositions).toBe('transformer.wpe.weight');
    const cAttn = linearSpec(layout, 'attn.c_attn');
    expect(cAttn).toEqual({ name: 'attn.c_attn', out: 96, in: 32, transposed: true, bias: true });
    expect(storedWeightShape(cAttn)).toEqual([32, 96]);
    expect(storedWeightShape(linearSpec(layout, 'mlp.c_proj'))).toEqual([128, 32]);
    expect(layout.block.sequentialGroups).toEqual([['attn.c_attn'], ['attn.c_proj'], ['mlp.c_fc'], ['mlp.c_proj']]);
    const required = requiredTensors(layout, gpt2Config);
    expect(required[0]).toEqual({ name: 'transformer.wte.weight', shape: [27, 32] });
    expect(required[1]).toEqual({ name: 'transformer.wpe.weight', shape: [16, 32] });
    expect(required.at(-1)).toEqual({ name: 'lm_head.weight', shape: [27, 32] });
    expect(modelLayout(gpt2Config, '').blockPrefix(2)).toBe('h.2.');
    expect(() => linearSpec(layout, 'self_attn.q_proj')).toThrow(/gpt2 has no linear "self_attn.q_proj"/);
  });
});

describe('inputSets', () => {
  it('partitions the block\'s linears into sets that read one input, of one width', () => {
    const phi3 = parseModelConfig(JSON.stringify({
      model_type: 'phi3', hidden_size: 32, intermediate_size: 48, num_hidden_layers: 1, num_attention_heads: 4, vocab_size: 50, max_position_embeddings: 64,
    }));
    const expected = {
      qwen2: [['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj'], ['self_attn.o_proj'], ['mlp.gate_proj', 'mlp.up_proj'], ['mlp.down_proj']],
      gpt2: [['attn.c_attn'], ['attn.c_proj'], ['mlp.c_fc'], ['mlp.c_proj']],
      phi3: [['self_attn.qkv_proj'], ['self_attn.o_proj'], ['mlp.gate_up_proj'], ['mlp.down_proj']],
    };
    for (const [arch, config] of [['qwen2', llamaConfig], ['gpt2', gpt2Config], ['phi3', phi3]] as const) {
      const layout = modelLayout(config);
      const sets = inputSets(layout.block);
      expect(sets, arch).toEqual(expected[arch]);
      expect(sets.flat().sort()).toEqual(layout.block.linears.map((l) => l.name).sort());
      for (const set of sets) expect(new Set(set.map((n) => linearSpec(layout, n).in)).size).toBe(1);
    }
  });
});
