/**
 * Where each architecture keeps its tensors, in Hugging Face names, and what shape each has.
 * Linear weights are described as nn.Linear's [out, in]; GPT-2's Conv1D stores them as [in, out]
 * (`transposed: true`). Block-level names have no block prefix ("self_attn.q_proj"); the full
 * tensor name is blockPrefix(b) + name + ".weight" / ".bias".
 */
import type { Architecture, ModelConfig } from './config';

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

export interface NormSpec {
  /** Module name, e.g. "input_layernorm", "ln_1", or a full name for the final norm. */
  name: string;
  /** LayerNorm has a bias; RMSNorm does not. */
  bias: boolean;
  /** [size] */
  size: number;
}

export interface BlockLayout {
  /** Norm before attention (input_layernorm / ln_1). */
  attnNorm: NormSpec;
  /** Norm before the MLP (post_attention_layernorm / ln_2). */
  mlpNorm: NormSpec;
  /** Every linear of a block, in forward order. */
  linears: LinearSpec[];
  /** True-sequential order: each group is quantized on the inputs left by the groups before it. */
  sequentialGroups: string[][];
}

export interface ModelLayout {
  arch: Architecture;
  /** Token embedding [vocab, hidden]. */
  embedTokens: string;
  /** Learned position embedding [maxPositions, hidden] (gpt2 wpe), or null (RoPE). */
  embedPositions: string | null;
  /** Final norm, full name (model.norm / transformer.ln_f). */
  finalNorm: NormSpec;
  /** The tensor used as the LM head [vocab, hidden]: lm_head.weight, or embedTokens when tied. */
  lmHead: string;
  tiedLmHead: boolean;
  numBlocks: number;
  block: BlockLayout;
  /** "model.layers.3." / "transformer.h.3." */
  blockPrefix(b: number): string;
}

export interface TensorRequirement {
  name: string;
  /** The shape as stored in the checkpoint. */
  shape: number[];
}

/**
 * The layout for a config. `gpt2Prefix` is "transformer." for GPT2LMHeadModel checkpoints and ""
 * for the original openai-community/gpt2 files, which name tensors "h.0.attn.c_attn.weight".
 */
export function modelLayout(config: ModelConfig, gpt2Prefix = 'transformer.'): ModelLayout {
  return config.arch === 'gpt2' ? gpt2Layout(config, gpt2Prefix) : llamaLayout(config);
}

function llamaLayout(c: ModelConfig): ModelLayout {
  const h = c.hiddenSize;
  const qSize = c.numHeads * c.headDim;
  const kvSize = c.numKvHeads * c.headDim;
  const linear = (name: string, out: number, inF: number, bias: boolean): LinearSpec =>
    ({ name, out, in: inF, transposed: false, bias });
  return {
    arch: c.arch,
    embedTokens: 'model.embed_tokens.weight',
    embedPositions: null,
    finalNorm: { name: 'model.norm', bias: false, size: h },
    lmHead: c.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight',
    tiedLmHead: c.tieWordEmbeddings,
    numBlocks: c.numLayers,
    block: {
      attnNorm: { name: 'input_layernorm', bias: false, size: h },
      mlpNorm: { name: 'post_attention_layernorm', bias: false, size: h },
      linears: [
        linear('self_attn.q_proj', qSize, h, c.qkvBias),
        linear('self_attn.k_proj', kvSize, h, c.qkvBias),
        linear('self_attn.v_proj', kvSize, h, c.qkvBias),
        linear('self_attn.o_proj', h, qSize, c.attnOutBias),
        linear('mlp.gate_proj', c.intermediateSize, h, c.mlpBias),
        linear('mlp.up_proj', c.intermediateSize, h, c.mlpBias),
        linear('mlp.down_proj', h, c.intermediateSize, c.mlpBias),
      ],
      // IST-DASLab/gptq llama.py's true-sequential order.
      sequentialGroups: [
        ['self_attn.k_proj', 'self_attn.v_proj', 'self_attn.q_proj'],
        ['self_attn.o_proj'],
        ['mlp.up_proj', 'mlp.gate_proj'],
        ['mlp.down_proj'],
      ],
    },
    blockPrefix: (b) => `model.layers.${b}.`,
  };
}

function gpt2Layout(c: ModelConfig, prefix: string): ModelLayout {
  const h = c.hiddenSize;
  const conv1d = (name: string, out: number, inF: number): LinearSpec =>
    ({ name, out, in: inF, transposed: true, bias: true });
  return {
    arch: 'gpt2',
    embedTokens: `${prefix}wte.weight`,
    embedPositions: `${prefix}wpe.weight`,
    finalNorm: { name: `${prefix}ln_f`, bias: true, size: h },
    lmHead: c.tieWordEmbeddings ? `${prefix}wte.weight` : 'lm_head.weight',
    tiedLmHead: c.tieWordEmbeddings,
    numBlocks: c.numLayers,
    block: {
      attnNorm: { name: 'ln_1', bias: true, size: h },
      mlpNorm: { name: 'ln_2', bias: true, size: h },
      linears: [
        conv1d('attn.c_attn', 3 * h, h), // fused [q; k; v] rows of the [out, in] weight
        conv1d('attn.c_proj', h, h),
        conv1d('mlp.c_fc', c.intermediateSize, h),
        conv1d('mlp.c_proj', h, c.intermediateSize),
      ],
      sequentialGroups: [['attn.c_attn'], ['attn.c_proj'], ['mlp.c_fc'], ['mlp.c_proj']],
    },
    blockPrefix: (b) => `${prefix}h.${b}.`,
  };
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
  const out: TensorRequirement[] = [{ name: layout.embedTokens, shape: [config.vocabSize, h] }];
  if (layout.embedPositions) out.push({ name: layout.embedPositions, shape: [config.maxPositions, h] });
  const norm = (full: string, spec: NormSpec) => {
    out.push({ name: `${full}.weight`, shape: [spec.size] });
    if (spec.bias) out.push({ name: `${full}.bias`, shape: [spec.size] });
  };
  for (let b = 0; b < layout.numBlocks; b++) {
    const p = layout.blockPrefix(b);
    norm(p + layout.block.attnNorm.name, layout.block.attnNorm);
    norm(p + layout.block.mlpNorm.name, layout.block.mlpNorm);
    for (const l of layout.block.linears) {
      out.push({ name: `${p}${l.name}.weight`, shape: storedWeightShape(l) });
      if (l.bias) out.push({ name: `${p}${l.name}.bias`, shape: [l.out] });
    }
  }
  norm(layout.finalNorm.name, layout.finalNorm);
  if (!layout.tiedLmHead) out.push({ name: layout.lmHead, shape: [config.vocabSize, h] });
  return out;
}
