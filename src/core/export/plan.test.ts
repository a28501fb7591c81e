import { describe, expect, it } from 'vitest';
import { parseModelConfig } from '../model/config';
import { modelLayout } from '../model/architecture';
import { loaderWarnings, nothingToQuantize, planExport, misfit, rangeRefusal } from './plan';
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
    expect(plan(gpt2(), 4, 32)).toEqual({ refusal: null, format: 'gptq', intermediate: null, unquantized: [], f16: true, warnings: [] });
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

describe('runs that would quantize nothing', () => {
  it('are refused, saying which group sizes fit the model (stories260K-like: hidden 64, MLP 172)', () => {
    const m = llama();
    for (const g of [128, 7, 100, 1000]) {
      const p = plan(m, 4, g);
      const why = nothingToQuantize(m.config, m.layout, { bits: 4, groupSize: g, sym: true }, p);
      expect(why).toMatch(new RegExp(`^with group size ${g} no linear of this model can be exported quantized \\(self_attn\\.q_proj: in-features 64 is not a multiple of the group size ${g}`));
      expect(why).toMatch(/so the run would quantize nothing; group sizes that quantize every linear of this model: -1 \(one group per row\), 16, 32, 64$/);
    }
    expect(nothingToQuantize(m.config, m.layout, { bits: 4, groupSize: 32, sym: true }, plan(m, 4, 32))).toBeNull();
  });

  it('are not refused when some linears quantize (GPT-2 at group 128: only mlp.c_proj has 256 inputs)', () => {
    const g = gpt2();
    const p = plan(g, 4, 128);
    expect(p.unquantized.map((u) => u.name)).toEqual(['attn.c_attn', 'attn.c_proj', 'mlp.c_fc']);
    expect(nothingToQuantize(g.config, g.layout, { bits: 4, groupSize: 128, sym: true }, p)).toBeNull();
  });

  it('say so when no common group size fits (hidden 40)', () => {
    const m = llama({ hidden_size: 40, num_attention_heads: 5, num_key_value_heads: 5, intermediate_size: 100 });
    const why = nothingToQuantize(m.config, m.layout, { bits: 4, groupSize: 32, sym: true }, plan(m, 4, 32));
    expect(why).toMatch(/none of the group sizes -1, 16, 32, 64, 128, 256 packs a linear of this model/);
  });
});

describe('float16 range', () => {
  const ranges = (over: Record<string, number> = {}) => new Map(Object.entries({
    'model.embed_tokens.weight': 0.9, 'model.norm.weight': 3, 'model.layers.0.mlp.down_proj.weight': 2, ...over,
  }).map(([n, maxAbs]) => [n, { maxAbs }]));

  it('passes values up to 65504 and every value that rounds to it', () => {
    expect(rangeRefusal(ranges({ 'model.norm.weight': 65504 }))).toBeNull();
    expect(rangeRefusal(ranges({ 'model.norm.weight': 65519.99 }))).toBeNull();
    const m = llama();
    const p = planExport(m.config, m.layout, { bits: 4, groupSize: 32, sym: true }, ranges());
    expect([p.refusal, p.f16]).toEqual([null, true]);
  });

  it('refuses the export of a model whose outlier does not fit float16 (quantized or not), naming it and what to change', () => {
    const m = llama();
    const p = planExport(m.config, m.layout, { bits: 4, groupSize: 32, sym: true }, ranges({ 'model.layers.0.mlp.down_proj.weight': 1.5e6, 'model.norm.weight': 65520 }));
    expect(p.f16).toBe(false);
    expect(p.refusal).toMatch(/^2 tensors hold values beyond ±65504, the float16 range: model\.layers\.0\.mlp\.down_proj\.weight \(largest \|value\| 1\.50e\+6\), model\.norm\.weight \(largest \|value\| 6\.55e\+4\)\./);
    expect(p.refusal).toMatch(/vLLM, transformers and GPTQModel cast every other tensor to float16/);
    expect(p.refusal).toMatch(/rescale the model so that every weight fits float16/);
    expect(p.unquantized).toEqual([]); // full precision would not help: it is float16 too
    // Without the scan's ranges (a preview), the plan cannot know and assumes the values fit.
    expect(planExport(m.config, m.layout, { bits: 4, groupSize: 32, sym: true }).f16).toBe(true);
    // 5-bit runs have no file, but their RTN/GPTQ models are still evaluated in float16 when it fits.
    expect(planExport(m.config, m.layout, { bits: 5, groupSize: 32, sym: true }, ranges()).f16).toBe(true);
  });
});

