/**
 * The description of a model family that every part of the pipeline reads (the GPU forward, the
 * f64 reference, the driver, the memory estimate, the export plan): where the checkpoint keeps its
 * tensors, in Hugging Face names, with their shapes, and how a block is put together (norm kind
 * and placement, sandwich norms, q/k norms, score scale, RoPE and sliding window per layer, fused
 * or separate projections, gated or plain MLP and its activation), the embeddings (learned
 * positions and their offset, scale, project_in/out), the head, the true-sequential groups and
 * the linears vLLM fuses.
 *
 * Linear weights are described as nn.Linear's [out, in]; GPT-2's Conv1D stores them as [in, out]
 * (`transposed: true`). Block-level names have no block prefix ("self_attn.q_proj"); the full
 * tensor name is blockPrefix(b) + name + ".weight" / ".bias".
 */
import type { Architecture, ModelConfig } from './config';
import type { RopeSpec } from './rope';
import { floatToHalf, halfToFloat } from './float-convert';

export interface LinearSpec {
  /** The checkpoint's module name within a block, e.g. "self_attn.q_proj" or "attn.c_attn". */
  name: string;
  /** Output features (rows of the [out, in] weight). */
  out: number;
  /** Input features (columns of the [out, in] weight). */
  in: number;
  /** Stored as [in, out] (GPT-2 Conv1D) rather than [out, in]. */
  transposed: boolean;
  /** Has a "<name>.bias" tensor of shape [out]. */
  bias: boolean;
}

/**
 * rms: x/√(mean(x²) + eps) · w (Llama); rms_plus_one: the same times (1 + w) (Gemma, whose stored
 * weights are offsets from 1); layer: (x − mean)/√(var + eps) · w + b.
 */
export type NormKind = 'rms' | 'rms_plus_one' | 'layer';

export interface NormSpec {
  /** Module name, e.g. "input_layernorm", "ln_1", or a full name for the final norm. */
  name: string;
  /** LayerNorm has a bias; RMSNorm does not. */
  bias: boolean;
  /** [size]: the hidden size, or head_dim for q/k norms (applied to every head on its own). */
  size: number;
  kind: NormKind;
  eps: number;
}

export type Activation = 'silu' | 'gelu_tanh' | 'relu';

export interface AttentionLayout {
  /** The projections giving q, k and v: [q, k, v], or one fused linear whose output is [q | k | v]. */
  qkv: [string, string, string] | [string];
  /** The output projection. */
  o: string;
  /** RMSNorms over head_dim on every head of q and k, before RoPE (qwen3, gemma3), or null. */
  qNorm: NormSpec | null;
  kNorm: NormSpec | null;
  /** Scores are q·k times this. */
  scale: number;
}

export interface MlpLayout {
  /** Gated: down(act(gate(x)) · up(x)); plain (gate null): down(act(up(x))). */
  gate: string | null;
  /** With `fused`, Phi-3's gate_up_proj, whose output is [gate | up] (2 · the MLP width): down(act(gate) · up). */
  up: string;
  down: string;
  activation: Activation;
  fused: boolean;
}

/** What attention looks like in one layer. */
export interface LayerAttention {
  /** RoPE of the layer's q and k, or null (learned positions). */
  rope: RopeSpec | null;
  /** Query position i sees keys j with i − window < j ≤ i; null: every j ≤ i. */
  window: number | null;
}

export interface BlockLayout {
  /** Norm of the attention sublayer (input_layernorm / ln_1 / self_attn_layer_norm). */
  attnNorm: NormSpec;
  /** Norm of the MLP sublayer (post_attention_layernorm / ln_2 / pre_feedforward_layernorm / final_layer_norm). */
  mlpNorm: NormSpec;
  /** 'pre': x + f(norm(x)); 'post': norm(x + f(x)) (OPT with do_layer_norm_before false). */
  normPlacement: 'pre' | 'post';
  /** Norms on each sublayer's output before the residual add (Gemma 3's post_* norms), or null. */
  attnOutNorm: NormSpec | null;
  mlpOutNorm: NormSpec | null;
  attention: AttentionLayout;
  mlp: MlpLayout;
  /** Every linear of a block, in forward order. */
  linears: LinearSpec[];
  /** True-sequential order: each group is quantized on the inputs left by the groups before it. */
  sequentialGroups: string[][];
  /** Linears vLLM loads as one fused layer under `name`: they are quantized together or not at all. */
  fusedSets: { name: string; parts: string[] }[];
}

