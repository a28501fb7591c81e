import { describe, expect, it } from 'vitest';
import type { LinearReport, PerplexityResult } from '../../core/run';
import type { HistoryEntry } from '../store/studio-state';
import {
  EVERY_LAYER_TICKS, RAMP, blockBands, comparedRows, diagSeries, estimateText, evaluationIncomplete, fallbackLayers, fmtDuration, heatmapPixels,
  histogramRows, histogramSummary, historyRows, hubProgressText, increaseText, inspectedLayer, layerRows, layerTicks, logColour, logRange,
  memoryText, mseRatio, paddingText, perplexityRows, pplText, rampColour, runProgress, settingsSummary, shortName, sizeSummary,
} from './chart-data';

function linear(block: number, name: string, gptq: number, rtn: number, extra: Partial<LinearReport['gptq']> = {}): LinearReport {
  return {
    block, name, rows: 64, cols: 32,
    gptq: { mse: gptq, loss: 1, damp: 0.01, dampAttempts: 1, fellBackToRtn: false, seconds: 0.5, ...extra },
    rtn: { mse: rtn },
  };
}

describe('layerRows', () => {
  it('orders by block, then in the order the run finished them within a block', () => {
    const rows = layerRows([
      linear(1, 'self_attn.q_proj', 1, 2),
      linear(0, 'self_attn.q_proj', 1, 2),
      linear(0, 'mlp.down_proj', 1, 2),
      linear(1, 'mlp.down_proj', 1, 2),
      linear(0, 'self_attn.o_proj', 1, 2),
    ]);
    expect(rows.map((r) => r.label)).toEqual([
      '0.self_attn.q_proj', '0.mlp.down_proj', '0.self_attn.o_proj', '1.self_attn.q_proj', '1.mlp.down_proj',
    ]);
    expect(rows[0].key).toBe('0.self_attn.q_proj');
    expect(rows[0].shape).toBe('64×32');
  });

  it('keeps zeros off the log axis with a floor a tenth of the smallest positive value', () => {
    const rows = layerRows([linear(0, 'a', 0, 4e-6), linear(0, 'b', 2e-5, 1e-3)]);
    expect(rows[0].gptq).toBe(0);
    expect(rows[0].gptqPlot).toBeCloseTo(4e-7, 15);
    expect(rows[0].rtnPlot).toBe(4e-6);
    expect(rows[1].ratio).toBeCloseTo(0.02, 12);
  });

  it('reports the loss of a layer that fell back to RTN as null', () => {
    const [row] = layerRows([linear(0, 'a', 1, 1, { loss: NaN, fellBackToRtn: true, dampAttempts: 5 })]);
    expect(row.loss).toBeNull();
    expect(fallbackLayers([linear(0, 'x', 1, 1), linear(2, 'a', 1, 1, { fellBackToRtn: true })])).toEqual(['2.a']);
  });
});

describe('the per-layer chart: labels, blocks, an earlier run beside the current one', () => {
  const names = ['self_attn.q_proj', 'self_attn.k_proj', 'mlp.down_proj'];
  const layers = [0, 1].flatMap((b) => names.map((n) => linear(b, n, 1e-4 * (b + 1), 2e-4)));
  it('labels every layer by its short name while few, else marks the blocks', () => {
    expect(['self_attn.q_proj', 'mlp.down_proj', 'attn.c_attn', 'mlp.c_proj', 'mlp.c_fc'].map(shortName)).toEqual(['q', 'down', 'c_attn', 'c_proj', 'c_fc']);
    const rows = layerRows(layers);
    expect(blockBands(rows)).toEqual([
      { block: 0, from: '0.self_attn.q_proj', to: '0.mlp.down_proj' },
      { block: 1, from: '1.self_attn.q_proj', to: '1.mlp.down_proj' },
    ]);
    const few = layerTicks(rows);
    expect(few.ticks).toHaveLength(6); // every layer labelled
    expect(few.ticks.map(few.format)).toEqual(['q', 'k', 'down', 'q', 'k', 'down']);
    const many = layerRows(Array.from({ length: 10 }, (_, b) => names.flatMap((n) => [linear(b, n, 1, 2), linear(b, `${n}.x`, 1, 2)])).flat());
    expect(many.length).toBeGreaterThan(EVERY_LAYER_TICKS);
    const blocks = layerTicks(many);
    expect(blocks.ticks).toHaveLength(10);
    expect(blocks.format(blocks.ticks[3])).toBe('block 3');
  });
  it('overlays an earlier run by layer key, and shows it alone when there is no current run', () => {
    const earlier = [linear(0, 'self_attn.q_proj', 5e-4, 6e-4)];
    const rows = comparedRows(layers, earlier);
    expect(rows).toHaveLength(6);
    expect(rows[0]).toMatchObject({ gptqPlot: 1e-4, cmpGptqPlot: 5e-4, cmpRtnPlot: 6e-4 });
    expect(rows[1].cmpGptqPlot).toBeNull();
    const alone = comparedRows([], earlier);
    expect(alone).toHaveLength(1);
    expect(alone[0]).toMatchObject({ gptqPlot: null, cmpGptqPlot: 5e-4 });
  });
});

