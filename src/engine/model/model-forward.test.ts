/** The GPU forward pass against the f64 runs in ../shared/models/NAME/reference_greedy.json. */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { nodeRuntime } from '../../testing/node-gpu';
import {
  MAKEMORE_NAMES,
  openSharedCheckpoint,
  readSharedModelJson,
  STORIES_260K,
  type MakemoreReference,
  type StoriesReference,
} from '../../testing/shared-models';
import { loadModel } from './load-model';
import { GpuGlobals, greedy, scoreSequences } from './model-forward';
import type { GpuRuntime } from '../../gpu/runtime';

async function load(name: string) {
  return loadModel(await openSharedCheckpoint(name));
}

let rt: GpuRuntime;
beforeAll(async () => {
  rt = await nodeRuntime();
});
afterAll(() => rt?.destroy());

describe('GPU forward pass', () => {
  it('stories260K (llama, GQA, RoPE): greedy ids and top-5 logits', async () => {
    const ref = readSharedModelJson<StoriesReference>(STORIES_260K, 'reference_greedy.json');
    const m = await load(STORIES_260K);
    const g = await GpuGlobals.load(rt, m.spec, m.globals);
    const ids = await greedy(rt, g, m.block, ref.prompt_ids_with_bos, ref.greedy_ids_48.length);
    expect(ids).toEqual(ref.greedy_ids_48);
    const { lastLogits } = await scoreSequences(rt, g, m.block, Uint32Array.from(ref.prompt_ids_with_bos), ref.prompt_ids_with_bos.length);
    for (const [id, logit] of ref.last_prompt_logits_top5) expect(Math.abs(lastLogits[id] - logit)).toBeLessThan(1e-4);
    g.release();
  });

  it('makemore-names-gpt2 (Conv1D, learned positions, gelu_new): greedy ids and logits', async () => {
    const ref = readSharedModelJson<MakemoreReference>(MAKEMORE_NAMES, 'reference_greedy.json');
    const m = await load(MAKEMORE_NAMES);
    const g = await GpuGlobals.load(rt, m.spec, m.globals);
    const ids = await greedy(rt, g, m.block, ref.start_ids, ref.greedy_ids.length);
    expect(ids).toEqual(ref.greedy_ids);
    const { lastLogits } = await scoreSequences(rt, g, m.block, Uint32Array.from(ref.start_ids), ref.start_ids.length);
    ref.first_step_logits.forEach((logit, id) => expect(Math.abs(lastLogits[id] - logit)).toBeLessThan(1e-4));
    g.release();
  });

  it('scores many sequences at once as it scores them one by one', async () => {
    const m = await load(STORIES_260K);
    const g = await GpuGlobals.load(rt, m.spec, m.globals);
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
