/**
 * Rotary position embeddings: which kind a config asks for, and the inverse frequencies and cos/sin
 * scale of each kind, as transformers' modeling_rope_utils.py computes them (ROPE_INIT_FUNCTIONS:
 * `_compute_default_rope_parameters`, `_compute_linear_scaling_rope_parameters`,
 * `_compute_dynamic_ntk_parameters`, `_compute_llama3_parameters`, `_compute_longrope_parameters`).
 *
 * Plain RoPE over a rotated width d (head_dim, or partial_rotary_factor · head_dim) with base θ:
 * f_i = θ^(−2i/d) for i < d/2; position p turns the pair (x_i, x_{i+d/2}) by p·f_i. The scaled
 * kinds change only the f_i, and longrope also scales cos and sin.
 */
import { CheckpointError } from './checkpoint-error';
import { optionalObject, positiveNumber, type Raw } from './config-keys';

/** A RoPE scaling other than plain (plain RoPE has none). */
export type RopeScaling =
  /** Every frequency divided by `factor` (> 1; factor 1 is plain and is not represented). */
  | { type: 'linear'; factor: number }
  /**
   * Dynamic NTK: plain while the sequence fits max_position_embeddings (always, in this studio:
   * windows never exceed the context); beyond it the base grows with the length.
   */
  | { type: 'dynamic'; factor: number }
  /** Llama 3.1/3.2: per frequency by wavelength against the original context (see ropeInverseFrequencies). */
  | { type: 'llama3'; factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositions: number }
  /** Phi-3: per-frequency factors, `long` once the sequence exceeds the original context, and a cos/sin scale. */
  | { type: 'longrope'; shortFactor: number[]; longFactor: number[]; originalMaxPositions: number; attentionFactor: number };

export const SUPPORTED_ROPE_TYPES = ['default', 'linear', 'dynamic', 'llama3'] as const;

/** The RoPE of one attention layer. */
export interface RopeSpec {
  /** Base θ (rope_theta). */
  theta: number;
  /** Rotated dimensions per head (head_dim, or less with a partial rotary factor); even. */
  dim: number;
  /** Absent: plain RoPE. */
  scaling?: RopeScaling;
}

function refuse(what: string): never {
  throw new CheckpointError(`config.json: ${what}`, { file: 'config.json' });
}

function positive(o: Raw, key: string, where: string, fallback?: number): number {
  const v = o[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
    refuse(`${where}.${key} must be a positive number, got ${JSON.stringify(o[key] ?? null)}`);
  }
  return v;
}

function factorList(o: Raw, key: string, where: string, length: number): number[] {
  const v = o[key];
  if (!Array.isArray(v) || v.length !== length || !v.every((x) => typeof x === 'number' && Number.isFinite(x) && x > 0)) {
    refuse(`${where}.${key} must be a list of ${length} positive numbers (one per rotated pair), got ${JSON.stringify(v ?? null)}`);
  }
  return v as number[];
}

export interface RopeParseContext {
  /** Where the dict was found, for messages: "rope_scaling", "rope_parameters.full_attention". */
  where: string;
  maxPositions: number;
  /** Rotated dimensions (for longrope's factor lists). */
  dim: number;
  /** RoPE types this family accepts beyond SUPPORTED_ROPE_TYPES (phi3: longrope). */
  extraTypes?: readonly string[];
  /** config.json's top-level original_max_position_embeddings (phi3 keeps it outside rope_scaling). */
  originalMaxPositions?: number;
}

/**
 * The scaling a `rope_scaling` / `rope_parameters` dict asks for; undefined for plain RoPE
 * (absent, null, rope_type "default", or linear with factor 1). `rope_type` wins over the legacy
 * `type` (modeling_rope_utils.py, rope_config_validation). Unsupported types are refused by name.
 */
