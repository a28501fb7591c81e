/**
 * Greedy generation with a KV cache against rerunning the whole sequence per token (greedy in
 * model-forward.ts) and against the f64 reference (src/core/model/forward-reference.ts): the same
 * ids, and the logits that chose the last id equal a full forward of the whole sequence, for llama
 * (stories260K, against transformers' ids in reference_greedy.json), gpt2 (learned positions), and
 * the family twins of src/testing/family-models.ts: gemma3 with sliding windows shorter than the
 * sequence, qwen3 GQA, OPT post-LN with project_in/out, phi3 partial RoPE with a sliding window.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeRuntime } from '../../testing/node-gpu';
import {
  MAKEMORE_NAMES, openSharedCheckpoint, readSharedModelJson, STORIES_260K, type MakemoreReference, type StoriesReference,
} from '../../testing/shared-models';
import { randomGemma3, randomOptPostLn, randomQwen3, sourcesOf, storiesAsGemma3, storiesAsPhi3, type ModelFiles } from '../../testing/family-models';
import { openCheckpoint, type Checkpoint } from '../../core/model/checkpoint';
import { forwardLogits, greedyGenerate, loadReferenceModel } from '../../core/model/forward-reference';
import type { GpuRuntime } from '../../gpu/runtime';
import { loadModel } from './load-model';
import { GpuGlobals, greedy, scoreSequences } from './model-forward';
import { generateGreedy } from './generate';

let rt: GpuRuntime;
beforeAll(async () => {
  rt = await nodeRuntime();
});
afterAll(() => rt?.destroy());

function worst(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/**
 * Generates `n` tokens with the cache (streamed ids in order), checks them against the f64
 * reference's greedy ids, and the last logits against a full GPU forward and the f64 forward of
 * the whole sequence. Returns the ids.
 */
async function check(ckpt: Checkpoint, prompt: number[], n: number, residentBytes?: number): Promise<number[]> {
  const m = await loadModel(ckpt);
  const ref = await loadReferenceModel(ckpt);
  const g = await GpuGlobals.load(rt, m.spec, m.globals);
  try {
    const streamed: number[] = [];
    const out = await generateGreedy(rt, g, m.block, prompt, n, {
      residentBytes,
      onToken: (id, i) => {
        expect(i).toBe(streamed.length);
        streamed.push(id);
      },
    });
    expect(out.cached).toBe(true);
    expect(streamed).toEqual(out.ids);
    expect(out.ids).toEqual(greedyGenerate(ref, prompt, n));
    const seq = [...prompt, ...out.ids.slice(0, -1)];
    const V = m.spec.vocab;
    const full = await scoreSequences(rt, g, m.block, Uint32Array.from(seq), seq.length);
    // Only the attention's summation order differs from the full forward (f32 rounding).
    expect(worst(out.lastLogits!, full.lastLogits)).toBeLessThan(5e-5);
    const f64 = forwardLogits(ref, seq).subarray((seq.length - 1) * V, seq.length * V);
    expect(worst(out.lastLogits!, f64)).toBeLessThan(1e-4);
    return out.ids;
  } finally {
    g.release();
  }
}

describe('greedy generation with a KV cache', () => {
  it("stories260K (llama, GQA 8/4, head_dim 8): transformers' 48 greedy ids, every block kept on the GPU or none", async () => {
    const ref = readSharedModelJson<StoriesReference>(STORIES_260K, 'reference_greedy.json');
    const ckpt = await openSharedCheckpoint(STORIES_260K);
    expect(await check(ckpt, ref.prompt_ids_with_bos, 48)).toEqual(ref.greedy_ids_48);
    // Blocks re-read and uploaded for every token give the same ids.
    expect(await check(ckpt, ref.prompt_ids_with_bos, 12, 0)).toEqual(ref.greedy_ids_48.slice(0, 12));
  });

  it('makemore-names-gpt2 (learned positions, fused c_attn): the greedy name', async () => {
    const ref = readSharedModelJson<MakemoreReference>(MAKEMORE_NAMES, 'reference_greedy.json');
    const ckpt = await openSharedCheckpoint(MAKEMORE_NAMES);
    expect(await check(ckpt, ref.start_ids, ref.greedy_ids.length)).toEqual(ref.greedy_ids);
  });

  it('a one-token prompt, and the same ids as rerunning the sequence per token', async () => {
    const ckpt = await openSharedCheckpoint(STORIES_260K);
    const m = await loadModel(ckpt);
    const g = await GpuGlobals.load(rt, m.spec, m.globals);
    try {
      const kv = await generateGreedy(rt, g, m.block, [1], 10);
      expect(kv.ids).toEqual(await greedy(rt, g, m.block, [1], 10));
    } finally {
      g.release();
    }
  });

  const longPrompt = Array.from({ length: 30 }, (_, i) => (i * 37 + 11) % 512);
  const twins: [string, () => Promise<ModelFiles> | ModelFiles, number[], number][] = [
    ['gemma3_text (sliding window 16: the prompt and the new tokens run past it)', storiesAsGemma3, longPrompt, 8],
    ['gemma3_text random (window 8, logit softcap)', randomGemma3, longPrompt.slice(0, 6), 10],
    ['qwen3 random (q/k norms, head_dim 32, GQA 4/2)', randomQwen3, longPrompt.slice(0, 12), 6],
    ['opt post-LN random (project_in/out, positions offset 2)', randomOptPostLn, longPrompt.slice(0, 12), 6],
    ['phi3 (fused qkv, 4 of 8 dims rotated, window 24, below the longrope switch at 32)', storiesAsPhi3, longPrompt.slice(0, 20), 8],
  ];
  for (const [name, files, prompt, n] of twins) {
    it(name, async () => {
      await check(await openCheckpoint(sourcesOf(await files())), prompt, n);
    });
  }

  it('phi3 across the longrope switch (frequencies change with the length): every token reruns the sequence, same ids', async () => {
    const ckpt = await openCheckpoint(sourcesOf(await storiesAsPhi3()));
    const m = await loadModel(ckpt);
    const ref = await loadReferenceModel(ckpt);
    const g = await GpuGlobals.load(rt, m.spec, m.globals);
    try {
      const prompt = longPrompt.slice(0, 28);
      const out = await generateGreedy(rt, g, m.block, prompt, 8);
      expect(out.cached).toBe(false);
      expect(out.ids).toEqual(greedyGenerate(ref, prompt, 8));
    } finally {
      g.release();
    }
  });

  it('stops where the context ends, and refuses an empty prompt or an id outside the vocabulary', async () => {
    const ckpt = await openCheckpoint(sourcesOf(await randomOptPostLn()));
    const m = await loadModel(ckpt);
    const g = await GpuGlobals.load(rt, m.spec, m.globals);
    try {
      const max = m.spec.maxPositions;
      const prompt = Array.from({ length: max - 2 }, (_, i) => (i * 7) % m.spec.vocab);
      const out = await generateGreedy(rt, g, m.block, prompt, 10);
      expect(out.ids).toEqual(await greedy(rt, g, m.block, prompt, 10));
      expect(out.ids.length).toBe(3);
      await expect(generateGreedy(rt, g, m.block, [], 3)).rejects.toThrow(/empty prompt/);
      await expect(generateGreedy(rt, g, m.block, [1, m.spec.vocab], 3)).rejects.toThrow(/outside the model's vocabulary/);
    } finally {
      g.release();
    }
  });
});
