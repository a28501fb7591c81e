/**
 * Test models of the families beyond plain Llama and GPT-2, built in memory from code (nothing
 * downloaded, nothing committed): real trained weights transplanted into another family's layout
 * where the function is then known or close to it, and seeded random weights for the shapes real
 * configs have (explicit head_dim, GQA, sliding windows shorter than the window, post-LN OPT with
 * project_in/out). Each is a checkpoint folder's files: config.json, model.safetensors and the
 * donor model's tokenizer.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { memorySource, type ByteSource } from '../core/model/byte-source';
import { gaussian, seededRandom } from '../core/random';
import { buildSafetensors, f32Bytes, u16Bytes, type BuildTensor } from './safetensors-builder';
import { MAKEMORE_NAMES, openSharedCheckpoint, sharedModelDir, STORIES_260K } from './shared-models';

export type ModelFiles = Map<string, Uint8Array>;

export interface TensorData {
  shape: number[];
  values: Float32Array;
  /** Stored dtype (default F32). */
  dtype?: 'F32' | 'BF16';
}

/** f32 → bfloat16 bit pattern, round to nearest even (torch's `.to(torch.bfloat16)`). */
export function bf16Bits(x: number): number {
  const u = new Uint32Array(Float32Array.of(x).buffer)[0];
  return bf16OfF32Bits(u);
}

const bf16OfF32Bits = (u: number) => ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;

/** Every value's bfloat16 bit pattern (bf16Bits over an array, without a number per element). */
function bf16Patterns(values: Float32Array): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = bf16OfF32Bits(bits[i]);
  return out;
}

/** A checkpoint folder's files: config.json, model.safetensors and the donor's tokenizer files. */
export function checkpointFiles(config: Record<string, unknown>, tensors: Map<string, TensorData>, tokenizerFrom: string): ModelFiles {
  const entries: BuildTensor[] = [...tensors].map(([name, t]) => ({
    name,
    dtype: t.dtype ?? 'F32',
    shape: t.shape,
    data: t.dtype === 'BF16' ? u16Bytes(bf16Patterns(t.values)) : f32Bytes(t.values),
  }));
  const files: ModelFiles = new Map();
  files.set('config.json', new TextEncoder().encode(JSON.stringify(config, null, 2)));
  files.set('model.safetensors', buildSafetensors(entries, { format: 'pt' }));
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) {
    files.set(f, new Uint8Array(readFileSync(join(sharedModelDir(tokenizerFrom), f))));
  }
  return files;
}

export function sourcesOf(files: ModelFiles): ByteSource[] {
  return [...files].map(([name, bytes]) => memorySource(name, bytes));
}

/** Writes the files into dir (for the CLI). */
export async function writeModelDir(files: ModelFiles, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [name, bytes] of files) await writeFile(join(dir, name), bytes);
}

/** Every tensor of a shared model as f32, by name, with its stored shape. */
async function sharedTensors(name: string): Promise<Map<string, TensorData>> {
  const ck = await openSharedCheckpoint(name);
  const out = new Map<string, TensorData>();
  for (const [t, info] of ck.tensors) out.set(t, { shape: info.shape, values: await ck.readTensor(t) });
  return out;
}

/** values with N(mean, std²) noise, seeded. */
function noisy(n: number, rand: () => number, mean: number, std: number): Float32Array {
  return Float32Array.from({ length: n }, () => mean + std * gaussian(rand));
}

const storiesConfig = JSON.parse(readFileSync(join(sharedModelDir(STORIES_260K), 'config.json'), 'utf8')) as Record<string, unknown>;

/** stories260K with its config's RoPE replaced (e.g. a llama3 rope_scaling). */
export async function storiesWithConfig(changes: Record<string, unknown>): Promise<ModelFiles> {
  return checkpointFiles({ ...storiesConfig, ...changes }, await sharedTensors(STORIES_260K), STORIES_260K);
}

/**
 * stories260K in the qwen3 layout: the same linears, norms and embeddings, plus q_norm / k_norm
 * weights near 1 but not 1 (seeded), so each head of q and k is RMS-normalised before RoPE.
 */
