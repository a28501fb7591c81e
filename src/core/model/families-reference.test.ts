/**
 * The f64 reference on the families beyond llama/gpt2, checked where the function is known: OPT
 * holding GPT-2's trained weights gives GPT-2's logits (from transformers, reference_greedy.json);
 * llama3 RoPE with factor 1 is stories260K itself; qwen3's per-head q/k norms make each head's
 * projection scale irrelevant; Gemma 3's sliding window changes only positions beyond it; the
 * embedding scale and (1 + w) norms are what Gemma3TextScaledWordEmbedding and Gemma3RMSNorm compute;
 * Phi-3's fused projections and SmolLM3 with RoPE on every layer are stories260K itself.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { applyNorm, causalAttention, embed, forwardLogits, greedyGenerate, loadReferenceModel, rmsNorm, type ReferenceModel } from './forward-reference';
import { openCheckpoint } from './checkpoint';
import { MAKEMORE_NAMES, openSharedCheckpoint, readSharedModelJson, STORIES_260K, type MakemoreReference, type StoriesReference } from '../../testing/shared-models';
import { makemoreAsOpt, sourcesOf, storiesAsGemma3, storiesAsPhi3, storiesAsQwen3, storiesAsSmolLM3, storiesWithConfig, type ModelFiles } from '../../testing/family-models';

async function reference(files: ModelFiles): Promise<ReferenceModel> {
  return loadReferenceModel(await openCheckpoint(sourcesOf(files)));
}

function maxDiff(a: Float64Array, b: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const stories = readSharedModelJson<StoriesReference>(STORIES_260K, 'reference_greedy.json');

describe('opt (modeling_opt.py) holding makemore-names-gpt2', () => {
  let opt: ReferenceModel;
  let gpt2: ReferenceModel;
  beforeAll(async () => {
    opt = await reference(await makemoreAsOpt());
    gpt2 = await loadReferenceModel(await openSharedCheckpoint(MAKEMORE_NAMES));
  });

  it("gives GPT-2's logits from transformers (reference_greedy.json) and its greedy name", () => {
    const ref = readSharedModelJson<MakemoreReference>(MAKEMORE_NAMES, 'reference_greedy.json');
    const logits = forwardLogits(opt, ref.start_ids);
    ref.first_step_logits.forEach((x, i) => expect(Math.abs(logits[i] - x)).toBeLessThan(1e-4));
    expect(greedyGenerate(opt, ref.start_ids, 15, [0])).toEqual([...ref.greedy_ids, 0]);
  });

  it('the same function as the GPT-2 reference at every position of a full context (positions read from row 2 on)', () => {
    const ids = [0, 5, 13, 13, 1, 0, 15, 12, 9, 22, 9, 1, 0, 1, 22, 1];
    expect(maxDiff(forwardLogits(opt, ids), forwardLogits(gpt2, ids))).toBeLessThan(1e-9);
  });
});

describe('llama with rope_scaling (modeling_rope_utils.py)', () => {
  it('llama3 with factor 1 is plain RoPE: stories260K reference logits and greedy ids', async () => {
    const model = await reference(await storiesWithConfig({
      rope_scaling: { rope_type: 'llama3', factor: 1.0, low_freq_factor: 1.0, high_freq_factor: 4.0, original_max_position_embeddings: 64 },
    }));
    expect(model.layout.layerAttention(0).rope?.scaling?.type).toBe('llama3');
    const T = stories.prompt_ids_with_bos.length;
    const logits = forwardLogits(model, stories.prompt_ids_with_bos);
    for (const [id, x] of stories.last_prompt_logits_top5) expect(Math.abs(logits[(T - 1) * 512 + id] - x)).toBeLessThan(1e-4);
    expect(greedyGenerate(model, stories.prompt_ids_with_bos, 16)).toEqual(stories.greedy_ids_48.slice(0, 16));
  });

  it('llama3 with factor 32 changes only positions after the first (position 0 is not rotated)', async () => {
    const plain = await loadReferenceModel(await openSharedCheckpoint(STORIES_260K));
    const scaled = await reference(await storiesWithConfig({
      rope_scaling: { rope_type: 'llama3', factor: 32.0, low_freq_factor: 1.0, high_freq_factor: 4.0, original_max_position_embeddings: 64 },
    }));
    const ids = stories.prompt_ids_with_bos;
    const a = forwardLogits(plain, ids);
    const b = forwardLogits(scaled, ids);
    expect(maxDiff(a.subarray(0, 512), b.subarray(0, 512))).toBeLessThan(1e-12);
    expect(maxDiff(a, b)).toBeGreaterThan(1e-3);
  });
});

describe('qwen3 (modeling_qwen3.py: q_norm / k_norm per head before RoPE)', () => {
  it('scaling one head of q_proj and k_proj leaves the model unchanged: each head is normalised on its own', async () => {
    const model = await reference(await storiesAsQwen3());
    const ids = stories.prompt_ids_with_bos;
    const before = forwardLogits(model, ids);
    const scaleRows = (name: string, rows: [number, number], c: number) => {
      const W = Float32Array.from(model.weights.get(name)!);
      for (let i = rows[0] * 64; i < rows[1] * 64; i++) W[i] *= c;
      model.weights.set(name, W);
    };
    scaleRows('model.layers.0.self_attn.q_proj.weight', [0, 8], 4); // head 0 of 8
    scaleRows('model.layers.0.self_attn.q_proj.weight', [8, 16], 0.25); // head 1
    scaleRows('model.layers.2.self_attn.k_proj.weight', [8, 16], 2); // kv head 1 of 4
    expect(maxDiff(forwardLogits(model, ids), before)).toBeLessThan(1e-3);
    // Without the norms the same change is visible.
    const llama = await loadReferenceModel(await openSharedCheckpoint(STORIES_260K));
    const plainBefore = forwardLogits(llama, ids);
    llama.weights.set('model.layers.0.self_attn.q_proj.weight', model.weights.get('model.layers.0.self_attn.q_proj.weight')!);
    expect(maxDiff(forwardLogits(llama, ids), plainBefore)).toBeGreaterThan(0.1);
  });
});

describe('gemma3_text (modeling_gemma3.py)', () => {
  let model: ReferenceModel;
  beforeAll(async () => {
    model = await reference(await storiesAsGemma3());
  });

  it('embeddings are E[id] · √hidden (stored divided by 8, so these are stories260K rows)', async () => {
    const E = await (await openSharedCheckpoint(STORIES_260K)).readTensor('model.embed_tokens.weight');
    expect(model.layout.embedScale).toBe(8);
    const X = embed(model, [1, 403]);
    for (let i = 0; i < 64; i++) {
      expect(X[i]).toBe(E[64 + i]);
      expect(X[64 + i]).toBe(E[403 * 64 + i]);
    }
  });

  it('(1 + w) RMSNorm is the RMSNorm of weight 1 + w', () => {
    const X = Float64Array.from([1, -2, 3, 0.5, 4, 4, -1, 0]);
    const w = Float32Array.from([0.5, -0.25, 0, 1]);
    const spec = { name: 'n', bias: false, size: 4, kind: 'rms_plus_one' as const, eps: 1e-6 };
    expect(Array.from(applyNorm(spec, X, 2, w))).toEqual(Array.from(rmsNorm(X, 2, 4, [1.5, 0.75, 1, 2], 1e-6)));
  });

  it('sliding layers see only the last 16 positions: the first 16 positions are those of a model without windows', async () => {
    const files = await storiesAsGemma3();
    const config = JSON.parse(new TextDecoder().decode(files.get('config.json')!)) as Record<string, unknown>;
    const wide = new Map(files);
    wide.set('config.json', new TextEncoder().encode(JSON.stringify({ ...config, sliding_window: 512 })));
    const unwindowed = await reference(wide);
    const ids = Array.from({ length: 40 }, (_, i) => (i * 37 + 11) % 512);
    const a = forwardLogits(model, ids);
    const b = forwardLogits(unwindowed, ids);
    expect(maxDiff(a.subarray(0, 16 * 512), b.subarray(0, 16 * 512))).toBeLessThan(1e-12);
    expect(maxDiff(a.subarray(16 * 512), b.subarray(16 * 512))).toBeGreaterThan(1e-3);
  });

  it('causal attention with a window: query t sees keys t − window < s ≤ t (window 1: its own value)', () => {
    const T = 5;
    const Q = Float64Array.from({ length: T }, (_, t) => t);
    const K = Float64Array.from({ length: T }, () => 1);
    const V = Float64Array.from({ length: T }, (_, t) => 10 * t);
    expect(Array.from(causalAttention(Q, 1, 0, K, V, 1, 0, 0, T, 1, 1, 1, 1, 1))).toEqual([0, 10, 20, 30, 40]);
    const two = causalAttention(Q, 1, 0, K, V, 1, 0, 0, T, 1, 1, 1, 0, 2); // scale 0: uniform weights
    expect(Array.from(two)).toEqual([0, 5, 15, 25, 35]);
  });
});

describe('phi3 (modeling_phi3.py) and smollm3 (modeling_smollm3.py) holding stories260K', () => {
  const storiesLogits = async () => forwardLogits(await loadReferenceModel(await openSharedCheckpoint(STORIES_260K)), stories.prompt_ids_with_bos);

  it('phi3 with fused qkv_proj / gate_up_proj, full rotary and no scaling is stories260K', async () => {
    const phi3 = await reference(await storiesAsPhi3({}));
    expect(maxDiff(forwardLogits(phi3, stories.prompt_ids_with_bos), await storiesLogits())).toBeLessThan(1e-9);
    expect(greedyGenerate(phi3, stories.prompt_ids_with_bos, 8)).toEqual(stories.greedy_ids_48.slice(0, 8));
  });

  it('phi3 with partial rotary, longrope and a window of 24: positions below the window are those of the model without it', async () => {
    const windowed = await reference(await storiesAsPhi3());
    const files = await storiesAsPhi3();
    const config = JSON.parse(new TextDecoder().decode(files.get('config.json')!)) as Record<string, unknown>;
    files.set('config.json', new TextEncoder().encode(JSON.stringify({ ...config, sliding_window: null })));
    const open = await reference(files);
    expect(windowed.layout.layerAttention(0)).toMatchObject({ window: 24, rope: { dim: 4 } });
    const ids = Array.from({ length: 40 }, (_, i) => (i * 37 + 11) % 512);
    const a = forwardLogits(windowed, ids);
    const b = forwardLogits(open, ids);
    expect(maxDiff(a.subarray(0, 24 * 512), b.subarray(0, 24 * 512))).toBeLessThan(1e-12);
    expect(maxDiff(a.subarray(24 * 512), b.subarray(24 * 512))).toBeGreaterThan(1e-3);
  });

  it('smollm3 with RoPE on every layer is stories260K; no_rope_layers 0 removes it from those layers', async () => {
    const all = await reference(await storiesAsSmolLM3([1, 1, 1, 1, 1]));
    expect(maxDiff(forwardLogits(all, stories.prompt_ids_with_bos), await storiesLogits())).toBeLessThan(1e-12);
    const nope = await reference(await storiesAsSmolLM3());
    expect(nope.layout.layerAttention(2).rope).toBeNull();
    expect(maxDiff(forwardLogits(nope, stories.prompt_ids_with_bos), await storiesLogits())).toBeGreaterThan(1e-3);
  });
});
