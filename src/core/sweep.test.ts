import { describe, expect, it } from 'vitest';
import { paretoFront, parseStrategies, parseStrategy, seedSpread, strategyLabel, sweepPasses, withinSeedNoise } from './sweep';
import { planMixedPrecision, type SensitivityLinear } from './mixed-precision';
import { bitsPerWeight, storedBits } from './export/bpw';
import { moduleQuantConfig, parseGptqConfig, widthRules } from './export/quant-config';
import { modelLayout } from './model/architecture';
import { parseModelConfig } from './model/config';

describe('strategy syntax', () => {
  it('parses the compact forms and writes them back canonically', () => {
    expect(parseStrategy('4g128')).toEqual({ method: 'gptq', bits: 4, groupSize: 128, sym: true, actOrder: false, staticGroups: false, mse: false, percDamp: 0.01 });
    expect(strategyLabel(parseStrategy('3g128asym'))).toBe('gptq:3g128+asym');
    expect(strategyLabel(parseStrategy(' GPTQ:4g32+act+static+mse+damp0.05 '))).toBe('gptq:4g32+act+static+mse+damp0.05');
    expect(parseStrategy('rtn:8')).toMatchObject({ method: 'rtn', bits: 8, groupSize: -1 });
    expect(parseStrategy('awq:4g-1+mse')).toMatchObject({ method: 'awq', groupSize: -1, mse: true });
    for (const label of ['gptq:2g64', 'rtn:3g32+asym+mse', 'awq:4', 'gptq:8g128+act+damp0.1']) expect(strategyLabel(parseStrategy(label))).toBe(label);
    expect(parseStrategies('4g128, rtn:4g128 , awq:4g128').map(strategyLabel)).toEqual(['gptq:4g128', 'rtn:4g128', 'awq:4g128']);
    // Letters in either case: the labels are lower case.
    expect(parseStrategies('RTN:4G32,Awq:3G64+ASYM').map(strategyLabel)).toEqual(['rtn:4g32', 'awq:3g64+asym']);
  });

  it.each([
    ['5g128', /bits must be 2, 3, 4 or 8/],
    ['4g0', /group size must be -1 or a positive integer/],
    ['4g128+fast', /unknown flag "\+fast"/],
    ['rtn:4g128+act', /act-order, static groups and damping belong to GPTQ/],
    ['4g128+damp1.5', /damping must be at most 1 /],
    ['4g128+damp0', /damping must be more than 0/],
    ['4g128+dampx', /\+damp needs a fraction of the mean of diag\(H\) written after it, e\.g\. \+damp0\.01 \(1 %\)/],
    ['q4', /write \[gptq:\|rtn:\|awq:\]BITS/],
    ['4+act+static', /\+static fixes each group's grid .* one group per row \(no g\) there are no groups, so it would change nothing: give a group size \(e\.g\. 4g128\+act\+static\) or drop \+static$/],
  ])('refuses %j with a message', (text, message) => {
    expect(() => parseStrategy(text)).toThrow(message);
  });

  it('refuses duplicates and an empty list', () => {
    expect(() => parseStrategies('4g128,gptq:4g128')).toThrow(/gptq:4g128 is listed twice/);
    expect(() => parseStrategies(' , ')).toThrow(/at least one strategy/);
  });

  it('refuses an empty entry, naming its position', () => {
    expect(() => parseStrategies('4g32,,rtn:4g32')).toThrow(/^entry 2 of 3 is empty \(between "4g32" and "rtn:4g32"\): remove the extra comma$/);
    expect(() => parseStrategies('4g32, ,rtn:4g32')).toThrow(/entry 2 of 3 is empty/);
    expect(() => parseStrategies(',4g32')).toThrow(/entry 1 of 2 is empty \(before the first comma\)/);
    expect(() => parseStrategies('4g32,rtn:4g32,')).toThrow(/entry 3 of 3 is empty \(after the last comma\)/);
  });

  it('groups strategies into passes: GPTQ alone each, RTN and AWQ on the first pass of their grid', () => {
    const passes = sweepPasses(parseStrategies('4g128,4g128+act,rtn:4g128,awq:4g128,rtn:3g32+asym,awq:3g32'));
    expect(passes.map((p) => [strategyLabel(p.strategy), p.members, p.awq])).toEqual([
      ['gptq:4g128', [0, 2, 3], true],
      ['gptq:4g128+act', [1], false],
      ['gptq:3g32+asym', [4], false],
      ['gptq:3g32', [5], true],
    ]);
  });
});

describe('seeds and the front', () => {
  it('spreads and seed noise', () => {
    expect(seedSpread([10, 12, 14])).toEqual({ mean: 12, sd: 2, min: 10, max: 14, n: 3 });
    expect(seedSpread([3])).toEqual({ mean: 3, sd: 0, min: 3, max: 3, n: 1 });
    expect(withinSeedNoise(seedSpread([10, 12]), seedSpread([11.5, 13]))).toBe(true); // ranges overlap
    expect(withinSeedNoise(seedSpread([10, 10.2]), seedSpread([11, 11.1]))).toBe(false);
    expect(withinSeedNoise(seedSpread([10, 14]), seedSpread([14.5, 15]))).toBe(true); // within ±σ of the larger
    expect(withinSeedNoise(seedSpread([10]), seedSpread([10]))).toBe(false); // one seed says nothing about noise
  });

  it('keeps the points no other point beats on both axes, by x', () => {
    const pts = [{ x: 4.5, y: 10 }, { x: 3.5, y: 12 }, { x: 4.5, y: 11 }, { x: 5, y: 10 }, { x: 2.5, y: 20 }, { x: Number.NaN, y: 1 }, { x: 3.5, y: 12 }];
    // (3.5, 12) twice: neither beats the other, both stay.
    expect(paretoFront(pts)).toEqual([4, 1, 6, 0]);
    expect(paretoFront([])).toEqual([]);
  });
});

describe('bits per weight', () => {
  it('counts qweight, qzeros, scales and g_idx as the file stores them', () => {
    // 3-bit [96 out, 128 in], groups of 32: 12 words per 32 rows of qweight, zeros 96·3/32 = 9 words per group.
    const b = storedBits({ N: 96, K: 128, bits: 3, groupSize: 32 });
    expect(b).toEqual({ qweight: 12 * 96 * 32, qzeros: 4 * 9 * 32, scales: 4 * 96 * 16, gIdx: 128 * 32, total: 36864 + 1152 + 6144 + 4096 });
    expect(bitsPerWeight([{ N: 96, K: 128, bits: 3, groupSize: 32, weights: 96 * 128 }])).toBeCloseTo(48256 / 12288, 12);
    // Padding costs: the same file over fewer model weights.
    expect(bitsPerWeight([{ N: 96, K: 128, bits: 3, groupSize: 32, weights: 90 * 128 }])).toBeGreaterThan(48256 / 12288);
    expect(bitsPerWeight([])).toBeNaN();
  });
});

describe('mixed-precision plan', () => {
  const lin = (block: number, name: string, rows: number, cols: number, mse: Record<number, number>): SensitivityLinear => ({ block, name, rows, cols, N: rows, K: cols, mse });
  const linears = [
    lin(0, 'self_attn.q_proj', 64, 64, { 2: 8, 3: 4, 4: 2, 8: 0.1 }),
    lin(0, 'self_attn.k_proj', 64, 64, { 2: 8, 3: 4, 4: 2, 8: 0.1 }),
    lin(0, 'mlp.down_proj', 64, 256, { 2: 100, 3: 20, 4: 5, 8: 0.2 }), // sensitive
    lin(1, 'mlp.down_proj', 64, 256, { 2: 1, 3: 0.9, 4: 0.8, 8: 0.7 }), // insensitive
  ];
  const fused = [['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj']];
  const bpwOf = (bits: Record<string, number>) => bitsPerWeight(linears.map((l) => ({ ...l, bits: bits[`${l.block}.${l.name}`], groupSize: 64, weights: l.rows * l.cols })));

  it('spends bits where they cut the most error, within the target, fused linears together', () => {
    const all4 = bpwOf(Object.fromEntries(linears.map((l) => [`${l.block}.${l.name}`, 4])));
    const plan = planMixedPrecision(linears, [2, 3, 4, 8], 64, all4, fused);
    expect(plan.bpw).toBeLessThanOrEqual(all4);
    expect(plan.bpw).toBeCloseTo(bpwOf(plan.bits), 12);
    expect(plan.bits['0.self_attn.q_proj']).toBe(plan.bits['0.self_attn.k_proj']);
    // The sensitive linear gets more than the insensitive one.
    expect(plan.bits['0.mlp.down_proj']).toBeGreaterThan(plan.bits['1.mlp.down_proj']);
    expect(plan.bits['1.mlp.down_proj']).toBe(2);
    // At the same budget, less error than every linear at 4 bits.
    const err4 = linears.reduce((s, l) => s + l.mse[4] * l.rows, 0);
    expect(plan.error).toBeLessThan(err4);
    expect(plan.belowMinimum).toBe(false);
    expect(plan.weightsPerBits[plan.baseBits]).toBe(Math.max(...Object.values(plan.weightsPerBits)));
  });

  it('gives every linear the narrowest width below the minimum and the widest above the maximum', () => {
    const low = planMixedPrecision(linears, [2, 3, 4, 8], 64, 1, fused);
    expect(low.belowMinimum).toBe(true);
    expect(Object.values(low.bits).every((b) => b === 2)).toBe(true);
    const high = planMixedPrecision(linears, [2, 3, 4, 8], 64, 100, fused);
    expect(Object.values(high.bits).every((b) => b === 8)).toBe(true);
    expect(high.bpw).toBeCloseTo(high.range.max, 12);
    expect(() => planMixedPrecision([lin(0, 'x', 4, 4, { 2: 1 })], [2, 4], 64, 3, [])).toThrow(/no output error measured at 4 bits/);
  });
});

describe('per-module widths in quantization_config.dynamic', () => {
  const config = parseModelConfig(JSON.stringify({ architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: 64, intermediate_size: 192, num_hidden_layers: 2, num_attention_heads: 8, num_key_value_heads: 4, vocab_size: 512, max_position_embeddings: 256, rms_norm_eps: 1e-5, tie_word_embeddings: true }));
  const layout = modelLayout(config, '');

  it('writes one rule per unit at another width, matching the unfused and the fused names', () => {
    const rules = widthRules(layout, { '0.self_attn.q_proj': 8, '0.self_attn.k_proj': 8, '0.self_attn.v_proj': 8, '1.mlp.down_proj': 3, '1.mlp.gate_proj': 4, '1.mlp.up_proj': 4 }, 4);
    expect(rules).toEqual({
      '+:^model\\.layers\\.0\\.self_attn\\.(?:q_proj|k_proj|v_proj|qkv_proj)$': { bits: 8 },
      '+:^model\\.layers\\.1\\.mlp\\.down_proj$': { bits: 3 },
    });
    expect(() => widthRules(layout, { '0.mlp.gate_proj': 8, '0.mlp.up_proj': 4 }, 4)).toThrow(/one layer of one width/);
    const q = parseGptqConfig({ quantization_config: { quant_method: 'gptq', bits: 4, group_size: 32, desc_act: false, sym: true, dynamic: { '-:^model\\.layers\\.\\d+\\.self_attn\\.o_proj$': {}, ...rules } } })!;
    expect(moduleQuantConfig(q, 'model.layers.0.self_attn.v_proj')!.bits).toBe(8);
    expect(moduleQuantConfig(q, 'model.layers.0.self_attn.qkv_proj')!.bits).toBe(8);
    expect(moduleQuantConfig(q, 'model.layers.1.self_attn.v_proj')!.bits).toBe(4);
    expect(moduleQuantConfig(q, 'model.layers.1.mlp.down_proj')!.bits).toBe(3);
    expect(moduleQuantConfig(q, 'model.layers.1.self_attn.o_proj')).toBeNull();
    // Matched from the start only (Python's re.match): a prefix does not match.
    expect(moduleQuantConfig(q, 'x.model.layers.1.mlp.down_proj')!.bits).toBe(4);
    expect(() => parseGptqConfig({ quantization_config: { quant_method: 'gptq', bits: 4, dynamic: { '+:(?P<x>a)': { bits: 8 } } } })).toThrow(/not a regular expression the studio can read/);
    expect(() => parseGptqConfig({ quantization_config: { quant_method: 'gptq', bits: 4, dynamic: { '+:a': { bits: 5 } } } })).toThrow(/2, 3, 4 or 8 bits/);
  });
});