export interface ModelLayout {
  arch: Architecture;
  /** Token embedding [vocab, embedDim]. */
  embedTokens: string;
  /** Learned position embedding [maxPositions + positionOffset, hidden] (gpt2 wpe, opt embed_positions), or null (RoPE). */
  embedPositions: string | null;
  /** Position p reads row p + positionOffset of embedPositions (OPT: 2). */
  positionOffset: number;
  /** Token embeddings are multiplied by this (Gemma 3: √hidden in the embedding's stored dtype), else 1. */
  embedScale: number;
  /**
   * The same scale in the float16 GPTQ export: transformers casts it to the model's dtype, which
   * there is float16 (Gemma 3: √640 → 25.296875, where bfloat16 gives 25.25); else 1.
   */
  embedScaleF16: number;
  /** Width of embed_tokens and of the head's input: OPT's word_embed_proj_dim, else the hidden size. */
  embedDim: number;
  /** [hidden, embedDim] linear from the token embeddings up to the hidden size (OPT), or null. */
  projectIn: string | null;
  /** [embedDim, hidden] linear from the last hidden state down to the head's input (OPT), or null. */
  projectOut: string | null;
  /** Final norm, full name (model.norm / transformer.ln_f), or null (post-LN OPT). */
  finalNorm: NormSpec | null;
  /** logits = c·tanh(logits / c), or null. */
  logitSoftcap: number | null;
  /** The tensor used as the LM head [vocab, embedDim]: lm_head.weight, or embedTokens when tied. */
  lmHead: string;
  tiedLmHead: boolean;
  numBlocks: number;
  block: BlockLayout;
  /** "model.layers.3." / "transformer.h.3." */
  blockPrefix(b: number): string;
  /** Attention of block b: its RoPE and sliding window. */
  layerAttention(b: number): LayerAttention;
  /** config.json's key for the MLP width, rewritten when the export pads it. */
  intermediateSizeKey: string;
}

export interface TensorRequirement {
  name: string;
  /** The shape as stored in the checkpoint. */
  shape: number[];
}

/** Where a family's tensor names start, first the usual one (GPT-2 and OPT also load bare base models). */
export function basePrefixes(config: ModelConfig): string[] {
  if (config.arch === 'gpt2') return ['transformer.', ''];
  if (config.arch === 'opt') return ['model.', ''];
  return ['model.'];
}

/**
 * The token embeddings' scale of a model as the run measures it: with `half` (the RTN and GPTQ
 * models of a run whose export is float16, ExportPlan.f16) the float16 one, the value transformers
 * uses on the exported file (Gemma3TextScaledWordEmbedding casts embed_scale to the weights' dtype,
 * transformers models/gemma3/modeling_gemma3.py); else the stored dtype's. 1 for unscaled models.
 * Every path that runs or writes a variant (GpuGlobals, the GGUF export) takes it from here.
 */
export function runEmbedScale(layout: ModelLayout, half: boolean): number {
  return half ? layout.embedScaleF16 : layout.embedScale;
}

/** x rounded to a stored dtype ("F32", "F16", "BF16"), as torch's `.to(dtype)` rounds (to nearest even). */
export function roundToDtype(x: number, dtype: string): number {
  if (dtype === 'F16') return halfToFloat(floatToHalf(x));
  const f = Math.fround(x);
  if (dtype !== 'BF16') return f;
  const u = new Uint32Array(Float32Array.of(f).buffer)[0];
  const rounded = (u + 0x7fff + ((u >>> 16) & 1)) & 0xffff0000;
  return new Float32Array(Uint32Array.of(rounded >>> 0).buffer)[0];
}