export async function storiesAsQwen3(seed = 1): Promise<ModelFiles> {
  const tensors = await sharedTensors(STORIES_260K);
  const rand = seededRandom(seed);
  for (let b = 0; b < 5; b++) {
    for (const n of ['q_norm', 'k_norm']) tensors.set(`model.layers.${b}.self_attn.${n}.weight`, { shape: [8], values: noisy(8, rand, 1, 0.3) });
  }
  const config = { ...storiesConfig, architectures: ['Qwen3ForCausalLM'], model_type: 'qwen3', head_dim: 8, max_window_layers: 5, use_sliding_window: false };
  return checkpointFiles(config, tensors, STORIES_260K);
}

/**
 * stories260K in the gemma3_text layout: its norms stored as offsets from 1 (input_layernorm,
 * pre_feedforward_layernorm = stories' post_attention_layernorm, model.norm), seeded post-norms
 * and q/k norms, sliding windows of 16 on layers 0, 1, 3, 4 (pattern 3) with their own RoPE base,
 * a score scale query_pre_attn_scalar^−0.5 = 12^−0.5 unlike head_dim^−0.5, the embedding scale
 * √64 = 8 (the embeddings are stored divided by 8, so the model sees stories' embeddings).
 */
export async function storiesAsGemma3(seed = 2): Promise<ModelFiles> {
  const s = await sharedTensors(STORIES_260K);
  const rand = seededRandom(seed);
  const out = new Map<string, TensorData>();
  const offset = (t: TensorData): TensorData => ({ shape: t.shape, values: t.values.map((w) => w - 1) });
  const E = s.get('model.embed_tokens.weight')!;
  out.set('model.embed_tokens.weight', { shape: E.shape, values: E.values.map((x) => x / 8) });
  for (let b = 0; b < 5; b++) {
    const p = `model.layers.${b}.`;
    for (const [name, t] of s) if (name.startsWith(p) && !name.includes('layernorm')) out.set(name, t);
    out.set(`${p}input_layernorm.weight`, offset(s.get(`${p}input_layernorm.weight`)!));
    out.set(`${p}pre_feedforward_layernorm.weight`, offset(s.get(`${p}post_attention_layernorm.weight`)!));
    out.set(`${p}post_attention_layernorm.weight`, { shape: [64], values: noisy(64, rand, 0, 0.2) });
    out.set(`${p}post_feedforward_layernorm.weight`, { shape: [64], values: noisy(64, rand, 0, 0.2) });
    out.set(`${p}self_attn.q_norm.weight`, { shape: [8], values: noisy(8, rand, 0, 0.3) });
    out.set(`${p}self_attn.k_norm.weight`, { shape: [8], values: noisy(8, rand, 0, 0.3) });
  }
  out.set('model.norm.weight', offset(s.get('model.norm.weight')!));
  const config = {
    architectures: ['Gemma3ForCausalLM'], model_type: 'gemma3_text', hidden_size: 64, intermediate_size: 172,
    num_hidden_layers: 5, num_attention_heads: 8, num_key_value_heads: 4, head_dim: 8, vocab_size: 512,
    max_position_embeddings: 512, rms_norm_eps: 1e-5, rope_theta: 10000.0, rope_local_base_freq: 5000.0,
    sliding_window: 16, sliding_window_pattern: 3, query_pre_attn_scalar: 12, hidden_activation: 'gelu_pytorch_tanh',
    final_logit_softcapping: null, attn_logit_softcapping: null, rope_scaling: null, tie_word_embeddings: true,
    bos_token_id: 1, eos_token_id: 2, torch_dtype: 'float32',
  };
  return checkpointFiles(config, out, STORIES_260K);
}

/**
 * stories260K in the phi3 layout: q, k, v rows concatenated into qkv_proj, gate and up into
 * gate_up_proj. With `changes` {} the function is stories260K's; the defaults of the test model add
 * Phi-3's own features: RoPE on 4 of the 8 dims per head (partial_rotary_factor 0.5), longrope
 * against an original context of 32 (so 48-token windows use the long factors and the attention
 * factor), and a sliding window of 24 on every layer.
 */
