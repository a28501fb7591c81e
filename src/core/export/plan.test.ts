import { describe, expect, it } from 'vitest';
import { parseModelConfig } from '../model/config';
import { modelLayout } from '../model/architecture';
import { planExport, misfit } from './plan';
import { exclusionRules, parseGptqConfig, quantizationConfig } from './quant-config';
import { defaultRunSettings } from '../run';

const llama = (over: Record<string, unknown> = {}) => {
  const config = parseModelConfig(JSON.stringify({
    model_type: 'llama', hidden_size: 64, intermediate_size: 172, num_hidden_layers: 2, num_attention_heads: 8,
    num_key_value_heads: 4, vocab_size: 512, max_position_embeddings: 256, ...over,
  }));
  return { config, layout: modelLayout(config) };
};
const gpt2 = (over: Record<string, unknown> = {}) => {
  const config = parseModelConfig(JSON.stringify({ model_type: 'gpt2', n_embd: 64, n_layer: 2, n_head: 4, vocab_size: 27, n_positions: 16, ...over }));
  return { config, layout: modelLayout(config) };
};
const plan = (m: ReturnType<typeof llama>, bits: number, groupSize: number, sym = true) =>
  planExport(m.config, m.layout, { bits, groupSize, sym });

describe('export plan', () => {
  it('pads an MLP width of 172 to the next multiple of 32 and of the group size', () => {
    expect(plan(llama(), 4, 32).intermediate).toEqual({ from: 172, to: 192 });
    expect(plan(llama(), 4, -1).intermediate).toEqual({ from: 172, to: 192 });
    expect(plan(llama(), 4, 64).intermediate).toEqual({ from: 172, to: 192 });
    expect(plan(llama({ hidden_size: 96, num_attention_heads: 3, num_key_value_heads: 3 }), 4, 48).intermediate).toEqual({ from: 172, to: 192 }); // lcm(32, 48) = 96
    expect(plan(llama({ intermediate_size: 256 }), 4, 128).intermediate).toBeNull();
    expect(plan(llama(), 4, 32).unquantized).toEqual([]);
  });

  it('pads to whole groups: 300 → 384 for group size 128', () => {
    const p = plan(llama({ hidden_size: 128, num_attention_heads: 4, num_key_value_heads: 4, intermediate_size: 300 }), 4, 128);
    expect(p.intermediate).toEqual({ from: 300, to: 384 });
    expect(p.unquantized).toEqual([]);
  });

  it('leaves linears whose inputs hold no whole group unquantized, naming why (and then does not pad)', () => {
    const p = plan(llama(), 4, 128);
    expect(p.intermediate).toBeNull(); // gate/up (64 inputs) cannot take groups of 128 either way
    expect(p.unquantized).toHaveLength(7);
    expect(p.unquantized[0].reason).toMatch(/in-features 64 is not a multiple of the group size 128/);
  });

  it('keeps vLLM\'s fused q/k/v together: narrow k and v take q with them', () => {
    const p = plan(llama({ num_attention_heads: 4, num_key_value_heads: 1, intermediate_size: 128 }), 4, 32);
    expect(p.unquantized.map((u) => u.name)).toEqual(['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj']);
    expect(p.unquantized.find((u) => u.name === 'self_attn.k_proj')!.reason).toMatch(/out-features 16 is not a multiple of 32/);
    expect(p.unquantized.find((u) => u.name === 'self_attn.q_proj')!.reason).toMatch(/vLLM fuses it with self_attn.k_proj/);
  });

  it('does not pad when the hidden size itself cannot be packed; everything stays unquantized', () => {
    const p = plan(llama({ hidden_size: 48, num_attention_heads: 4, num_key_value_heads: 4, intermediate_size: 100 }), 4, 32);
    expect(p.intermediate).toBeNull();
    expect(p.unquantized).toHaveLength(7);
  });

  it('GPT-2: c_fc and c_proj are the MLP pair; a fitting model needs nothing', () => {
    expect(plan(gpt2(), 3, 32)).toEqual({ refusal: null, format: 'gptq', intermediate: null, unquantized: [] });
    expect(plan(gpt2({ n_inner: 200 }), 4, 32).intermediate).toEqual({ from: 200, to: 224 });
  });

  it('symmetric grids export gptq (v1), asymmetric ones gptq_v2; 5–7 bits have no format', () => {
    expect(plan(llama(), 4, 32, false).format).toBe('gptq_v2');
    const p = plan(llama(), 5, 32);
    expect(p.refusal).toMatch(/5-bit weights have no GPTQ checkpoint format/);
    expect(p.unquantized).toEqual([]);
  });

  it('misfit explains each rule', () => {
    expect(misfit(64, 64, 32)).toBeNull();
    expect(misfit(60, 64, -1)).toMatch(/in-features 60/);
    expect(misfit(64, 40, -1)).toMatch(/out-features 40/);
  });
});

describe('quantization config', () => {
  it('excludes unquantized linears by regex the way vLLM and GPTQModel match module names', () => {
    const m = llama({ num_attention_heads: 4, num_key_value_heads: 1, intermediate_size: 128 });
    const rules = Object.keys(exclusionRules(m.layout, ['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj']));
    expect(rules.every((r) => r.startsWith('-:'))).toBe(true);
    const matches = (name: string) => rules.some((r) => new RegExp(r.slice(2)).test(name));
    expect(matches('model.layers.0.self_attn.k_proj')).toBe(true);
    expect(matches('model.layers.11.self_attn.qkv_proj')).toBe(true); // vLLM's fused module
    expect(matches('model.layers.0.self_attn.o_proj')).toBe(false);
    expect(matches('model.layers.0.self_attn.k_proj_x')).toBe(false);
    const g = gpt2();
    expect(Object.keys(exclusionRules(g.layout, ['attn.c_attn']))).toEqual(['-:^transformer\\.h\\.\\d+\\.attn\\.c_attn$']);
  });

  it('writes the keys the loaders read, and lists quantized modules per true-sequential group when some are skipped', () => {
    const m = llama({ num_attention_heads: 4, num_key_value_heads: 1, intermediate_size: 128 });
    const settings = { ...defaultRunSettings, seqlen: 128, bits: 4, groupSize: 32 };
    const p = planExport(m.config, m.layout, settings);
    const q = quantizationConfig({ settings, plan: p, layout: m.layout, descAct: false });
    expect(q).toMatchObject({ quant_method: 'gptq', bits: 4, group_size: 32, desc_act: false, sym: true, format: 'gptq', checkpoint_format: 'gptq', pack_dtype: 'int32', lm_head: false });
    expect(q.modules_in_block_to_quantize).toEqual([['self_attn.o_proj'], ['mlp.up_proj', 'mlp.gate_proj'], ['mlp.down_proj']]);
    expect(Object.keys(q.dynamic as object)).toHaveLength(4); // q, k, v and vLLM's qkv_proj
    expect(parseGptqConfig({ quantization_config: q })).toEqual({ bits: 4, groupSize: 32, sym: true, descAct: false, format: 'gptq' });
    expect(quantizationConfig({ settings, plan: plan(llama(), 4, 32), layout: m.layout, descAct: true })).not.toHaveProperty('dynamic');
    expect(parseGptqConfig({})).toBeNull();
    expect(() => parseGptqConfig({ quantization_config: { quant_method: 'awq', bits: 4 } })).toThrow(/only "gptq"/);
  });
});