/**
 * The layout for a config. `prefix` is where tensor names start (basePrefixes: "transformer." or ""
 * for GPT-2, "model." or "" for OPT); `embedDtype` is the stored dtype of the token embeddings,
 * to which Gemma's embedding scale is rounded.
 */
export function modelLayout(config: ModelConfig, prefix = basePrefixes(config)[0], embedDtype = 'F32'): ModelLayout {
  if (config.arch === 'gpt2') return gpt2Layout(config, prefix);
  if (config.arch === 'opt') return optLayout(config, prefix);
  return llamaLayout(config, embedDtype);
}

const norm = (name: string, size: number, kind: NormKind, eps: number): NormSpec => ({ name, bias: kind === 'layer', size, kind, eps });

/** llama, mistral, qwen2, qwen3, gemma3_text, phi3 and smollm3 (models/<family>/modeling_<family>.py). */
function llamaLayout(c: ModelConfig, embedDtype: string): ModelLayout {
  const h = c.hiddenSize;
  const qSize = c.numHeads * c.headDim;
  const kvSize = c.numKvHeads * c.headDim;
  const kind: NormKind = c.norm;
  const gemma = c.arch === 'gemma3_text';
  const linear = (name: string, out: number, inF: number, bias: boolean): LinearSpec =>
    ({ name, out, in: inF, transposed: false, bias });
  const phi3 = c.arch === 'phi3';
  const full: RopeSpec = { theta: c.ropeTheta, dim: c.rotaryDim ?? c.headDim, ...(c.ropeScaling && { scaling: c.ropeScaling }) };
  const local: RopeSpec = { theta: c.localRopeTheta ?? c.ropeTheta, dim: c.headDim };
  const types = c.layerTypes;
  const layerAttention = (b: number): LayerAttention => {
    // SmolLM3's layers without RoPE (no_rope_layers 0).
    const rope = c.ropeLayers && !c.ropeLayers[b] ? null : full;
    if (types) return types[b] === 'sliding' ? { rope: c.localRopeTheta !== undefined ? local : rope, window: c.slidingWindow } : { rope, window: null };
    return { rope, window: c.slidingWindow };
  };
  // Phi-3 stores q/k/v as one qkv_proj ([q; k; v] rows) and gate/up as one gate_up_proj ([gate; up]).
  const attentionLinears = phi3
    ? [linear('self_attn.qkv_proj', qSize + 2 * kvSize, h, false), linear('self_attn.o_proj', h, qSize, false)]
    : [
      linear('self_attn.q_proj', qSize, h, c.qkvBias),
      linear('self_attn.k_proj', kvSize, h, c.qkvBias),
      linear('self_attn.v_proj', kvSize, h, c.qkvBias),
      linear('self_attn.o_proj', h, qSize, c.attnOutBias),
    ];
  const mlpLinearSpecs = phi3
    ? [linear('mlp.gate_up_proj', 2 * c.intermediateSize, h, false), linear('mlp.down_proj', h, c.intermediateSize, false)]
    : [
      linear('mlp.gate_proj', c.intermediateSize, h, c.mlpBias),
      linear('mlp.up_proj', c.intermediateSize, h, c.mlpBias),
      linear('mlp.down_proj', h, c.intermediateSize, c.mlpBias),
    ];
  return {
    arch: c.arch,
    embedTokens: 'model.embed_tokens.weight',
    embedPositions: null,
    positionOffset: 0,
    embedScale: c.embedScale !== undefined ? roundToDtype(c.embedScale, embedDtype) : 1,
    embedScaleF16: c.embedScale !== undefined ? roundToDtype(c.embedScale, 'F16') : 1,
    embedDim: h,
    projectIn: null,
    projectOut: null,
    finalNorm: norm('model.norm', h, kind, c.normEps),
    logitSoftcap: c.finalLogitSoftcap ?? null,
    lmHead: c.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight',
    tiedLmHead: c.tieWordEmbeddings,
    numBlocks: c.numLayers,
    block: {
      attnNorm: norm('input_layernorm', h, kind, c.normEps),
      // Gemma 3: post_attention_layernorm is the attention's output norm; the MLP's input norm is pre_feedforward_layernorm.
      mlpNorm: norm(gemma ? 'pre_feedforward_layernorm' : 'post_attention_layernorm', h, kind, c.normEps),
      normPlacement: 'pre',
      attnOutNorm: gemma ? norm('post_attention_layernorm', h, kind, c.normEps) : null,
      mlpOutNorm: gemma ? norm('post_feedforward_layernorm', h, kind, c.normEps) : null,
      attention: {
        qkv: phi3 ? ['self_attn.qkv_proj'] : ['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj'],
        o: 'self_attn.o_proj',
        qNorm: c.qkNorm ? norm('self_attn.q_norm', c.headDim, kind, c.normEps) : null,
        kNorm: c.qkNorm ? norm('self_attn.k_norm', c.headDim, kind, c.normEps) : null,
        scale: c.attnScale ?? 1 / Math.sqrt(c.headDim),
      },
      mlp: phi3
        ? { gate: null, up: 'mlp.gate_up_proj', down: 'mlp.down_proj', activation: 'silu', fused: true }
        : { gate: 'mlp.gate_proj', up: 'mlp.up_proj', down: 'mlp.down_proj', activation: gemma ? 'gelu_tanh' : 'silu', fused: false },
      linears: [...attentionLinears, ...mlpLinearSpecs],
      // IST-DASLab/gptq llama.py's true-sequential order; Phi-3's fused linears as stored
      // (GPTQModel's phi3 definition: qkv_proj → o_proj → gate_up_proj → down_proj).
      sequentialGroups: phi3
        ? [['self_attn.qkv_proj'], ['self_attn.o_proj'], ['mlp.gate_up_proj'], ['mlp.down_proj']]
        : [
          ['self_attn.k_proj', 'self_attn.v_proj', 'self_attn.q_proj'],
          ['self_attn.o_proj'],
          ['mlp.up_proj', 'mlp.gate_proj'],
          ['mlp.down_proj'],
        ],
      // vLLM fuses q/k/v and gate/up; Phi-3 checkpoints already hold them fused.
      fusedSets: phi3 ? [] : [
        { name: 'self_attn.qkv_proj', parts: ['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj'] },
        { name: 'mlp.gate_up_proj', parts: ['mlp.gate_proj', 'mlp.up_proj'] },
      ],
    },
    blockPrefix: (b) => `model.layers.${b}.`,
    layerAttention,
    intermediateSizeKey: 'intermediate_size',
  };
}