export async function storiesAsPhi3(changes: Record<string, unknown> = {
  partial_rotary_factor: 0.5, original_max_position_embeddings: 32, sliding_window: 24,
  rope_scaling: { type: 'longrope', short_factor: [1.0, 1.5], long_factor: [2.0, 4.0] },
}): Promise<ModelFiles> {
  const s = await sharedTensors(STORIES_260K);
  const out = new Map<string, TensorData>();
  const rows = (...parts: TensorData[]): TensorData => {
    const values = new Float32Array(parts.reduce((n, p) => n + p.values.length, 0));
    let at = 0;
    for (const p of parts) {
      values.set(p.values, at);
      at += p.values.length;
    }
    return { shape: [parts.reduce((n, p) => n + p.shape[0], 0), parts[0].shape[1]], values };
  };
  for (const [name, t] of s) {
    const m = /^model\.layers\.(\d+)\.(self_attn\.[qkv]_proj|mlp\.(gate|up)_proj)\.weight$/.exec(name);
    if (!m) out.set(name, t);
  }
  for (let b = 0; b < 5; b++) {
    const p = `model.layers.${b}.`;
    const w = (n: string) => s.get(`${p}${n}.weight`)!;
    out.set(`${p}self_attn.qkv_proj.weight`, rows(w('self_attn.q_proj'), w('self_attn.k_proj'), w('self_attn.v_proj')));
    out.set(`${p}mlp.gate_up_proj.weight`, rows(w('mlp.gate_proj'), w('mlp.up_proj')));
  }
  const config = {
    architectures: ['Phi3ForCausalLM'], model_type: 'phi3', hidden_size: 64, intermediate_size: 172, num_hidden_layers: 5,
    num_attention_heads: 8, num_key_value_heads: 4, vocab_size: 512, max_position_embeddings: 512, rms_norm_eps: 1e-5,
    rope_theta: 10000.0, hidden_act: 'silu', tie_word_embeddings: true, sliding_window: null, rope_scaling: null,
    bos_token_id: 1, eos_token_id: 2, torch_dtype: 'float32', ...changes,
  };
  return checkpointFiles(config, out, STORIES_260K);
}

/** stories260K in the smollm3 layout: the same tensors, with the layers of `noRopeLayers` 0 running without RoPE. */
export async function storiesAsSmolLM3(noRopeLayers = [1, 1, 0, 1, 0]): Promise<ModelFiles> {
  const config = {
    ...storiesConfig, architectures: ['SmolLM3ForCausalLM'], model_type: 'smollm3', no_rope_layers: noRopeLayers,
    use_sliding_window: false, sliding_window: null,
  };
  return checkpointFiles(config, await sharedTensors(STORIES_260K), STORIES_260K);
}

/**
 * makemore-names-gpt2 in the opt layout (pre-LN, gelu_new, untied head): c_attn split into q, k,
 * v, Conv1D weights transposed to nn.Linear's [out, in], and the positions shifted by OPT's offset
 * of 2 (rows 0 and 1, never read, are filled with 1e3 so that reading them would show). The
 * function is GPT-2's own, so the logits are those of reference_greedy.json.
 */