describe('loader warnings (loaders.md §4, §5)', () => {
  const shapes64: [string, number, number][] = [['self_attn.q_proj', 64, 64], ['self_attn.k_proj', 32, 64], ['mlp.down_proj', 64, 192]];

  it('say when vLLM uses its float16-only gptq method', () => {
    for (const [bits, sym, g] of [[3, true, 32], [2, true, 64], [4, false, 32], [8, false, -1]] as const) {
      const w = loaderWarnings({ bits, groupSize: g, sym }, sym ? 'gptq' : 'gptq_v2', shapes64);
      expect(w[0]).toMatch(/vLLM serves .* with its gptq method .* which runs in float16 only: the export says float16/);
      expect(w.some((x) => /buggy/.test(x))).toBe(bits === 4);
      expect(w.some((x) => /gptq_v2/.test(x))).toBe(!sym);
    }
    expect(loaderWarnings({ bits: 4, groupSize: 256, sym: true }, 'gptq', shapes64)[0]).toMatch(/vLLM serves group size 256 with its gptq method/);
    expect(loaderWarnings({ bits: 4, groupSize: 32, sym: true }, 'gptq', shapes64)).toEqual([]);
    expect(loaderWarnings({ bits: 8, groupSize: -1, sym: true, actOrder: true }, 'gptq', shapes64)).toEqual([]);
  });

  it('say when act-order leaves linears to Exllama, which needs float16 (Marlin\'s act-order shape rule)', () => {
    const w = loaderWarnings({ bits: 4, groupSize: 32, sym: true, actOrder: true }, 'gptq', shapes64);
    expect(w).toHaveLength(1);
    expect(w[0]).toMatch(/^With act-order, vLLM's Marlin kernel needs in-features divisible by 128 and out-features by 64; self_attn\.q_proj, self_attn\.k_proj, mlp\.down_proj miss that, so vLLM runs them with its Exllama kernel, which needs float16/);
    expect(loaderWarnings({ bits: 4, groupSize: 32, sym: true, actOrder: true, staticGroups: true }, 'gptq', shapes64)).toEqual([]);
    expect(loaderWarnings({ bits: 4, groupSize: 128, sym: true, actOrder: true }, 'gptq', [['mlp.up_proj', 1024, 4096]])).toEqual([]);
    expect(loaderWarnings({ bits: 4, groupSize: 128, sym: true, actOrder: true }, 'gptq', [['mlp.down_proj', 128, 64]])[0]).toMatch(/with Machete on Hopper and elsewhere with its Exllama kernel/);
  });

  it('say when transformers refuses the damping written', () => {
    // 1 (100 %) is the one damping every surface takes that transformers does not.
    expect(loaderWarnings({ bits: 4, groupSize: 32, sym: true, percDamp: 1 }, 'gptq', shapes64)[0])
      .toMatch(/^damp_percent 1 \(100 % of the mean of diag\(H\)\) is written as used, but transformers .* above 0 % and below 100 %/);
    expect(loaderWarnings({ bits: 4, groupSize: 32, sym: true, percDamp: 0.01 }, 'gptq', shapes64)).toEqual([]);
  });

  it('come with the plan, on the widths as exported (padded)', () => {
    const m = llama();
    const p = planExport(m.config, m.layout, { bits: 4, groupSize: 32, sym: true, actOrder: true });
    expect(p.warnings[0]).toMatch(/self_attn\.q_proj, self_attn\.k_proj, self_attn\.v_proj, self_attn\.o_proj, mlp\.gate_proj, mlp\.up_proj, mlp\.down_proj miss that/);
    const wide = llama({ hidden_size: 128, num_attention_heads: 2, num_key_value_heads: 2, intermediate_size: 200 });
    // MLP padded 200 → 256: gate/up out 256 and down in 256 pass; k/v have 128 outputs, in 128: all pass.
    expect(planExport(wide.config, wide.layout, { bits: 4, groupSize: 128, sym: true, actOrder: true }).warnings).toEqual([]);
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
    const parsed = parseGptqConfig({ quantization_config: q });
    expect(parsed).toMatchObject({ bits: 4, groupSize: 32, sym: true, descAct: false, format: 'gptq' });
    expect(parsed!.dynamic.map((r) => [r.negative, r.pattern])).toEqual(Object.keys(q.dynamic as object).map((k) => [true, k.slice(2)]));
    expect(quantizationConfig({ settings, plan: plan(llama(), 4, 32), layout: m.layout, descAct: true })).not.toHaveProperty('dynamic');
    expect(parseGptqConfig({})).toBeNull();
    expect(() => parseGptqConfig({ quantization_config: { quant_method: 'awq', bits: 4 } })).toThrow(/only "gptq"/);
  });
});