/** GPT-2 (models/gpt2/modeling_gpt2.py). */
function gpt2Layout(c: ModelConfig, prefix: string): ModelLayout {
  const h = c.hiddenSize;
  const conv1d = (name: string, out: number, inF: number): LinearSpec =>
    ({ name, out, in: inF, transposed: true, bias: true });
  return {
    arch: 'gpt2',
    embedTokens: `${prefix}wte.weight`,
    embedPositions: `${prefix}wpe.weight`,
    positionOffset: 0,
    embedScale: 1,
    embedScaleF16: 1,
    embedDim: h,
    projectIn: null,
    projectOut: null,
    finalNorm: norm(`${prefix}ln_f`, h, 'layer', c.normEps),
    logitSoftcap: null,
    lmHead: c.tieWordEmbeddings ? `${prefix}wte.weight` : 'lm_head.weight',
    tiedLmHead: c.tieWordEmbeddings,
    numBlocks: c.numLayers,
    block: {
      attnNorm: norm('ln_1', h, 'layer', c.normEps),
      mlpNorm: norm('ln_2', h, 'layer', c.normEps),
      normPlacement: 'pre',
      attnOutNorm: null,
      mlpOutNorm: null,
      attention: { qkv: ['attn.c_attn'], o: 'attn.c_proj', qNorm: null, kNorm: null, scale: 1 / Math.sqrt(c.headDim) },
      mlp: { gate: null, up: 'mlp.c_fc', down: 'mlp.c_proj', activation: 'gelu_tanh', fused: false },
      linears: [
        conv1d('attn.c_attn', 3 * h, h), // fused [q; k; v] rows of the [out, in] weight
        conv1d('attn.c_proj', h, h),
        conv1d('mlp.c_fc', c.intermediateSize, h),
        conv1d('mlp.c_proj', h, c.intermediateSize),
      ],
      sequentialGroups: [['attn.c_attn'], ['attn.c_proj'], ['mlp.c_fc'], ['mlp.c_proj']],
      fusedSets: [],
    },
    blockPrefix: (b) => `${prefix}h.${b}.`,
    layerAttention: () => ({ rope: null, window: null }),
    intermediateSizeKey: 'n_inner',
  };
}