export async function makemoreAsOpt(): Promise<ModelFiles> {
  const s = await sharedTensors(MAKEMORE_NAMES);
  const h = 64;
  const out = new Map<string, TensorData>();
  const transposed = (t: TensorData): TensorData => {
    const [rows, cols] = t.shape;
    const v = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) v[c * rows + r] = t.values[r * cols + c];
    return { shape: [cols, rows], values: v };
  };
  out.set('model.decoder.embed_tokens.weight', s.get('transformer.wte.weight')!);
  const wpe = s.get('transformer.wpe.weight')!;
  const positions = new Float32Array((16 + 2) * h).fill(1e3);
  positions.set(wpe.values, 2 * h);
  out.set('model.decoder.embed_positions.weight', { shape: [18, h], values: positions });
  for (let b = 0; b < 4; b++) {
    const g = `transformer.h.${b}.`;
    const o = `model.decoder.layers.${b}.`;
    const cAttn = transposed(s.get(`${g}attn.c_attn.weight`)!); // [3h, h]
    const bias = s.get(`${g}attn.c_attn.bias`)!.values;
    ['q_proj', 'k_proj', 'v_proj'].forEach((n, i) => {
      out.set(`${o}self_attn.${n}.weight`, { shape: [h, h], values: cAttn.values.slice(i * h * h, (i + 1) * h * h) });
      out.set(`${o}self_attn.${n}.bias`, { shape: [h], values: bias.slice(i * h, (i + 1) * h) });
    });
    out.set(`${o}self_attn.out_proj.weight`, transposed(s.get(`${g}attn.c_proj.weight`)!));
    out.set(`${o}self_attn.out_proj.bias`, s.get(`${g}attn.c_proj.bias`)!);
    out.set(`${o}fc1.weight`, transposed(s.get(`${g}mlp.c_fc.weight`)!));
    out.set(`${o}fc1.bias`, s.get(`${g}mlp.c_fc.bias`)!);
    out.set(`${o}fc2.weight`, transposed(s.get(`${g}mlp.c_proj.weight`)!));
    out.set(`${o}fc2.bias`, s.get(`${g}mlp.c_proj.bias`)!);
    for (const [from, to] of [['ln_1', 'self_attn_layer_norm'], ['ln_2', 'final_layer_norm']]) {
      out.set(`${o}${to}.weight`, s.get(`${g}${from}.weight`)!);
      out.set(`${o}${to}.bias`, s.get(`${g}${from}.bias`)!);
    }
  }
  out.set('model.decoder.final_layer_norm.weight', s.get('transformer.ln_f.weight')!);
  out.set('model.decoder.final_layer_norm.bias', s.get('transformer.ln_f.bias')!);
  out.set('lm_head.weight', s.get('lm_head.weight')!);
  const config = {
    architectures: ['OPTForCausalLM'], model_type: 'opt', hidden_size: h, ffn_dim: 256, num_hidden_layers: 4,
    num_attention_heads: 4, vocab_size: 27, max_position_embeddings: 16, word_embed_proj_dim: h,
    do_layer_norm_before: true, activation_function: 'gelu_new', enable_bias: true, tie_word_embeddings: false,
    bos_token_id: 0, eos_token_id: 0, pad_token_id: 1, torch_dtype: 'float32',
  };
  return checkpointFiles(config, out, MAKEMORE_NAMES);
}

// ——— seeded random models for shapes ———

/** Linear weights N(0, 1/in) (activations stay O(1)), biases and norm offsets small. */
class RandomWeights {
  readonly tensors = new Map<string, TensorData>();
  private readonly rand: () => number;

  constructor(seed: number, private readonly dtype: 'F32' | 'BF16' = 'F32') {
    this.rand = seededRandom(seed);
  }

  private put(name: string, shape: number[], values: Float32Array): void {
    // BF16: the values as stored, each its bfloat16 rounding.
    const stored = this.dtype === 'BF16' ? new Float32Array(Uint32Array.from(bf16Patterns(values), (b) => b << 16).buffer) : values;
    this.tensors.set(name, { shape, values: stored, dtype: this.dtype });
  }

  linear(name: string, out: number, inF: number, bias = false): void {
    this.put(`${name}.weight`, [out, inF], noisy(out * inF, this.rand, 0, 1 / Math.sqrt(inF)));
    if (bias) this.put(`${name}.bias`, [out], noisy(out, this.rand, 0, 0.1));
  }

  vector(name: string, n: number, mean: number, std: number): void {
    this.put(name, [n], noisy(n, this.rand, mean, std));
  }

  matrix(name: string, rows: number, cols: number, std: number): void {
    this.put(name, [rows, cols], noisy(rows * cols, this.rand, 0, std));
  }
}

/**
 * A random qwen3 with Qwen3-0.6B's peculiarities at small size: head_dim 32 with hidden 64 and 4
 * heads (q_proj [128, 64], o_proj [64, 128]), GQA 4/2, tied head, no biases; vocab 512 (stories'
 * tokenizer).
 */
