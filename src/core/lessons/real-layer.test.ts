import { describe, expect, it } from 'vitest';
import { openSharedCheckpoint, readCorpus, STORIES_260K } from '../../testing/shared-models';
import { loadReferenceModel } from '../model/forward-reference';
import { loadTokenizer } from '../model/tokenizer';
import { calibrationWindows, textToIds } from '../model/calibration';
import { captureLayer, costInTopColumns, studyPain } from './real-layer';

describe('lesson 4: where pain lands on a real layer', () => {
  it('captures a real layer\'s inputs; GPTQ moves weights further than RTN yet leaves less output error', async () => {
    const ckpt = await openSharedCheckpoint(STORIES_260K);
    const model = await loadReferenceModel(ckpt);
    const tok = loadTokenizer(ckpt.tokenizerJson!, ckpt.tokenizerConfigJson);
    const windows = calibrationWindows(textToIds(tok, readCorpus('stories260K_generated_200_seed20251122.txt')), 4, 64, 0);
    const W = await ckpt.readLinearWeight(1, 'mlp.down_proj');
    const layer = captureLayer(model, windows, 1, 'mlp.down_proj', W, 64, 172);
    expect(layer.tokens).toBe(256);
    const plain = studyPain(layer, { bits: 3, groupSize: -1, sym: true });
    expect(plain.diag.every((d) => d >= 0)).toBe(true);
    expect(plain.gptq.outputMse).toBeLessThan(0.75 * plain.rtn.outputMse);
    // On a per-row grid RTN is the closest point for every weight, so its diagonal cost is the least
    // possible; GPTQ pays more there and wins through the correlations (off-diagonal H).
    expect(costInTopColumns(plain, 'gptq').total).toBeGreaterThan(costInTopColumns(plain, 'rtn').total);
    // Act-order quantizes the sensitive columns first, before any compensation lands on them
    // (measured on this layer: their cost drops by a third).
    const ordered = studyPain(layer, { bits: 3, groupSize: -1, sym: true, actOrder: true });
    expect(costInTopColumns(ordered, 'gptq').top).toBeLessThan(costInTopColumns(plain, 'gptq').top);
    expect(ordered.gptq.outputMse).toBeLessThan(plain.gptq.outputMse);
  });
});