/** OPT (models/opt/modeling_opt.py: OPTDecoder, OPTDecoderLayer, OPTAttention). */
function optLayout(c: ModelConfig, prefix: string): ModelLayout {
  const h = c.hiddenSize;
  const d = `${prefix}decoder.`;
  const embedDim = c.embedDim ?? h;
  const projected = embedDim !== h;
  const linear = (name: string, out: number, inF: number, bias: boolean): LinearSpec =>
    ({ name, out, in: inF, transposed: false, bias });
  return {
    arch: 'opt',
    embedTokens: `${d}embed_tokens.weight`,
    embedPositions: `${d}embed_positions.weight`,
    // OPTLearnedPositionalEmbedding: position p reads row p + 2.
    positionOffset: 2,
    embedScale: 1,
    embedScaleF16: 1,
    embedDim,
    projectIn: projected ? `${d}project_in.weight` : null,
    projectOut: projected ? `${d}project_out.weight` : null,
    finalNorm: c.noFinalNorm ? null : norm(`${d}final_layer_norm`, h, 'layer', c.normEps),
    logitSoftcap: null,
    lmHead: c.tieWordEmbeddings ? `${d}embed_tokens.weight` : 'lm_head.weight',
    tiedLmHead: c.tieWordEmbeddings,
    numBlocks: c.numLayers,
    block: {
      attnNorm: norm('self_attn_layer_norm', h, 'layer', c.normEps),
      mlpNorm: norm('final_layer_norm', h, 'layer', c.normEps),
      normPlacement: c.normPlacement ?? 'pre',
      attnOutNorm: null,
      mlpOutNorm: null,
      // OPTAttention multiplies q by head_dim^−0.5 after its bias; the same scale on the scores.
      attention: { qkv: ['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj'], o: 'self_attn.out_proj', qNorm: null, kNorm: null, scale: 1 / Math.sqrt(c.headDim) },
      mlp: { gate: null, up: 'fc1', down: 'fc2', activation: c.activation === 'relu' ? 'relu' : 'gelu_tanh', fused: false },
      linears: [
        linear('self_attn.q_proj', h, h, c.qkvBias),
        linear('self_attn.k_proj', h, h, c.qkvBias),
        linear('self_attn.v_proj', h, h, c.qkvBias),
        linear('self_attn.out_proj', h, h, c.attnOutBias),
        linear('fc1', c.intermediateSize, h, c.mlpBias),
        linear('fc2', h, c.intermediateSize, c.mlpBias),
      ],
      // The Llama order on OPT's names (../shared/docs/architectures.md, GPTQ: true-sequential groups).
      sequentialGroups: [['self_attn.k_proj', 'self_attn.v_proj', 'self_attn.q_proj'], ['self_attn.out_proj'], ['fc1'], ['fc2']],
      // vLLM's OPTAttention loads q, k, v as one QKVParallelLinear.
      fusedSets: [{ name: 'self_attn.qkv_proj', parts: ['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj'] }],
    },
    blockPrefix: (b) => `${d}layers.${b}.`,
    layerAttention: () => ({ rope: null, window: null }),
    intermediateSizeKey: 'ffn_dim',
  };
}

