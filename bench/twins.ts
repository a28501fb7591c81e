/**
 * Shape twins of real models for the benchmarks: each model's real config.json values (vocabulary,
 * widths, heads, head_dim, RoPE, sliding windows) with random bfloat16 weights, written into a
 * folder the benchmark makes and deletes (never committed). Used by bench:families and bench:model.
 */
import { closeSync, copyFileSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { normalizeModelConfig } from '../src/core/model/config';
import { modelLayout, requiredTensors } from '../src/core/model/architecture';
import { seededRandom } from '../src/core/random';

export const LLAMA32_1B = {
  architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: 2048, intermediate_size: 8192, num_hidden_layers: 16,
  num_attention_heads: 32, num_key_value_heads: 8, head_dim: 64, vocab_size: 128256, max_position_embeddings: 131072,
  rms_norm_eps: 1e-5, rope_theta: 500000.0, hidden_act: 'silu', attention_bias: false, mlp_bias: false, tie_word_embeddings: true,
  rope_scaling: { factor: 32.0, high_freq_factor: 4.0, low_freq_factor: 1.0, original_max_position_embeddings: 8192, rope_type: 'llama3' },
  bos_token_id: 128000, eos_token_id: 128001, torch_dtype: 'bfloat16',
};
export const SMOLLM2_135M = {
  architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: 576, intermediate_size: 1536, num_hidden_layers: 30,
  num_attention_heads: 9, num_key_value_heads: 3, vocab_size: 49152, max_position_embeddings: 8192, rms_norm_eps: 1e-5,
  rope_theta: 100000, rope_scaling: null, hidden_act: 'silu', attention_bias: false, tie_word_embeddings: true,
  bos_token_id: 0, eos_token_id: 0, torch_dtype: 'bfloat16',
};
export const QWEN3_06B = {
  architectures: ['Qwen3ForCausalLM'], model_type: 'qwen3', hidden_size: 1024, intermediate_size: 3072, num_hidden_layers: 28,
  num_attention_heads: 16, num_key_value_heads: 8, head_dim: 128, vocab_size: 151936, max_position_embeddings: 40960,
  max_window_layers: 28, rms_norm_eps: 1e-6, rope_theta: 1000000, rope_scaling: null, hidden_act: 'silu', attention_bias: false,
  sliding_window: null, use_sliding_window: false, tie_word_embeddings: true, bos_token_id: 151643, eos_token_id: 151645,
  torch_dtype: 'bfloat16',
};
export const GEMMA3_270M = {
  architectures: ['Gemma3ForCausalLM'], model_type: 'gemma3_text', hidden_size: 640, intermediate_size: 2048, num_hidden_layers: 18,
  num_attention_heads: 4, num_key_value_heads: 1, head_dim: 256, vocab_size: 262144, max_position_embeddings: 32768,
  query_pre_attn_scalar: 256, rms_norm_eps: 1e-6, rope_theta: 1000000.0, rope_local_base_freq: 10000.0, rope_scaling: null,
  sliding_window: 512, hidden_activation: 'gelu_pytorch_tanh', final_logit_softcapping: null, attn_logit_softcapping: null,
  layer_types: Array.from({ length: 18 }, (_, i) => ((i + 1) % 6 === 0 ? 'full_attention' : 'sliding_attention')),
  use_bidirectional_attention: false, tie_word_embeddings: true, bos_token_id: 2, eos_token_id: 1, pad_token_id: 0,
  torch_dtype: 'bfloat16',
};
export const QWEN25_05B = {
  architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', hidden_size: 896, intermediate_size: 4864, num_hidden_layers: 24,
  num_attention_heads: 14, num_key_value_heads: 2, vocab_size: 151936, max_position_embeddings: 32768, max_window_layers: 21,
  rms_norm_eps: 1e-6, rope_theta: 1000000.0, rope_scaling: null, hidden_act: 'silu', sliding_window: 32768, use_sliding_window: false,
  tie_word_embeddings: true, bos_token_id: 151643, eos_token_id: 151643, torch_dtype: 'bfloat16',
};
export const TINYLLAMA_11B = {
  architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: 2048, intermediate_size: 5632, num_hidden_layers: 22,
  num_attention_heads: 32, num_key_value_heads: 4, vocab_size: 32000, max_position_embeddings: 2048, rms_norm_eps: 1e-5,
  rope_theta: 10000.0, rope_scaling: null, hidden_act: 'silu', tie_word_embeddings: false, bos_token_id: 1, eos_token_id: 2,
  torch_dtype: 'bfloat16',
};

/** bfloat16 bits of x (round to nearest even). */
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
function bf16(x: number): number {
  f32[0] = x;
  const u = u32[0];
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

/**
 * Writes config.json and model.safetensors (bfloat16) of the twin with `blocks` blocks into dir,
 * tensor by tensor in chunks of rows: linears and embeddings uniform with std 0.02, norms 1
 * (Gemma: offsets 0). Returns the file's bytes.
 */
export function writeTwin(raw: Record<string, unknown>, blocks: number, dir: string, seed: number): number {
  const configRaw: Record<string, unknown> = { ...raw, num_hidden_layers: blocks };
  if (Array.isArray(raw.layer_types)) configRaw.layer_types = raw.layer_types.slice(0, blocks);
  const config = normalizeModelConfig(configRaw);
  const layout = modelLayout(config);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(configRaw, null, 2));
  const tensors = requiredTensors(layout, config);
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const t of tensors) {
    const bytes = t.shape.reduce((a, b) => a * b, 1) * 2;
    header[t.name] = { dtype: 'BF16', shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const fd = openSync(join(dir, 'model.safetensors'), 'w');
  try {
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    writeSync(fd, len);
    writeSync(fd, json);
    const rand = seededRandom(seed * 7919 + 17);
    const a = 0.02 * Math.sqrt(3); // uniform on [−a, a]: std 0.02
    const normValue = config.norm === 'rms_plus_one' ? 0 : 1;
    const chunk = new Uint16Array(1 << 20);
    for (const t of tensors) {
      const n = t.shape.reduce((x, y) => x * y, 1);
      const isNorm = t.shape.length === 1 && /norm|layernorm/.test(t.name);
      for (let done = 0; done < n; done += chunk.length) {
        const m = Math.min(chunk.length, n - done);
        for (let i = 0; i < m; i++) chunk[i] = bf16(isNorm ? normValue : (2 * rand() - 1) * a);
        writeSync(fd, new Uint8Array(chunk.buffer, 0, m * 2));
      }
    }
  } finally {
    closeSync(fd);
  }
  return 8 + json.length + offset;
}

/**
 * Copies stories260K's tokenizer files into a twin's folder, so that the whole pipeline (the CLI)
 * can run on it: its 512 ids are within every twin's vocabulary.
 */
export function addTokenizer(dir: string): void {
  const stories = fileURLToPath(new URL('../../shared/models/stories260K/', import.meta.url));
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(stories, f), join(dir, f));
}