export function parseRopeScaling(value: unknown, ctx: RopeParseContext): RopeScaling | undefined {
  if (value === undefined || value === null) return undefined;
  const { where } = ctx;
  if (typeof value !== 'object' || Array.isArray(value)) refuse(`${where} must be an object, got ${JSON.stringify(value)}`);
  const o = value as Raw;
  const type = o.rope_type ?? o.type ?? 'default';
  const supported = [...SUPPORTED_ROPE_TYPES, ...(ctx.extraTypes ?? [])];
  if (typeof type !== 'string' || !supported.includes(type)) {
    refuse(`${where} rope_type ${JSON.stringify(type)} is not supported; supported RoPE types: ${supported.join(', ')}`);
  }
  switch (type) {
    case 'default':
      return undefined;
    case 'linear': {
      const factor = positive(o, 'factor', where);
      return factor === 1 ? undefined : { type: 'linear', factor };
    }
    case 'dynamic':
      return { type: 'dynamic', factor: positive(o, 'factor', where) };
    case 'llama3': {
      const lowFreqFactor = positive(o, 'low_freq_factor', where);
      const highFreqFactor = positive(o, 'high_freq_factor', where);
      if (highFreqFactor <= lowFreqFactor) {
        refuse(`${where}.high_freq_factor (${highFreqFactor}) must be greater than low_freq_factor (${lowFreqFactor})`);
      }
      return {
        type: 'llama3',
        factor: positive(o, 'factor', where),
        lowFreqFactor,
        highFreqFactor,
        // transformers v5 falls back to max_position_embeddings when the key is missing.
        originalMaxPositions: positive(o, 'original_max_position_embeddings', where, ctx.maxPositions),
      };
    }
    case 'longrope': {
      const half = ctx.dim / 2;
      const originalMaxPositions = ctx.originalMaxPositions ?? positive(o, 'original_max_position_embeddings', where, ctx.maxPositions);
      // _compute_longrope_parameters: the factor, else the ratio of the context to the original one.
      const factor = o.factor !== undefined && o.factor !== null ? positive(o, 'factor', where) : ctx.maxPositions / originalMaxPositions;
      const given = o.attention_factor;
      let attentionFactor: number;
      if (given !== undefined && given !== null) attentionFactor = positive(o, 'attention_factor', where);
      else attentionFactor = factor <= 1 ? 1 : Math.sqrt(1 + Math.log(factor) / Math.log(originalMaxPositions));
      return {
        type: 'longrope',
        shortFactor: factorList(o, 'short_factor', where, half),
        longFactor: factorList(o, 'long_factor', where, half),
        originalMaxPositions,
        attentionFactor,
      };
    }
  }
  return refuse(`${where}: unreachable RoPE type ${type}`);
}

export interface RopeSettings {
  theta: number;
  scaling: RopeScaling | undefined;
  /**
   * When config.json gives the base twice with two values (the top-level rope_theta and the one in
   * rope_parameters, or a rope_parameters that rope_scaling overrides): both values and the one
   * used; null otherwise.
   */
  warning: string | null;
}

/**
 * The RoPE base and scaling of a layer type from config.json: v4's rope_theta + rope_scaling, or
 * v5's rope_parameters (one dict, or one per layer type as gemma3 writes it). As transformers'
 * RotaryEmbeddingConfigMixin.convert_rope_params_to_dict (modeling_rope_utils.py) reads them: a
 * legacy rope_scaling replaces rope_parameters (`rope_scaling or rope_parameters`), the base inside
 * rope_parameters wins, and the top-level one (`thetaKey`, default rope_theta; gemma3's sliding
 * layers: rope_local_base_freq) fills in only when the dict has none (`setdefault`), then the
 * family's default. Two different values given are not an error there; here they are a warning.
 */
