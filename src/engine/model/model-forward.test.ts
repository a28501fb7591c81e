/** The GPU forward pass against the f64 runs in ../shared/models/NAME/reference_greedy.json. */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { nodeRuntime } from '../../testing/node-gpu';
import { memorySource } from '../../core/model/byte-source';
import { readSafetensorsHeader, readTensorF32 } from '../../core/model/safetensors';
import { GpuGlobals, greedy, scoreSequences, type HostBlock, type HostGlobals, type ModelSpec } from './model-forward';
import type { GpuRuntime } from '../../gpu/runtime';

const MODELS = new URL('../../../../shared/models/', import.meta.url);

interface Loaded {
  spec: ModelSpec;
  globals: HostGlobals;
  block: (b: number) => Promise<HostBlock>;
}

async function load(name: string): Promise<Loaded> {
  const dir = new URL(`${name}/`, MODELS);
  const cfg = JSON.parse(readFileSync(new URL('config.json', dir), 'utf8'));
  const src = memorySource('model.safetensors', readFileSync(new URL('model.safetensors', dir)));
  const header = await readSafetensorsHeader(src);
  const t = (n: string) => readTensorF32(src, header, n);
  if (cfg.model_type === 'gpt2') {
    const hidden = cfg.n_embd;
    const spec: ModelSpec = {
      family: 'gpt2', hidden, intermediate: cfg.n_inner ?? 4 * hidden, layers: cfg.n_layer, heads: cfg.n_head, kvHeads: cfg.n_head,
      headDim: hidden / cfg.n_head, vocab: cfg.vocab_size, maxPositions: cfg.n_positions, ropeTheta: 0, norm: 'layer', normEps: cfg.layer_norm_epsilon,
    };
    const transpose = (W: Float32Array, inF: number, outF: number) => {
      const out = new Float32Array(W.length);
      for (let i = 0; i < inF; i++) for (let o = 0; o < outF; o++) out[o * inF + i] = W[i * outF + o];
      return out;
    };
    const lin = async (p: string, inF: number, outF: number) => ({ W: transpose(await t(`${p}.weight`), inF, outF), in: inF, out: outF, bias: await t(`${p}.bias`) });
    return {
      spec,
      globals: { embed: await t('transformer.wte.weight'), positions: await t('transformer.wpe.weight'), finalNorm: { weight: await t('transformer.ln_f.weight'), bias: await t('transformer.ln_f.bias') }, lmHead: await t('lm_head.weight') },
      block: async (b) => {
        const p = `transformer.h.${b}`;
        const I = spec.intermediate;
        return {
          linears: new Map([
            ['attn.c_attn', await lin(`${p}.attn.c_attn`, hidden, 3 * hidden)],
            ['attn.c_proj', await lin(`${p}.attn.c_proj`, hidden, hidden)],
            ['mlp.c_fc', await lin(`${p}.mlp.c_fc`, hidden, I)],
            ['mlp.c_proj', await lin(`${p}.mlp.c_proj`, I, hidden)],
          ]),
          norm1: { weight: await t(`${p}.ln_1.weight`), bias: await t(`${p}.ln_1.bias`) },
          norm2: { weight: await t(`${p}.ln_2.weight`), bias: await t(`${p}.ln_2.bias`) },
        };
      },
    };
  }
  const hidden = cfg.hidden_size;
  const heads = cfg.num_attention_heads;
  const headDim = cfg.head_dim ?? hidden / heads;
  const spec: ModelSpec = {
    family: 'llama', hidden, intermediate: cfg.intermediate_size, layers: cfg.num_hidden_layers, heads, kvHeads: cfg.num_key_value_heads ?? heads,
    headDim, vocab: cfg.vocab_size, maxPositions: cfg.max_position_embeddings, ropeTheta: cfg.rope_theta ?? 10000, norm: 'rms', normEps: cfg.rms_norm_eps,
  };
  const embed = await t('model.embed_tokens.weight');
  const lin = async (name: string, inF: number, outF: number) => ({ W: await t(name), in: inF, out: outF });
  return {
    spec,
    globals: { embed, finalNorm: { weight: await t('model.norm.weight') }, lmHead: cfg.tie_word_embeddings ? embed : await t('lm_head.weight') },
    block: async (b) => {
      const p = `model.layers.${b}`;
      const q = heads * headDim;
      const kv = spec.kvHeads * headDim;
      const I = spec.intermediate;
      return {
        linears: new Map([
          ['self_attn.q_proj', await lin(`${p}.self_attn.q_proj.weight`, hidden, q)],
          ['self_attn.k_proj', await lin(`${p}.self_attn.k_proj.weight`, hidden, kv)],
          ['self_attn.v_proj', await lin(`${p}.self_attn.v_proj.weight`, hidden, kv)],
          ['self_attn.o_proj', await lin(`${p}.self_attn.o_proj.weight`, q, hidden)],
          ['mlp.gate_proj', await lin(`${p}.mlp.gate_proj.weight`, hidden, I)],
          ['mlp.up_proj', await lin(`${p}.mlp.up_proj.weight`, hidden, I)],
          ['mlp.down_proj', await lin(`${p}.mlp.down_proj.weight`, I, hidden)],
        ]),
        norm1: { weight: await t(`${p}.input_layernorm.weight`) },
        norm2: { weight: await t(`${p}.post_attention_layernorm.weight`) },
      };
    },
  };
}