/** The norms of a block that exist, each with its module name (attention's q/k norms included). */
export function blockNorms(block: BlockLayout): NormSpec[] {
  const { attnNorm, mlpNorm, attnOutNorm, mlpOutNorm, attention } = block;
  return [attnNorm, attnOutNorm, attention.qNorm, attention.kNorm, mlpNorm, mlpOutNorm].filter((n): n is NormSpec => n !== null);
}

/**
 * The MLP linears that produce (expand) and consume (contract) the intermediate width; `fused`: the
 * one expanding linear holds gate and up as two halves of its rows (Phi-3's gate_up_proj).
 */
export function mlpLinears(layout: ModelLayout): { expand: string[]; contract: string; fused: boolean } {
  const { gate, up, down, fused } = layout.block.mlp;
  return { expand: gate ? [gate, up] : [up], contract: down, fused };
}

/**
 * The block's linears grouped by the input they read, in forward order: q/k/v (or the fused qkv)
 * read the attention norm's output, o the attention's, gate/up (or up) the MLP norm's, down the
 * activation's. The linears of one set have the same calibration inputs and so the same GPTQ
 * Hessian H (src/engine/gptq-layer.ts shares it).
 */
export function inputSets(block: BlockLayout): string[][] {
  const { attention: A, mlp } = block;
  return [[...A.qkv], [A.o], mlp.gate ? [mlp.gate, mlp.up] : [mlp.up], [mlp.down]];
}

/** A linear's spec by its block-level name; throws for a name the architecture does not have. */
export function linearSpec(layout: ModelLayout, name: string): LinearSpec {
  const spec = layout.block.linears.find((l) => l.name === name);
  if (!spec) {
    throw new Error(`${layout.arch} has no linear "${name}"; its linears: ` +
      layout.block.linears.map((l) => l.name).join(', '));
  }
  return spec;
}

/** The stored shape of a linear's weight: [out, in], or [in, out] for Conv1D. */
export function storedWeightShape(spec: LinearSpec): number[] {
  return spec.transposed ? [spec.in, spec.out] : [spec.out, spec.in];
}

/** Every tensor the forward pass needs, with its stored shape, in checkpoint order of use. */
export function requiredTensors(layout: ModelLayout, config: ModelConfig): TensorRequirement[] {
  const h = config.hiddenSize;
  const e = layout.embedDim;
  const out: TensorRequirement[] = [{ name: layout.embedTokens, shape: [config.vocabSize, e] }];
  if (layout.projectIn) out.push({ name: layout.projectIn, shape: [h, e] });
  if (layout.embedPositions) out.push({ name: layout.embedPositions, shape: [config.maxPositions + layout.positionOffset, h] });
  const norm = (full: string, spec: NormSpec) => {
    out.push({ name: `${full}.weight`, shape: [spec.size] });
    if (spec.bias) out.push({ name: `${full}.bias`, shape: [spec.size] });
  };
  for (let b = 0; b < layout.numBlocks; b++) {
    const p = layout.blockPrefix(b);
    for (const n of blockNorms(layout.block)) norm(p + n.name, n);
    for (const l of layout.block.linears) {
      out.push({ name: `${p}${l.name}.weight`, shape: storedWeightShape(l) });
      if (l.bias) out.push({ name: `${p}${l.name}.bias`, shape: [l.out] });
    }
  }
  if (layout.finalNorm) norm(layout.finalNorm.name, layout.finalNorm);
  if (layout.projectOut) out.push({ name: layout.projectOut, shape: [e, h] });
  if (!layout.tiedLmHead) out.push({ name: layout.lmHead, shape: [config.vocabSize, e] });
  return out;
}
