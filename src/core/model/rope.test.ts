import { describe, expect, it } from 'vitest';
import { parseModelConfig } from './config';
import { parseRopeScaling, ropeInverseFrequencies, type RopeSpec } from './rope';

const parse = (raw: object) => parseModelConfig(JSON.stringify(raw));

const llama = {
  model_type: 'llama', hidden_size: 64, intermediate_size: 172, num_hidden_layers: 5,
  num_attention_heads: 8, num_key_value_heads: 4, vocab_size: 512, max_position_embeddings: 512,
  rms_norm_eps: 1e-5, bos_token_id: 1, eos_token_id: 2, torch_dtype: 'float32',
};

// Llama-3.2-1B's config.json (rope_theta 500000, head_dim 64).
const LLAMA32_SCALING = { rope_type: 'llama3', factor: 32.0, low_freq_factor: 1.0, high_freq_factor: 4.0, original_max_position_embeddings: 8192 };

describe('RoPE kinds from config.json', () => {
  it('plain RoPE written other ways is plain RoPE (issue 12 item 5)', () => {
    const plain = parse(llama);
    expect(plain.ropeScaling).toBeUndefined();
    for (const rope_scaling of [null, { rope_type: 'default' }, { type: 'default' }, { type: 'linear', factor: 1.0 }, { rope_type: 'linear', factor: 1 }]) {
      expect(parse({ ...llama, rope_scaling })).toEqual(plain);
    }
    // transformers v5: rope_parameters with the base inside and no top-level rope_theta.
    expect(parse({ ...llama, rope_parameters: { rope_type: 'default', rope_theta: 10000.0 } })).toEqual(plain);
  });

  it('llama3 in the v4 form (rope_scaling) and the v5 form (rope_parameters) read the same', () => {
    const v4 = parse({ ...llama, rope_theta: 500000.0, max_position_embeddings: 131072, rope_scaling: LLAMA32_SCALING });
    const v5 = parse({ ...llama, max_position_embeddings: 131072, rope_parameters: { ...LLAMA32_SCALING, rope_theta: 500000.0 } });
    expect(v4).toEqual(v5);
    expect(v4.ropeTheta).toBe(500000);
    expect(v4.ropeScaling).toEqual({ type: 'llama3', factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192 });
    // The legacy "type" key is read where "rope_type" is absent; "rope_type" wins when both are there.
    const legacy = parse({ ...llama, rope_scaling: { type: 'linear', factor: 2.0 } });
    expect(legacy.ropeScaling).toEqual({ type: 'linear', factor: 2 });
    expect(parse({ ...llama, rope_scaling: { type: 'yarn', rope_type: 'linear', factor: 2.0 } }).ropeScaling).toEqual({ type: 'linear', factor: 2 });
    // A legacy rope_scaling wins over rope_parameters (as transformers v5 reads such a config).
    expect(parse({ ...llama, rope_scaling: { rope_type: 'linear', factor: 3 }, rope_parameters: { rope_type: 'default' } }).ropeScaling)
      .toEqual({ type: 'linear', factor: 3 });
    // v5 falls back to max_position_embeddings for a missing original_max_position_embeddings.
    const { original_max_position_embeddings: _, ...noOriginal } = LLAMA32_SCALING;
    expect(parse({ ...llama, rope_scaling: noOriginal }).ropeScaling).toMatchObject({ originalMaxPositions: 512 });
    expect(parse({ ...llama, rope_scaling: { rope_type: 'dynamic', factor: 2.0 } }).ropeScaling).toEqual({ type: 'dynamic', factor: 2 });
  });

  it('two bases given with two values: the one in rope_parameters is used, as transformers does, and the config says so in a warning', () => {
    // RotaryEmbeddingConfigMixin.convert_rope_params_to_dict: rope_parameters.setdefault("rope_theta", <top level>).
    const both = parse({ ...llama, rope_theta: 10000, rope_parameters: { rope_type: 'default', rope_theta: 500000 } });
    expect(both.ropeTheta).toBe(500000);
    expect(both.warnings).toEqual(['config.json gives rope_theta 10000 and rope_parameters.rope_theta 500000: RoPE uses 500000, ' +
      'the value in rope_parameters, as transformers does. Remove one of the two from config.json if 10000 is meant']);
    // The same value twice, or once: nothing to say.
    expect(parse({ ...llama, rope_theta: 500000, rope_parameters: { rope_type: 'default', rope_theta: 500000 } }).warnings).toBeUndefined();
    expect(parse({ ...llama, rope_theta: 500000, rope_parameters: { rope_type: 'default' } })).toMatchObject({ ropeTheta: 500000 });
    expect(parse({ ...llama, rope_theta: 500000, rope_parameters: { rope_type: 'default' } }).warnings).toBeUndefined();
    expect(parse(llama).warnings).toBeUndefined();
    // A legacy rope_scaling replaces rope_parameters (`rope_scaling or rope_parameters`): the top level is used, and that is said.
    const legacy = parse({ ...llama, rope_theta: 10000, rope_scaling: { rope_type: 'linear', factor: 2 }, rope_parameters: { rope_type: 'default', rope_theta: 500000 } });
    expect(legacy).toMatchObject({ ropeTheta: 10000, ropeScaling: { type: 'linear', factor: 2 } });
    expect(legacy.warnings).toEqual([expect.stringMatching(/^config\.json gives rope_parameters\.rope_theta 500000 and rope_scaling, which replaces rope_parameters .*RoPE uses rope_theta 10000, not 500000/)]);
  });

  it('refuses other RoPE types by name with what is supported, and bad parameters', () => {
    for (const type of ['yarn', 'longrope', 'ntk', 'mrope']) {
      expect(() => parse({ ...llama, rope_scaling: { rope_type: type, factor: 4.0 } }))
        .toThrow(`config.json: rope_scaling rope_type "${type}" is not supported; supported RoPE types: default, linear, dynamic, llama3`);
    }
    expect(() => parse({ ...llama, rope_parameters: { rope_type: 'yarn', factor: 4.0, rope_theta: 1e6 } }))
      .toThrow('config.json: rope_parameters rope_type "yarn" is not supported');
    expect(() => parse({ ...llama, rope_scaling: { rope_type: 'linear' } })).toThrow('rope_scaling.factor must be a positive number, got null');
    expect(() => parse({ ...llama, rope_scaling: { ...LLAMA32_SCALING, high_freq_factor: 1.0 } }))
      .toThrow(/high_freq_factor \(1\) must be greater than low_freq_factor \(1\)/);
    expect(() => parse({ ...llama, rope_scaling: 'llama3' })).toThrow('rope_scaling must be an object');
  });
});

