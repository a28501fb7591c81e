/**
 * The full forward's attention kernel per device (src/gpu/kernels/attention-choice.ts): the
 * per-query kernel until the device is timed (and when the timing fails), the probe's choice by
 * the margin rule from its own timings, once per device, with its buffers freed; and the model's
 * perplexity with each kernel forced agrees to 1e-5 relative (stories260K: 4 windows of 100
 * tokens, not multiples of the 8-query and 64-key tiles; GQA 8/4 heads of 8).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeRuntime } from '../testing/node-gpu';
import { openSharedCheckpoint, readCorpus, STORIES_260K } from '../testing/shared-models';
import { loadTokenizer } from '../core/model/tokenizer';
import { evaluationWindows, textToIds } from '../core/model/calibration';
import { chooseAttentionKernel, TILED_ATTENTION_MARGIN, UNPROBED_ATTENTION, type AttentionKernel } from '../core/kernel-choice';
import { attentionChoiceOf, tuneAttention, useAttentionKernel } from '../gpu/kernels/attention-choice';
import { kernelChoicesOf } from '../gpu/kernels/choices';
import { gemmVariantOf } from '../gpu/kernels/gemm';
import { loadModel } from './model/load-model';
import { GpuGlobals } from './model/model-forward';
import { perplexity } from './evaluate';
import type { GpuRuntime } from '../gpu/runtime';

const runtimes: GpuRuntime[] = [];
async function freshRuntime(): Promise<GpuRuntime> {
  const rt = await nodeRuntime();
  runtimes.push(rt);
  return rt;
}
afterAll(() => {
  for (const rt of runtimes) rt.destroy();
});

describe('the attention probe', () => {
  let rt: GpuRuntime;
  beforeAll(async () => {
    rt = await freshRuntime();
  });

  it('uses the per-query kernel until the device is timed; then the kernel the margin rule picks from the probe, once per device', async () => {
    expect(attentionChoiceOf(rt.device)).toEqual(UNPROBED_ATTENTION);
    expect(UNPROBED_ATTENTION.kernel).toBe('per-query');
    const inUse = rt.pool.stats.bytesInUse;
    const choice = await tuneAttention(rt);
    const p = choice.probe!;
    expect(p).not.toBeNull();
    expect(p.perQueryMs).toBeGreaterThan(0);
    expect(p.tiledMs).toBeGreaterThan(0);
    expect(choice.margin).toBe(TILED_ATTENTION_MARGIN);
    expect(choice.kernel).toBe(chooseAttentionKernel(p.perQueryMs!, p.tiledMs!));
    expect(p.shape).toMatchObject({ seqlen: 64, heads: 4, kvHeads: 2, headDim: 64 });
    expect(p.shape.sequences).toBeGreaterThanOrEqual(4);
    expect(attentionChoiceOf(rt.device)).toBe(choice);
    expect(await tuneAttention(rt)).toBe(choice);
    expect(kernelChoicesOf(rt.device)).toEqual({ gemm: gemmVariantOf(rt.device).name, attention: choice });
    expect(rt.pool.stats.bytesInUse).toBe(inUse);
  }, 120_000);

  it('a probe that fails (a lost device) leaves the per-query kernel', async () => {
    const dead = await nodeRuntime();
    dead.destroy();
    expect(await tuneAttention(dead)).toEqual(UNPROBED_ATTENTION);
    expect(attentionChoiceOf(dead.device)).toEqual(UNPROBED_ATTENTION);
  });

  it('a forced kernel is kept by a later tuneAttention', async () => {
    const forced = await freshRuntime();
    useAttentionKernel(forced, 'tiled');
    expect((await tuneAttention(forced)).kernel).toBe('tiled');
    expect(attentionChoiceOf(forced.device).kernel).toBe('tiled');
  });
});

describe('the model with each kernel forced', () => {
  it('stories260K: perplexities within 1e-5 relative, not bit-identical (the forced kernel ran)', async () => {
    const ckpt = await openSharedCheckpoint(STORIES_260K);
    const model = await loadModel(ckpt);
    const tok = loadTokenizer(ckpt.tokenizerJson!, ckpt.tokenizerConfigJson);
    const seqlen = 100;
    const ids = textToIds(tok, readCorpus('aesop_fables_body_reflowed.txt').slice(0, 4000));
    const windows = Uint32Array.from(evaluationWindows(ids, seqlen).slice(0, 4).flat());
    expect(windows.length).toBe(4 * seqlen);
    const ppl = {} as Record<AttentionKernel, number>;
    for (const kernel of ['per-query', 'tiled'] as const) {
      const rt = await freshRuntime();
      useAttentionKernel(rt, kernel);
      const globals = await GpuGlobals.load(rt, model.spec, model.globals);
      try {
        ppl[kernel] = await perplexity(rt, globals, model.block, windows, seqlen, 2);
      } finally {
        globals.release();
      }
    }
    expect(Number.isFinite(ppl['per-query'])).toBe(true);
    expect(Math.abs(ppl.tiled - ppl['per-query']) / ppl['per-query']).toBeLessThan(1e-5);
    expect(ppl.tiled).not.toBe(ppl['per-query']);
  }, 300_000);
});