let rt: GpuRuntime;
beforeAll(async () => {
  rt = await nodeRuntime();
});
afterAll(() => rt?.destroy());

describe('GPU forward pass', () => {
  it('stories260K (llama, GQA, RoPE): greedy ids and top-5 logits', async () => {
    const ref = JSON.parse(readFileSync(new URL('stories260K/reference_greedy.json', MODELS), 'utf8'));
    const m = await load('stories260K');
    const g = new GpuGlobals(rt, m.spec, m.globals);
    const ids = await greedy(rt, g, m.block, ref.prompt_ids_with_bos, ref.greedy_ids_48.length);
    expect(ids).toEqual(ref.greedy_ids_48);
    const { lastLogits } = await scoreSequences(rt, g, m.block, Uint32Array.from(ref.prompt_ids_with_bos), ref.prompt_ids_with_bos.length);
    for (const [id, logit] of ref.last_prompt_logits_top5 as [number, number][]) expect(Math.abs(lastLogits[id] - logit)).toBeLessThan(1e-4);
    g.release();
  });

  it('makemore-names-gpt2 (Conv1D, learned positions, gelu_new): greedy ids and logits', async () => {
    const ref = JSON.parse(readFileSync(new URL('makemore-names-gpt2/reference_greedy.json', MODELS), 'utf8'));
    const m = await load('makemore-names-gpt2');
    const g = new GpuGlobals(rt, m.spec, m.globals);
    const ids = await greedy(rt, g, m.block, ref.start_ids, ref.greedy_ids.length);
    expect(ids).toEqual(ref.greedy_ids);
    const { lastLogits } = await scoreSequences(rt, g, m.block, Uint32Array.from(ref.start_ids), ref.start_ids.length);
    (ref.first_step_logits as number[]).forEach((logit, id) => expect(Math.abs(lastLogits[id] - logit)).toBeLessThan(1e-4));
    g.release();
  });

  it('scores many sequences at once as it scores them one by one', async () => {
    const m = await load('stories260K');
    const g = new GpuGlobals(rt, m.spec, m.globals);
    const seqlen = 16;
    const ids = Uint32Array.from({ length: 3 * seqlen }, (_, i) => (i * 37 + 11) % m.spec.vocab);
    const all = await scoreSequences(rt, g, m.block, ids, seqlen);
    expect(all.scored).toBe(3 * (seqlen - 1));
    for (let s = 0; s < 3; s++) {
      const one = await scoreSequences(rt, g, m.block, ids.subarray(s * seqlen, (s + 1) * seqlen), seqlen);
      for (let t = 0; t < seqlen; t++) expect(all.nll[s * seqlen + t]).toBeCloseTo(one.nll[t], 4);
    }
    g.release();
  });
});