describe('inverse frequencies (modeling_rope_utils.py)', () => {
  it('llama3 on Llama-3.2-1B: short wavelengths kept, long ones divided by 32, the band between blended', () => {
    const rope: RopeSpec = { theta: 500000, dim: 64, scaling: parse({ ...llama, rope_scaling: LLAMA32_SCALING }).ropeScaling };
    const { invFreq, attentionScale } = ropeInverseFrequencies(rope, 2048, 131072);
    expect(attentionScale).toBe(1);
    // Computed independently in Python (float64) from _compute_llama3_parameters' rule.
    const expected: [number, number][] = [
      [0, 1.0], // λ = 2π < 8192/4: kept
      [10, 0.016560440080994446], // kept
      [16, 0.00042955679655936815], // 2048 ≤ λ ≤ 8192: blended
      [17, 9.70828780262767e-5], // blended
      [18, 1.9461638184831125e-5], // λ > 8192: f/32
      [31, 9.418306725434909e-8],
    ];
    for (const [i, f] of expected) expect(Math.abs(invFreq[i] / f - 1)).toBeLessThan(1e-12);
  });

  it('llama3 with factor 1 and linear with factor 1 are plain RoPE; linear divides every frequency', () => {
    const plain = ropeInverseFrequencies({ theta: 10000, dim: 8 }, 64, 512).invFreq;
    const one = ropeInverseFrequencies({ theta: 10000, dim: 8, scaling: { type: 'llama3', factor: 1, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 64 } }, 64, 512).invFreq;
    one.forEach((f, i) => expect(Math.abs(f - plain[i])).toBeLessThan(1e-18));
    const linear = ropeInverseFrequencies({ theta: 10000, dim: 8, scaling: { type: 'linear', factor: 4 } }, 64, 512).invFreq;
    linear.forEach((f, i) => expect(f).toBeCloseTo(plain[i] / 4, 15));
    expect(plain[1]).toBeCloseTo(0.1, 15);
  });

  it('dynamic NTK is plain within the context and raises the base beyond it', () => {
    const rope: RopeSpec = { theta: 10000, dim: 8, scaling: { type: 'dynamic', factor: 2 } };
    const plain = ropeInverseFrequencies({ theta: 10000, dim: 8 }, 512, 512).invFreq;
    expect(Array.from(ropeInverseFrequencies(rope, 512, 512).invFreq)).toEqual(Array.from(plain));
    // 1024 tokens in a 512 context: base 10000 · (2·1024/512 − 1)^(8/6).
    const base = 10000 * 3 ** (8 / 6);
    expect(ropeInverseFrequencies(rope, 1024, 512).invFreq[1]).toBeCloseTo(base ** -0.25, 15);
  });

  it('longrope: short factors within the original context, long ones beyond, and the cos/sin scale', () => {
    const s = parseRopeScaling({ type: 'longrope', short_factor: [1, 2], long_factor: [4, 8] }, { where: 'rope_scaling', maxPositions: 4096, dim: 4, extraTypes: ['longrope'], originalMaxPositions: 1024 })!;
    expect(s).toMatchObject({ type: 'longrope', originalMaxPositions: 1024 });
    const rope: RopeSpec = { theta: 10000, dim: 4, scaling: s };
    const short = ropeInverseFrequencies(rope, 1024, 4096);
    const long = ropeInverseFrequencies(rope, 1025, 4096);
    expect(Array.from(short.invFreq)).toEqual([1, 0.01 / 2]);
    expect(Array.from(long.invFreq)).toEqual([1 / 4, 0.01 / 8]);
    expect(short.attentionScale).toBeCloseTo(Math.sqrt(1 + Math.log(4) / Math.log(1024)), 15);
    expect(() => parseRopeScaling({ type: 'longrope', short_factor: [1], long_factor: [4, 8] }, { where: 'rope_scaling', maxPositions: 4096, dim: 4, extraTypes: ['longrope'] }))
      .toThrow(/short_factor must be a list of 2 positive numbers/);
  });
});