export function randomQwen3(seed = 3): ModelFiles {
  const [h, heads, kv, d, inter, layers, vocab] = [64, 4, 2, 32, 96, 2, 512];
  const w = new RandomWeights(seed);
  w.matrix('model.embed_tokens.weight', vocab, h, 0.3);
  for (let b = 0; b < layers; b++) {
    const p = `model.layers.${b}.`;
    w.vector(`${p}input_layernorm.weight`, h, 1, 0.1);
    w.vector(`${p}post_attention_layernorm.weight`, h, 1, 0.1);
    w.linear(`${p}self_attn.q_proj`, heads * d, h);
    w.linear(`${p}self_attn.k_proj`, kv * d, h);
    w.linear(`${p}self_attn.v_proj`, kv * d, h);
    w.linear(`${p}self_attn.o_proj`, h, heads * d);
    w.vector(`${p}self_attn.q_norm.weight`, d, 1, 0.2);
    w.vector(`${p}self_attn.k_norm.weight`, d, 1, 0.2);
    w.linear(`${p}mlp.gate_proj`, inter, h);
    w.linear(`${p}mlp.up_proj`, inter, h);
    w.linear(`${p}mlp.down_proj`, h, inter);
  }
  w.vector('model.norm.weight', h, 1, 0.1);
  const config = {
    architectures: ['Qwen3ForCausalLM'], model_type: 'qwen3', hidden_size: h, intermediate_size: inter,
    num_hidden_layers: layers, num_attention_heads: heads, num_key_value_heads: kv, head_dim: d, vocab_size: vocab,
    max_position_embeddings: 256, rms_norm_eps: 1e-6, rope_theta: 1000000, hidden_act: 'silu', attention_bias: false,
    tie_word_embeddings: true, use_sliding_window: false, sliding_window: null, max_window_layers: layers,
    bos_token_id: 1, eos_token_id: 2, torch_dtype: 'float32',
  };
  return checkpointFiles(config, w.tensors, STORIES_260K);
}

/**
 * A random llama stored in bfloat16 with SmolLM2-135M's vocabulary (49152) beside tiny widths
 * (hidden 64, 4 heads of 16, GQA 4/2, MLP 160, 2 blocks, tied head): like the small models people
 * bring, its LM head's logits dominate the run's GPU memory and are made in chunks (4 × 64 tokens
 * of logits are 48 MiB, over LOGITS_CHUNK_BYTES), yet a run takes seconds. Stories' tokenizer
 * (ids below 512).
 */
export function randomWideVocab(vocab = 49152, seed = 6): ModelFiles {
  const [h, heads, kv, inter, layers] = [64, 4, 2, 160, 2];
  const d = h / heads;
  const w = new RandomWeights(seed, 'BF16');
  w.matrix('model.embed_tokens.weight', vocab, h, 0.3);
  for (let b = 0; b < layers; b++) {
    const p = `model.layers.${b}.`;
    w.vector(`${p}input_layernorm.weight`, h, 1, 0.1);
    w.vector(`${p}post_attention_layernorm.weight`, h, 1, 0.1);
    w.linear(`${p}self_attn.q_proj`, h, h);
    w.linear(`${p}self_attn.k_proj`, kv * d, h);
    w.linear(`${p}self_attn.v_proj`, kv * d, h);
    w.linear(`${p}self_attn.o_proj`, h, h);
    w.linear(`${p}mlp.gate_proj`, inter, h);
    w.linear(`${p}mlp.up_proj`, inter, h);
    w.linear(`${p}mlp.down_proj`, h, inter);
  }
  w.vector('model.norm.weight', h, 1, 0.1);
  const config = {
    architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: h, intermediate_size: inter,
    num_hidden_layers: layers, num_attention_heads: heads, num_key_value_heads: kv, vocab_size: vocab,
    max_position_embeddings: 512, rms_norm_eps: 1e-5, rope_theta: 10000, hidden_act: 'silu', tie_word_embeddings: true,
    bos_token_id: 1, eos_token_id: 2, torch_dtype: 'bfloat16',
  };
  return checkpointFiles(config, w.tensors, STORIES_260K);
}

/**
 * A random gemma3_text stored in bfloat16 like the released checkpoints: hidden 96, 4 heads of
 * 32 with 1 key/value head (q_proj [128, 96]), layer_types with sliding windows of 8 (shorter than
 * the test windows), v5's rope_parameters per layer type with a linear-scaled full-attention RoPE,
 * final_logit_softcapping 5, embedding scale √96 in bfloat16 (9.8125).
 */