export function readRope(
  raw: Raw,
  opts: {
    layerType?: 'full_attention' | 'sliding_attention';
    defaultTheta: number;
    maxPositions: number;
    dim: number;
    extraTypes?: readonly string[];
    originalMaxPositions?: number;
    /** The top-level key of the base, for messages (raw holds it as rope_theta). */
    thetaKey?: string;
  },
): RopeSettings {
  const thetaKey = opts.thetaKey ?? 'rope_theta';
  const top = raw.rope_theta === undefined || raw.rope_theta === null ? null : positiveNumber(raw, 'rope_theta', opts.defaultTheta);
  const theta = top ?? opts.defaultTheta;
  const ctx = { maxPositions: opts.maxPositions, dim: opts.dim, extraTypes: opts.extraTypes, originalMaxPositions: opts.originalMaxPositions };
  let params = optionalObject(raw, 'rope_parameters');
  let where = 'rope_parameters';
  if (params && opts.layerType && (params.full_attention !== undefined || params.sliding_attention !== undefined)) {
    where = `rope_parameters.${opts.layerType}`;
    params = optionalObject(params, opts.layerType);
  }
  const inner = params && params.rope_theta !== undefined && params.rope_theta !== null ? positiveNumber(params, 'rope_theta', theta) : null;
  const legacy = raw.rope_scaling;
  if (legacy !== undefined && legacy !== null) {
    const warning = inner !== null && inner !== theta
      ? `config.json gives ${where}.rope_theta ${inner} and rope_scaling, which replaces ${where} as transformers reads them: ` +
        `RoPE uses ${thetaKey} ${theta}${top === null ? ' (the default)' : ''}, not ${inner}. Remove one of the two from config.json if that is not meant`
      : null;
    return { theta, scaling: parseRopeScaling(legacy, { ...ctx, where: 'rope_scaling' }), warning };
  }
  if (!params) return { theta, scaling: undefined, warning: null };
  const warning = inner !== null && top !== null && inner !== top
    ? `config.json gives ${thetaKey} ${top} and ${where}.rope_theta ${inner}: RoPE uses ${inner}, the value in ${where}, ` +
      `as transformers does. Remove one of the two from config.json if ${top} is meant`
    : null;
  return { theta: inner ?? theta, scaling: parseRopeScaling(params, { ...ctx, where }), warning };
}

/** Human-readable name of a RoPE spec, e.g. "llama3 (factor 32, θ 500000)". */
export function describeRope(rope: RopeSpec | null): string {
  if (!rope) return 'none';
  const s = rope.scaling;
  const theta = `θ ${rope.theta}`;
  if (!s) return `plain (${theta})`;
  switch (s.type) {
    case 'linear':
    case 'dynamic':
      return `${s.type} (factor ${s.factor}, ${theta})`;
    case 'llama3':
      return `llama3 (factor ${s.factor}, low/high ${s.lowFreqFactor}/${s.highFreqFactor}, original context ${s.originalMaxPositions}, ${theta})`;
    case 'longrope':
      return `longrope (original context ${s.originalMaxPositions}, ${theta})`;
  }
}

export interface RopeFrequencies {
  /** f_i for i < dim/2, in f64 (the GPU table rounds them to f32 as transformers holds them). */
  invFreq: Float64Array;
  /** Scale on cos and sin (longrope's attention factor; 1 otherwise). */
  attentionScale: number;
}

/**
 * The inverse frequencies of `rope` for sequences of `seqlen` tokens (dynamic and longrope depend
 * on it), in a model whose context is `maxPositions`.
 */
export function ropeInverseFrequencies(rope: RopeSpec, seqlen: number, maxPositions: number): RopeFrequencies {
  const { dim } = rope;
  const half = dim / 2;
  let theta = rope.theta;
  const s = rope.scaling;
  if (s?.type === 'dynamic' && seqlen > maxPositions) {
    // _compute_dynamic_ntk_parameters, for a sequence longer than the context.
    theta *= ((s.factor * seqlen) / maxPositions - (s.factor - 1)) ** (dim / (dim - 2));
  }
  const invFreq = new Float64Array(half);
  for (let i = 0; i < half; i++) invFreq[i] = 1 / theta ** ((2 * i) / dim);
  let attentionScale = 1;
  if (s?.type === 'linear') {
    for (let i = 0; i < half; i++) invFreq[i] /= s.factor;
  } else if (s?.type === 'llama3') {
    // _compute_llama3_parameters: by wavelength λ = 2π/f against the original context N.
    const lowWavelen = s.originalMaxPositions / s.lowFreqFactor;
    const highWavelen = s.originalMaxPositions / s.highFreqFactor;
    for (let i = 0; i < half; i++) {
      const f = invFreq[i];
      const wavelen = (2 * Math.PI) / f;
      if (wavelen < highWavelen) continue;
      if (wavelen > lowWavelen) {
        invFreq[i] = f / s.factor;
        continue;
      }
      const m = (s.originalMaxPositions / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
      invFreq[i] = ((1 - m) * f) / s.factor + m * f;
    }
  } else if (s?.type === 'longrope') {
    // _compute_longrope_parameters, with Phi-3's choice by the sequence length.
    const ext = seqlen > s.originalMaxPositions ? s.longFactor : s.shortFactor;
    for (let i = 0; i < half; i++) invFreq[i] /= ext[i];
    attentionScale = s.attentionFactor;
  }
  return { invFreq, attentionScale };
}