describe('inspectedLayer and mseRatio', () => {
  const layers = [linear(0, 'a', 1, 4), linear(0, 'b', 3, 4)];
  it('keeps a finished selection, else takes the latest layer', () => {
    expect(inspectedLayer('0.a', layers)).toBe('0.a');
    expect(inspectedLayer(null, layers)).toBe('0.b');
    expect(inspectedLayer('7.gone', layers)).toBe('0.b');
    expect(inspectedLayer(null, [])).toBeNull();
  });
  it('sums GPTQ over RTN', () => {
    expect(mseRatio(layers)).toBeCloseTo(0.5, 12);
    expect(mseRatio([])).toBeNull();
  });
});

describe('log colour scale', () => {
  it('maps the smallest value to the first stop, the largest to the last, the geometric middle to the middle', () => {
    expect(logColour(1, 0, 2)).toEqual(RAMP[0]);
    expect(logColour(100, 0, 2)).toEqual(RAMP[RAMP.length - 1]);
    expect(logColour(10, 0, 2)).toEqual(RAMP[2]);
    expect(logColour(0, 0, 2)).toEqual(RAMP[0]);
    expect(logColour(1e6, 0, 2)).toEqual(RAMP[RAMP.length - 1]);
  });
  it('interpolates between stops', () => {
    const mid = rampColour(0.125);
    expect(mid).toEqual([0, 1, 2].map((k) => Math.round((RAMP[0][k] + RAMP[1][k]) / 2)));
  });
  it('takes the range of positive finite values only', () => {
    expect(logRange([0, 0.01, 1000, NaN, -5])).toEqual({ min: 0.01, max: 1000, logMin: -2, logMax: 3 });
    expect(logRange([0, 0])).toBeNull();
  });
  it('builds RGBA pixels row-major', () => {
    const px = heatmapPixels({ size: 2, values: Float32Array.from([1, 10, 100, 0]) });
    expect(px.size).toBe(2);
    expect(px.rgba.length).toBe(16);
    expect(Array.from(px.rgba.slice(0, 4))).toEqual([...RAMP[0], 255]);
    expect(Array.from(px.rgba.slice(4, 8))).toEqual([...RAMP[2], 255]);
    expect(Array.from(px.rgba.slice(8, 12))).toEqual([...RAMP[4], 255]);
    expect(Array.from(px.rgba.slice(12, 16))).toEqual([...RAMP[0], 255]);
    expect(px.range?.logMax).toBe(2);
  });
});

describe('diagSeries', () => {
  it('keeps every column when few, with min, max and ratio', () => {
    const s = diagSeries([2, 8, 4, 1]);
    expect(s.points.map((p) => p.value)).toEqual([2, 8, 4, 1]);
    expect(s).toMatchObject({ bucket: 1, min: 1, max: 8, mean: 3.75, ratio: 8 });
  });
  it('follows the act-order when given one, as the heatmap does', () => {
    const s = diagSeries([2, 8, 4, 1], 256, Int32Array.from([1, 2, 0, 3]));
    expect(s.actOrder).toBe(true);
    expect(s.points.map((p) => p.value)).toEqual([8, 4, 2, 1]);
    expect(s.points.map((p) => p.col)).toEqual([0, 1, 2, 3]);
    expect(diagSeries([2, 8], 256).actOrder).toBe(false);
  });
  it('keeps the largest of each bucket when many, and no ratio with a zero', () => {
    const s = diagSeries([1, 5, 0, 2, 9], 2);
    expect(s.bucket).toBe(3);
    expect(s.points).toEqual([{ col: 0, value: 5, plot: 5 }, { col: 3, value: 9, plot: 9 }]);
    expect(s.ratio).toBeNull();
  });
});

