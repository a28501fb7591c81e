/**
 * AWQ on the GPU (src/engine/awq.ts) against the f64 reference (src/core/awq-reference.ts): the
 * error at every grid point, the α chosen, the codes and Ŵ, on a group of two linears whose inputs
 * have a few large channels (the case AWQ is for), whole and with bindings cut into row windows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeRuntime } from '../testing/node-gpu';
import { gaussian, seededRandom } from '../testing/random';
import type { GpuRuntime } from '../gpu/runtime';
import { awqGroup, awqScaledSets } from './awq';
import { AWQ_GRID, activationScale, awqReference, awqScales } from '../core/awq-reference';
import type { QuantOptions } from '../core/types';
import { parseModelConfig } from '../core/model/config';
import { modelLayout } from '../core/model/architecture';

let rt: GpuRuntime;
let sliced: GpuRuntime;
beforeAll(async () => {
  rt = await nodeRuntime();
  // 8 KiB bindings: the 48-row linear (ld 128) is bound 16 rows at a time, X 16 tokens at a time.
  sliced = await nodeRuntime({ bindingLimit: 8192 });
});
afterAll(() => {
  rt?.destroy();
  sliced?.destroy();
});

const cols = 96;
const tokens = 160;
const shapes = [48, 40];

function problem(seed: number) {
  const rand = seededRandom(seed);
  const big = new Set([3, 17, 50, 51, 90]);
  const X = Float32Array.from({ length: tokens * cols }, (_, i) => gaussian(rand) * (big.has(i % cols) ? 12 : 1));
  const Ws = shapes.map((rows) => Float32Array.from({ length: rows * cols }, () => gaussian(rand) * 0.1));
  return { X, Ws };
}

describe('AWQ on the GPU', () => {
  const grids: Pick<QuantOptions, 'bits' | 'groupSize' | 'sym' | 'mse'>[] = [
    { bits: 3, groupSize: 32, sym: true, mse: false },
    { bits: 4, groupSize: -1, sym: false, mse: true },
  ];
  for (const grid of grids) {
    it.each([['one binding', () => rt], ['row windows', () => sliced]])(`matches the f64 search at ${grid.bits} bits, group ${grid.groupSize}${grid.sym ? '' : ' asym'}${grid.mse ? ' mse' : ''} (%s)`, async (_, runtime) => {
      const r = runtime();
      const { X, Ws } = problem(grid.bits);
      const ref = awqReference(Ws.map((W, i) => ({ W, rows: shapes[i] })), X, tokens, cols, grid);
      const Xg = r.matrix(tokens, cols, 'test.X');
      r.uploadMatrix(Xg, X);
      const mats = Ws.map((W, i) => {
        const m = r.matrix(shapes[i], cols, `test.W${i}`);
        r.uploadMatrix(m, W);
        return m;
      });
      try {
        const got = await awqGroup(r, 'test', Ws.map((W, i) => ({ name: `l${i}`, W: mats[i], hostW: W })), Xg, grid);
        expect(got.errors).toHaveLength(AWQ_GRID);
        // Symmetric grids put a weight of every group exactly on a rounding tie (docs/engine.md), which
        // f32 and f64 may break differently: the errors agree to 1%, and the α chosen is the
        // reference's or one whose reference error is within that of the best.
        got.errors.forEach((e, i) => expect(Math.abs(e - ref.errors[i]) / ref.errors[i], `α ${i / AWQ_GRID}`).toBeLessThan(2e-2));
        expect(ref.errors[got.index]).toBeLessThanOrEqual(ref.errors[ref.index] * 1.01);
        // The large channels make scaling worth it: some α > 0 beats plain RTN (α = 0).
        expect(ref.index).toBeGreaterThan(0);
        expect(got.errors[got.index]).toBeLessThan(0.9 * got.errors[0]);
        // x̄ is summed in f32 on the GPU.
        got.s.forEach((v, c) => expect(Math.abs(v - ref.s[c])).toBeLessThan(1e-5 * ref.s[c]));
        for (const [i, l] of ref.linears.entries()) {
          const mine = got.linears.get(`l${i}`)!;
          const W = Ws[i];
          const G = l.scaled.groups;
          const gs = grid.groupSize === -1 ? cols : grid.groupSize;
          let same = 0;
          for (let j = 0; j < l.scaled.codes.length; j++) {
            if (mine.scaled.codes[j] === l.scaled.codes[j]) {
              same++;
              expect(Math.abs(mine.What[j] - l.What[j])).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(l.What[j])));
            } else {
              // Codes differ only where W·s / scale sits on a rounding tie (to f32 precision).
              const r = Math.floor(j / cols);
              const c = j % cols;
              const g = Math.min(G - 1, Math.floor(c / gs));
              const x = (W[j] * ref.s[c]) / l.scaled.scales[g * shapes[i] + r];
              expect(Math.abs(Math.abs(x - Math.floor(x)) - 0.5), `code ${j}`).toBeLessThan(1e-4);
            }
          }
          expect(same / l.scaled.codes.length).toBeGreaterThan(0.99);
        }
      } finally {
        r.release(Xg, ...mats);
      }
    });
  }

  it('a fixed grid point gives that α without a search; α = 0 is plain RTN', async () => {
    const { X, Ws } = problem(7);
    const Xg = rt.matrix(tokens, cols, 'test.X');
    rt.uploadMatrix(Xg, X);
    const W = rt.matrix(shapes[0], cols, 'test.W');
    rt.uploadMatrix(W, Ws[0]);
    const grid = { bits: 4, groupSize: 32, sym: true, mse: false };
    const zero = await awqGroup(rt, 'test', [{ name: 'l', W, hostW: Ws[0] }], Xg, grid, { alphaIndex: 0 });
    expect(zero.errors).toEqual([]);
    expect(zero.alpha).toBe(0);
    const ref = awqReference([{ W: Ws[0], rows: shapes[0] }], X, tokens, cols, grid);
    expect(Array.from(awqScales(activationScale(X, tokens, cols), 0)).every((v) => v === 1)).toBe(true);
    // s = 1 at α = 0: the codes are RTN's.
    expect(zero.s.every((v) => v === 1)).toBe(true);
    expect(ref.errors[0]).toBeGreaterThan(0);
    rt.release(Xg, W);
  });

  it('scales the sets llm-awq scales, read off each family\'s block description', () => {
    const layout = (raw: object) => modelLayout(parseModelConfig(JSON.stringify(raw))).block;
    const llama = (kv: number) => layout({ architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: 64, intermediate_size: 128,
      num_attention_heads: 8, num_key_value_heads: kv, num_hidden_layers: 2, vocab_size: 32, max_position_embeddings: 64, rms_norm_eps: 1e-5 });
    const sets = awqScaledSets(llama(4), 8, 4);
    expect(sets.map((s) => s.linears.join('+'))).toEqual([
      'self_attn.q_proj+self_attn.k_proj+self_attn.v_proj', 'mlp.gate_proj+mlp.up_proj', 'mlp.down_proj',
    ]);
    expect(sets.map((s) => s.foldInto)).toEqual(['input_layernorm', 'post_attention_layernorm', 'mlp.up_proj (its rows)']);
    expect(awqScaledSets(llama(8), 8, 8).map((s) => s.linears[0])).toContain('self_attn.o_proj');
    const gpt2 = layout({ architectures: ['GPT2LMHeadModel'], model_type: 'gpt2', n_embd: 64, n_head: 4, n_layer: 2, n_positions: 64, vocab_size: 32 });
    expect(awqScaledSets(gpt2, 4, 4).map((s) => [s.linears[0], s.foldInto])).toEqual([
      ['attn.c_attn', 'ln_1'], ['mlp.c_fc', 'ln_2'], ['mlp.c_proj', 'the gelu_tanh (a scaled activation)'],
    ]);
    // OPT: fc2 after fc1's rows (ReLU is positively homogeneous), out_proj after v_proj.
    const opt = layout({ architectures: ['OPTForCausalLM'], model_type: 'opt', activation_function: 'relu', hidden_size: 64, ffn_dim: 128,
      num_attention_heads: 4, num_hidden_layers: 2, vocab_size: 32, max_position_embeddings: 64, do_layer_norm_before: true, word_embed_proj_dim: 64 });
    expect(awqScaledSets(opt, 4, 4).map((s) => [s.linears.join('+'), s.foldInto])).toEqual([
      ['self_attn.q_proj+self_attn.k_proj+self_attn.v_proj', 'self_attn_layer_norm'], ['self_attn.out_proj', 'self_attn.v_proj (its rows)'],
      ['fc1', 'final_layer_norm'], ['fc2', 'fc1 (its rows)'],
    ]);
    // Post-LN: q/k/v read the previous block's final_layer_norm output, fc1 self_attn_layer_norm's.
    const postLn = layout({ architectures: ['OPTForCausalLM'], model_type: 'opt', activation_function: 'relu', hidden_size: 64, ffn_dim: 128,
      num_attention_heads: 4, num_hidden_layers: 2, vocab_size: 32, max_position_embeddings: 64, do_layer_norm_before: false, word_embed_proj_dim: 64 });
    expect(awqScaledSets(postLn, 4, 4).map((s) => s.foldInto)).toEqual([
      'the previous block\'s final_layer_norm (post-LN)', 'self_attn.v_proj (its rows)', 'self_attn_layer_norm (post-LN)', 'fc1 (its rows)',
    ]);
  });
});