export function randomGemma3(seed = 4): ModelFiles {
  const [h, heads, kv, d, inter, layers, vocab] = [96, 4, 1, 32, 128, 3, 512];
  const w = new RandomWeights(seed, 'BF16');
  w.matrix('model.embed_tokens.weight', vocab, h, 0.3);
  for (let b = 0; b < layers; b++) {
    const p = `model.layers.${b}.`;
    for (const n of ['input_layernorm', 'post_attention_layernorm', 'pre_feedforward_layernorm', 'post_feedforward_layernorm']) {
      w.vector(`${p}${n}.weight`, h, 0, 0.2);
    }
    w.linear(`${p}self_attn.q_proj`, heads * d, h);
    w.linear(`${p}self_attn.k_proj`, kv * d, h);
    w.linear(`${p}self_attn.v_proj`, kv * d, h);
    w.linear(`${p}self_attn.o_proj`, h, heads * d);
    w.vector(`${p}self_attn.q_norm.weight`, d, 0, 0.2);
    w.vector(`${p}self_attn.k_norm.weight`, d, 0, 0.2);
    w.linear(`${p}mlp.gate_proj`, inter, h);
    w.linear(`${p}mlp.up_proj`, inter, h);
    w.linear(`${p}mlp.down_proj`, h, inter);
  }
  w.vector('model.norm.weight', h, 0, 0.2);
  const config = {
    architectures: ['Gemma3ForCausalLM'], model_type: 'gemma3_text', hidden_size: h, intermediate_size: inter,
    num_hidden_layers: layers, num_attention_heads: heads, num_key_value_heads: kv, head_dim: d, vocab_size: vocab,
    max_position_embeddings: 256, rms_norm_eps: 1e-6, query_pre_attn_scalar: 32, sliding_window: 8,
    layer_types: ['sliding_attention', 'full_attention', 'sliding_attention'],
    rope_parameters: {
      sliding_attention: { rope_type: 'default', rope_theta: 10000.0 },
      full_attention: { rope_type: 'linear', factor: 4.0, rope_theta: 1000000.0 },
    },
    hidden_activation: 'gelu_pytorch_tanh', final_logit_softcapping: 5.0, tie_word_embeddings: true,
    bos_token_id: 2, eos_token_id: 1, pad_token_id: 0, dtype: 'bfloat16',
  };
  return checkpointFiles(config, w.tensors, STORIES_260K);
}

/**
 * A random post-LN opt like opt-350m at small size: do_layer_norm_before false (so no decoder
 * final_layer_norm), word_embed_proj_dim 32 < hidden 64 with project_in / project_out, relu, biases,
 * tied head [vocab, 32], positions with the offset of 2; vocab 512 (stories' tokenizer).
 */
export function randomOptPostLn(seed = 5): ModelFiles {
  const [h, e, heads, ffn, layers, vocab, ctx] = [64, 32, 4, 128, 2, 512, 128];
  const w = new RandomWeights(seed);
  const d = 'model.decoder.';
  w.matrix(`${d}embed_tokens.weight`, vocab, e, 0.3);
  w.matrix(`${d}embed_positions.weight`, ctx + 2, h, 0.3);
  w.linear(`${d}project_in`, h, e);
  w.linear(`${d}project_out`, e, h);
  for (let b = 0; b < layers; b++) {
    const p = `${d}layers.${b}.`;
    for (const n of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) w.linear(`${p}self_attn.${n}`, h, h, true);
    w.linear(`${p}fc1`, ffn, h, true);
    w.linear(`${p}fc2`, h, ffn, true);
    for (const n of ['self_attn_layer_norm', 'final_layer_norm']) {
      w.vector(`${p}${n}.weight`, h, 1, 0.1);
      w.vector(`${p}${n}.bias`, h, 0, 0.1);
    }
  }
  const config = {
    architectures: ['OPTForCausalLM'], model_type: 'opt', hidden_size: h, ffn_dim: ffn, num_hidden_layers: layers,
    num_attention_heads: heads, vocab_size: vocab, max_position_embeddings: ctx, word_embed_proj_dim: e,
    do_layer_norm_before: false, activation_function: 'relu', enable_bias: true, tie_word_embeddings: true,
    bos_token_id: 1, eos_token_id: 2, pad_token_id: 0, torch_dtype: 'float32',
  };
  return checkpointFiles(config, w.tensors, STORIES_260K);
}