describe('histogramRows', () => {
  const h = { edges: Float32Array.from([-1, -0.5, 0, 0.5, 1]), gptq: Uint32Array.from([1, 4, 4, 1]), rtn: Uint32Array.from([0, 5, 5, 0]) };
  it('pairs GPTQ and RTN counts on shared bins with centres', () => {
    const rows = histogramRows(h);
    expect(rows.map((r) => r.center)).toEqual([-0.75, -0.25, 0.25, 0.75]);
    expect(rows.map((r) => [r.gptq, r.rtn])).toEqual([[1, 0], [4, 5], [4, 5], [1, 0]]);
    expect(rows[1]).toMatchObject({ from: -0.5, to: 0 });
  });
  it('estimates the RMS from bin centres', () => {
    const s = histogramSummary(h);
    expect(s.total).toBe(10);
    expect(s.rtnRms).toBeCloseTo(0.25, 12);
    expect(s.gptqRms).toBeCloseTo(Math.sqrt((2 * 0.5625 + 8 * 0.0625) / 10), 12);
  });
});

describe('perplexityRows', () => {
  it('uses live values in arrival order, null where missing, then the texts still to come', () => {
    const rows = perplexityRows({ b: { original: 10, gptq: 11 }, a: { rtn: 12 } }, null, ['a', 'c']);
    expect(rows.map((r) => r.text)).toEqual(['b', 'a', 'c']);
    expect(rows[0]).toMatchObject({ index: 0, original: 10, rtn: null, gptq: 11, final: false });
    expect(rows[0].gptqIncrease).toBeCloseTo(0.1, 12);
    expect(rows[0].rtnIncrease).toBeNull();
    expect(rows[1].rtnIncrease).toBeNull();
    expect(rows[2]).toMatchObject({ original: null, rtn: null, gptq: null });
  });
  it('prefers the final report', () => {
    const evals: PerplexityResult[] = [{ text: 'x', seqlen: 128, windows: 4, original: 20, rtn: 30, gptq: 22 }];
    const rows = perplexityRows({ x: { original: 1 } }, evals);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ final: true, original: 20, windows: 4, seqlen: 128 });
    expect(rows[0].rtnIncrease).toBeCloseTo(0.5, 12);
  });
  it('is null-safe', () => {
    expect(perplexityRows(undefined, undefined)).toEqual([]);
    expect(pplText(null)).toBe('…');
    expect(pplText(null, true)).toBe('not measured');
    expect(evaluationIncomplete([{ text: 'x', seqlen: 8, windows: 2, original: 3, rtn: null, gptq: null }])).toBe(true);
    expect(evaluationIncomplete([{ text: 'x', seqlen: 8, windows: 2, original: 3, rtn: 4, gptq: 3.5 }])).toBe(false);
    expect(pplText(12.345)).toBe('12.35');
    expect(increaseText(0.041)).toBe('+4.1 %');
    expect(increaseText(-0.003)).toBe('−0.3 %');
    expect(increaseText(null)).toBe('');
  });
});

describe('sizes, memory and padding', () => {
  it('gives the ratio only with an export', () => {
    expect(sizeSummary({ originalBytes: 4096, quantizedBytes: 1024 })).toMatchObject({ ratio: 4, text: '4 KiB → 1 KiB (4.00× smaller)' });
    expect(sizeSummary({ originalBytes: 4096, quantizedBytes: null })).toMatchObject({ ratio: null, text: '4 KiB; no export' });
    expect(sizeSummary(null)).toBeNull();
  });
  it('compares memory with the budget', () => {
    expect(memoryText(3 * 1024 ** 3, 2 * 1024 ** 3)).toEqual({ text: '3 GiB of a 2 GiB budget (150 %)', fraction: 1.5, over: true });
    expect(memoryText(1024, 0).fraction).toBeNull();
  });
  it('says the padding', () => {
    expect(paddingText({ from: 172, to: 192 })).toBe('MLP width 172 → 192');
    expect(paddingText(null)).toBeNull();
  });
});

