/**
 * A run's RTN model made again from the original weights (src/engine/rtn-weights.ts) is bit for bit
 * the RTN the run measured its per-layer RTN error on: for every linear, the codes, scales, zeros,
 * g_idx and dequantized weights of `GptqLayer.rtn` on the block's weights with the linear's own
 * options, as the run keeps them (asStored: F16 scales with an F16 export). On stories260K with its
 * MLP padded 172 → 192 (the export's width), a mixed-width run (bitsOf) on an asymmetric grid with
 * the MSE search, stored and F16 scales; and the streamed evaluation's RTN perplexity is the one of
 * those codes kept as the run kept them before (fails if RTN is made on other weights or options).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeRuntime } from '../testing/node-gpu';
import { openSharedCheckpoint, readCorpus, STORIES_260K } from '../testing/shared-models';
import { loadTokenizer } from '../core/model/tokenizer';
import { calibrationWindows, evaluationWindows, textToIds } from '../core/model/calibration';
import { defaultRunSettings, type RunSettings } from '../core/run';
import { halfScaled, roundHalf } from '../core/export/f16';
import { mlpLinears } from '../core/export/plan';
import { PackedQuant } from '../core/packed-quant';
import type { GpuRuntime } from '../gpu/runtime';
import { loadModel, type LoadedModel } from './model/load-model';
import { padMlpWidth } from './model/pad-mlp';
import { GptqLayer } from './gptq-layer';
import { quantizeModel, weightKey, type QuantizedWeights } from './quantize-model';
import { perplexities } from './evaluate';
import type { RtnModel } from './rtn-weights';

let rt: GpuRuntime;
let model: LoadedModel;
let windows: Uint32Array;
let evalIds: Uint32Array;
const seqlen = 32;
const settings: RunSettings = { ...defaultRunSettings, bits: 3, groupSize: 32, nsamples: 2, seqlen, sym: false, mse: true, actOrder: true };
/** Widths of a mixed run: 8, 5 and 2 bits beside the base 3. */
const bitsOf = (b: number, name: string) => (name === 'mlp.down_proj' ? 8 : name === 'self_attn.v_proj' ? 5 : b === 3 ? 2 : settings.bits);

beforeAll(async () => {
  rt = await nodeRuntime();
  const ckpt = await openSharedCheckpoint(STORIES_260K);
  model = padMlpWidth(await loadModel(ckpt), mlpLinears(ckpt.layout), 192);
  const tok = loadTokenizer(ckpt.tokenizerJson!, ckpt.tokenizerConfigJson);
  const ids = textToIds(tok, readCorpus('stories260K_generated_200_seed20251122.txt').slice(0, 12_000));
  windows = Uint32Array.from(calibrationWindows(ids, settings.nsamples, seqlen, 0).flat());
  evalIds = Uint32Array.from(evaluationWindows(ids.slice(ids.length >> 1), seqlen).slice(0, 3).flat());
});
afterAll(() => rt?.destroy());

/**
 * What the run measured RTN's error on and kept before RTN was made again: GptqLayer.rtn with the
 * linear's options on the block's weights, asStored, packed at the linear's width.
 */
async function asMeasured(b: number, name: string, W: Float32Array, rows: number, cols: number, half: boolean) {
  const bits = bitsOf(b, name);
  const layer = new GptqLayer(rt, `test.block${b}.${name}`, W, rows, cols);
  try {
    const r = await layer.rtn(bits === settings.bits ? settings : { ...settings, bits });
    const stored = half ? halfScaled(r) : r;
    return { Q: Float32Array.from(stored.Q), packed: PackedQuant.of(stored, bits) };
  } finally {
    layer.dispose();
  }
}

/** An RtnModel of codes kept as they are. */
function kept(codes: Map<string, PackedQuant>): RtnModel {
  return {
    has: (key) => codes.has(key),
    linear: async (_rt, b, name) => codes.get(weightKey(b, name)),
    block: async (_rt, b, host) => new Map([...host.linears.keys()].flatMap((n) => (codes.has(weightKey(b, n)) ? [[n, codes.get(weightKey(b, n))!]] : []))),
  };
}

describe("a run's RTN model made again", () => {
  for (const half of [false, true]) {
    it(`gives the codes, grid and weights the run measured, bit for bit (mixed widths, ${half ? 'F16' : 'stored'} scales)`, async () => {
      const skip = new Set(['self_attn.o_proj']);
      const q: QuantizedWeights = await quantizeModel(rt, model, windows, settings, {}, { halfScales: half, bitsOf, skip });
      expect(q.layers).toHaveLength(model.spec.layers * 6);
      const before = new Map<string, PackedQuant>();
      const widths = new Set<number>();
      for (let b = 0; b < model.spec.layers; b++) {
        const host = await model.block(b);
        const remade = await q.rtn.block(rt, b, host);
        // The linears the run left alone have no RTN model either.
        expect([...remade.keys()].sort()).toEqual([...host.linears.keys()].filter((n) => !skip.has(n)).sort());
        expect(q.rtn.has(weightKey(b, 'self_attn.o_proj'))).toBe(false);
        expect(await q.rtn.linear(rt, b, 'self_attn.o_proj', host.linears.get('self_attn.o_proj')!)).toBeUndefined();
        for (const [name, p] of remade) {
          const l = host.linears.get(name)!;
          const want = await asMeasured(b, name, l.W, l.out, l.in, half);
          expect([p.rows, p.cols, p.bits, p.groups]).toEqual([want.packed.rows, want.packed.cols, want.packed.bits, want.packed.groups]);
          expect(p.words).toEqual(want.packed.words);
          expect(p.scales).toEqual(want.packed.scales);
          expect(p.zeros).toEqual(want.packed.zeros);
          expect(p.gIdx).toEqual(want.packed.gIdx);
          // The weights the run's RTN MSE was measured on (with F16 scales, Q recomputed from them).
          expect(p.Q).toEqual(want.Q);
          before.set(weightKey(b, name), want.packed);
          widths.add(p.bits);
        }
      }
      expect([...widths].sort()).toEqual([2, 3, 5, 8]);
      if (half) {
        // The F16 rounding moved scales (so the equalities above hold with it, not without it).
        const l = (await model.block(0)).linears.get('mlp.up_proj')!;
        const stored = await asMeasured(0, 'mlp.up_proj', l.W, l.out, l.in, false);
        const p = before.get(weightKey(0, 'mlp.up_proj'))!;
        expect(p.scales).not.toEqual(stored.packed.scales);
        expect(p.scales.every((x) => roundHalf(x) === x)).toBe(true);
      }
      // The evaluation's RTN model is the one of the codes the run kept before: the same perplexities.
      const now = await perplexities(rt, model, q, evalIds, seqlen, 2, { half });
      const old = await perplexities(rt, model, { ...q, rtn: kept(before) }, evalIds, seqlen, 2, { half });
      expect(now).toEqual(old);
      expect(now.rtn).not.toBe(now.original);
    }, 300_000);
  }
});
