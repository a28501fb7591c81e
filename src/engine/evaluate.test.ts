/**
 * The streamed evaluation (the three models block by block on shared windows and one set of
 * globals, the RTN and GPTQ blocks dequantized on the GPU from the packed codes) gives exactly the
 * perplexities of evaluating each model on its own with its weights dequantized on the host, as
 * runs did before: stories260K as stored (F32: the F16 globals as a second matrix) and in BF16
 * with a few F16-subnormal embedding values (held as BF16, the F16 values as a patch of it; the same
 * numbers as those values held as F32), makemore (GPT-2: learned positions, biases).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeRuntime } from '../testing/node-gpu';
import { MAKEMORE_NAMES, readCorpus, STORIES_260K } from '../testing/shared-models';
import { editedModel, sourcesOf } from '../testing/model-variants';
import { openCheckpoint } from '../core/model/checkpoint';
import { loadTokenizer } from '../core/model/tokenizer';
import { calibrationWindows, evaluationWindows, textToIds } from '../core/model/calibration';
import { defaultRunSettings, type ModelVariant, type RunSettings } from '../core/run';
import { loadModel } from './model/load-model';
import { GpuGlobals } from './model/model-forward';
import { quantizeModel } from './quantize-model';
import { forEachVariant, perplexities, perplexity, variantModels } from './evaluate';
import type { GpuRuntime } from '../gpu/runtime';

let rt: GpuRuntime;
beforeAll(async () => {
  rt = await nodeRuntime();
});
afterAll(() => rt?.destroy());

const cases = [
  { label: 'stories260K (F32)', model: STORIES_260K, dtype: undefined, corpus: 'stories260K_generated_200_seed20251122.txt', seqlen: 32 },
  { label: 'stories260K (BF16)', model: STORIES_260K, dtype: 'BF16' as const, corpus: 'stories260K_generated_200_seed20251122.txt', seqlen: 32 },
  { label: 'makemore-names-gpt2', model: MAKEMORE_NAMES, dtype: undefined, corpus: 'names_eot.txt', seqlen: 16 },
];

describe('streamed evaluation', () => {
  for (const c of cases) {
    it(`${c.label}: the three perplexities equal those of each model evaluated on its own`, async () => {
      // In BF16, every 101st embedding value made tiny: F16 subnormals, which round differently.
      const tiny = (name: string, values: Float32Array) => {
        if (c.dtype === 'BF16' && name.includes('embed')) for (let i = 0; i < values.length; i += 101) values[i] *= 1e-4;
      };
      const ckpt = await openCheckpoint(sourcesOf(await editedModel(c.model, { dtype: c.dtype, tensor: tiny })));
      const model = await loadModel(ckpt);
      const tok = loadTokenizer(ckpt.tokenizerJson!, ckpt.tokenizerConfigJson);
      const ids = textToIds(tok, readCorpus(c.corpus).slice(0, 12_000));
      const { seqlen } = c;
      const settings: RunSettings = { ...defaultRunSettings, bits: 4, groupSize: 32, nsamples: 2, seqlen, actOrder: true };
      const windows = Uint32Array.from(calibrationWindows(ids, settings.nsamples, seqlen, settings.seed).flat());
      const q = await quantizeModel(rt, model, windows, settings, {}, { halfScales: true });
      // 5 windows in passes of 2: the last pass is partial.
      const evalIds = Uint32Array.from(evaluationWindows(ids.slice(ids.length >> 1), seqlen).slice(0, 5).flat());
      expect(evalIds.length).toBe(5 * seqlen);
      const streamed = await perplexities(rt, model, q, evalIds, seqlen, 2, { half: true });
      // Nothing of the evaluation stays on the GPU after it, free buffers included (an export follows).
      expect(rt.pool.stats.bytesAllocated).toBe(rt.pool.stats.bytesInUse);
      const separate = {} as Record<ModelVariant, number>;
      await forEachVariant(rt, model, variantModels(rt, model, q, true), async (variant, globals, blocks) => {
        separate[variant] = await perplexity(rt, globals, blocks, evalIds, seqlen, 2);
      });
      expect(streamed).toEqual(separate);
      // How the globals sat on the GPU: a BF16 checkpoint's as BF16, with a patch of a few words for
      // the F16 values; an F32 one's as F32, with a second, F16 matrix.
      const globals = await GpuGlobals.load(rt, model.spec, model.globals, { switchable: true });
      const embedBytes = globals.E.buffer.size;
      expect(globals.E.format ?? 'f32').toBe(c.dtype === 'BF16' ? 'bf16' : 'f32');
      if (c.dtype === 'BF16') expect(globals.halfBytes).toBeGreaterThan(0);
      if (c.dtype === 'BF16') expect(globals.halfBytes).toBeLessThan(embedBytes / 4);
      else expect(globals.halfBytes).toBeGreaterThanOrEqual(embedBytes / 2);
      globals.release();
      if (c.dtype === 'BF16') {
        // The same values held as F32 (a second F16 matrix for the F16 ones) give the same numbers.
        const asF32 = { ...model, globals: { ...model.globals, format: () => 'f32' as const } };
        expect(await perplexities(rt, asF32, q, evalIds, seqlen, 2, { half: true })).toEqual(streamed);
      }
      expect(streamed.rtn).not.toBe(streamed.original);
      expect(streamed.gptq).not.toBe(streamed.rtn);
    }, 300_000);
  }
});