describe('time and progress', () => {
  it('formats durations', () => {
    expect(fmtDuration(42.4)).toBe('42 s');
    expect(fmtDuration(65)).toBe('1 min 05 s');
    expect(fmtDuration(3725)).toBe('1 h 02 min');
    expect(fmtDuration(null)).toBe('—');
    expect(fmtDuration(Infinity)).toBe('—');
  });
  it('describes a run in progress', () => {
    const p = runProgress({ status: 'running', stage: 'quantization', stageDetail: 'block 2', blocksDone: 2, blocks: 30, done: 14, total: 210, elapsed: 61, etaSeconds: null });
    expect(p).toEqual({
      stage: 'Quantization: block 2', blocks: '2 of 30 blocks', done: 14, total: 210, linears: '14 of 210 linears', evaluation: null,
      elapsed: '1 min 01 s', etaSeconds: null, eta: 'estimating…',
    });
  });
  it('counts the evaluation window by window, with a time left that covers it, and a clock that runs between events', () => {
    const estimate = { quantization: 40, evaluation: 20, total: 60 };
    const base = { status: 'running' as const, stageDetail: '', blocksDone: 4, blocks: 4, done: 28, total: 28, estimate, lastEventAt: 1_000_000 };
    // Quantization done: the evaluation still lies ahead, so the time left is never 0.
    const q = runProgress({ ...base, stage: 'quantization', elapsed: 40, etaSeconds: 0 }, 1_000_000);
    expect(q.etaSeconds).toBeCloseTo(20, 9);
    expect(q.eta).toBe('20 s');
    const ev = { start: 40, text: 'kjv', variant: 'rtn' as const, windowsDone: 2, windows: 4, done: 6, total: 24 };
    const e = runProgress({ ...base, stage: 'evaluation', elapsed: 46, etaSeconds: 0, evaluation: ev }, 1_003_000);
    expect(e.evaluation).toEqual({ done: 6, total: 24, text: 'window 2 of 4 of kjv (RTN model) · 6 of 24 windows in all' });
    // Within a pass: the block the three models have reached, and the windows in all not always whole.
    const step = { ...ev, windowsDone: 2, done: 6 + 3 * 2 * (3 / 5), step: { from: 2, to: 4, step: 3, steps: 5 } };
    expect(runProgress({ ...base, stage: 'evaluation', elapsed: 46, etaSeconds: 0, evaluation: step }, 1_000_000).evaluation?.text)
      .toBe('windows 3–4 of 4 of kjv: block 3 of 4 run by the three models · 9 of 24 windows in all');
    // 6 windows in 6 s: 18 left take 18 s, less the 3 s since the event.
    expect(e.etaSeconds).toBeCloseTo(15, 9);
    expect(e.elapsed).toBe('49 s');
    expect(estimateText(estimate)).toBe('about 1 min 00 s (quantization 40 s, evaluation 20 s)');
  });
  it('describes Hub downloads', () => {
    expect(hubProgressText(null)).toBe('Checking the repository…');
    expect(hubProgressText({ done: 512, total: 2048, file: 'model.safetensors' })).toBe('512 B of 2 KiB (25 %) — model.safetensors');
  });
});

describe('history', () => {
  it('summarises settings and runs', () => {
    expect(settingsSummary({ bits: 3, groupSize: -1, sym: false, actOrder: true })).toBe('3-bit · per row · asym · act-order');
    const entry: HistoryEntry = {
      id: 'r1', finishedAt: '2025-01-01T00:00:00Z', modelName: 'demo', status: 'done',
      settings: { bits: 4, groupSize: 128, sym: true, actOrder: false, staticGroups: false, percDamp: 0.01, blockSize: 128, mse: false, trueSequential: true, nsamples: 8, seqlen: 128, seed: 0 },
      layers: [linear(0, 'a', 1, 2), linear(0, 'b', 1, 2)],
      evaluations: [{ text: 't', seqlen: 128, windows: 2, original: 10, rtn: 12, gptq: 11 }],
      size: { originalBytes: 2048, quantizedBytes: 1024 }, exportPlan: null, seconds: 90,
    };
    const [row] = historyRows([entry]);
    expect(row).toMatchObject({
      settings: '4-bit · g128 · sym', layers: 2, size: '2 KiB → 1 KiB (2.00× smaller)', seconds: '1 min 30 s',
      calibration: '8 × 128 tokens', evaluation: '2 windows × 128', damping: '1 %', reason: null,
    });
    expect(row.mseRatio).toBeCloseTo(0.5, 12);
    expect(row.perplexities).toEqual([{ text: 't', original: 10, rtn: 12, gptq: 11 }]);
    const later = { ...entry, id: 'r2', finishedAt: '2025-01-02T00:00:00Z', evaluations: [], size: null, layers: [] };
    const rows = historyRows([entry, later]);
    expect(rows.map((r) => r.id)).toEqual(['r2', 'r1']);
    expect(rows[0]).toMatchObject({ mseRatio: null, perplexities: [], size: '—', evaluation: '—' });
    // A failed run says why; the windows it was to measure are shown even without perplexities.
    const failed = historyRows([{ ...entry, status: 'failed', reason: 'the GPU ran out of memory', evaluations: [], evalWindows: [40, 125], estimatedSeconds: 58 }]);
    expect(failed[0]).toMatchObject({ status: 'failed', reason: 'the GPU ran out of memory', evaluation: '40 + 125 windows × 128', estimate: 'est. 58 s' });
  });
});
