import { describe, expect, it } from 'vitest';
import { parseStrategy, type StrategySeedResult, type SweepRunReport } from '../../core/sweep';
import { defaultRunSettings } from '../../core/run';
import { frontLine, layerCurves, mixedPlanTable, sensitivityGrid, spreadText, sweepAxes, sweepCancelledLine, sweepPoints, sweepReportName, sweepRunText, sweepSizeText, sweepTableRows, weightsPerBitsText } from './sweep-data';
import { sweepEnded, sweepHasFinishedStrategy } from '../store/studio-state';

const div = (kld: number) => ({ kld_mean: kld, kld_p99: 2 * kld, kld_max: 3 * kld, top1_agree: 1 - kld, dp_rms: kld / 10 });
const seed = (s: number, ppl: number | null, kld: number, mse: number[]): StrategySeedResult => ({
  seed: s,
  perplexity: { 'eval.txt': ppl },
  divergence: { 'eval.txt': ppl === null ? null : div(kld) },
  layers: mse.map((m, i) => ({ block: i >> 1, name: i % 2 ? 'mlp.down_proj' : 'self_attn.q_proj', mse: m })),
});

function report(): SweepRunReport {
  const strat = (label: string, bpw: number, seeds: StrategySeedResult[]) => ({
    label, strategy: parseStrategy(label), bpw, notExportable: label.startsWith('awq') ? 'comparison only' : null, seeds,
    summary: { perplexity: null, kld: null },
  });
  return {
    kind: 'sweep',
    warnings: [],
    model: { name: 'm', arch: 'llama', blocks: 2, hiddenSize: 64, parameters: 1, dtype: 'F32' },
    adapter: {},
    settings: { ...defaultRunSettings, seqlen: 32 },
    output: { format: 'report', ggufFloat: null },
    calibration: { text: 'c', tokens: 100 },
    evaluations: [{ text: 'eval.txt', seqlen: 32, windows: 3 }],
    sweep: {
      strategies: [
        strat('gptq:4g32', 4.5, [seed(0, 12, 0.1, [1e-3, 2e-3, 1e-3, 4e-3]), seed(1, 14, 0.2, [3e-3, 2e-3, 1e-3, 0])]),
        strat('rtn:4g32', 4.5, [seed(0, 20, 0.5, [1e-2, 2e-2, 1e-2, 4e-2]), seed(1, 20, 0.5, [1e-2, 2e-2, 1e-2, 4e-2])]),
        strat('gptq:2g32', 2.5, [seed(0, 300, 2, [1, 2, 1, 4]), seed(1, 500, 3, [1, 2, 1, 4])]),
        strat('awq:3g32', 3.5, [seed(0, null, 0, [1, 1, 1, 1])]),
      ],
      seeds: [0, 1], original: { 'eval.txt': 10 }, front: [], bpwCovers: '', plans: {},
    },
    sensitivity: {
      label: 'gptq:4g32', widths: [2, 4],
      linears: [
        { block: 1, name: 'self_attn.q_proj', rows: 4, cols: 4, N: 4, K: 4, mse: { 2: 1, 4: 0.01 } },
        { block: 0, name: 'self_attn.q_proj', rows: 4, cols: 4, N: 4, K: 4, mse: { 2: 10, 4: 0.1 } },
      ],
    },
    seconds: 1,
  };
}

describe('sweep chart data', () => {
  it('points: mean over seeds with the min–max as error bars, the front on the measure shown; an unmeasured strategy is left out', () => {
    const pts = sweepPoints(report(), 'perplexity');
    expect(pts.map((p) => [p.label, p.bpw, p.y, p.low, p.high, p.errorY, p.n, p.onFront])).toEqual([
      ['gptq:4g32', 4.5, 13, 12, 14, [1, 1], 2, true],
      ['rtn:4g32', 4.5, 20, 20, 20, [0, 0], 2, false],
      ['gptq:2g32', 2.5, 400, 300, 500, [100, 100], 2, true],
    ]);
    expect(frontLine(pts).map((p) => p.label)).toEqual(['gptq:2g32', 'gptq:4g32']);
    const kld = sweepPoints(report(), 'kld');
    expect(kld.map((p) => p.y)).toEqual([0.15000000000000002, 0.5, 2.5]);
    // 13 to 500 spans more than a decade: a log axis whose range holds every bar.
    const axes = sweepAxes(pts);
    expect(axes.yScale).toBe('log');
    expect(axes.y.domain[0]).toBeLessThanOrEqual(12);
    expect(axes.y.domain[1]).toBeGreaterThanOrEqual(500);
    expect(axes.x.domain[0]).toBeLessThanOrEqual(2.5);
    expect(axes.x.domain[1]).toBeGreaterThanOrEqual(4.5);
    expect(sweepAxes(pts.slice(0, 2)).yScale).toBe('linear');
  });

  it('the table holds every strategy, with spreads, top-1 and the front', () => {
    const rows = sweepTableRows(report(), 'perplexity');
    expect(rows.map((r) => r.label)).toEqual(['gptq:4g32', 'rtn:4g32', 'gptq:2g32', 'awq:3g32']);
    expect(rows[0].perplexity).toMatchObject({ mean: 13, min: 12, max: 14, n: 2 });
    expect(rows[0].top1).toBeCloseTo(0.85, 12);
    expect(rows.map((r) => r.onFront)).toEqual([true, false, true, false]);
    expect(rows[3]).toMatchObject({ perplexity: null, kld: null, top1: null, notExportable: 'comparison only' });
    expect(spreadText(rows[0].perplexity)).toBe('13.00 (12.00–14.00)');
    expect(spreadText(rows[3].perplexity)).toBe('not measured');
  });

  it('per-layer curves: the mean over seeds per strategy, block by block, zero floored for the log axis', () => {
    const c = layerCurves(report());
    expect(c.series.map((s) => s.label)).toEqual(['gptq:4g32', 'rtn:4g32', 'gptq:2g32', 'awq:3g32']);
    expect(c.rows.map((r) => r.label)).toEqual(['0.self_attn.q_proj', '0.mlp.down_proj', '1.self_attn.q_proj', '1.mlp.down_proj']);
    expect(c.rows[0].s0).toBeCloseTo(2e-3, 15);
    expect(c.rows[3].s0).toBeCloseTo(2e-3, 15);
    expect(c.rows[3].s1).toBe(4e-2);
    for (const r of c.rows) for (const s of c.series) expect(r[s.key] as number).toBeGreaterThan(0);
    expect(c.y.domain[0]).toBeLessThanOrEqual(1e-3);
  });

  it('sensitivity cells: block order, log colours from dark (small) to yellow (large)', () => {
    const g = sensitivityGrid(report().sensitivity!);
    expect(g.rows.map((r) => r.label)).toEqual(['0.self_attn.q_proj', '1.self_attn.q_proj']);
    expect(g.rows[0].cells.map((c) => [c.bits, c.value])).toEqual([[2, 10], [4, 0.1]]);
    expect(g.rows[1].cells[1].background).toBe('rgb(68, 1, 84)'); // the smallest
    expect(g.rows[0].cells[0].background).toBe('rgb(253, 231, 37)'); // the largest
    expect(g.rows[1].cells[1].light).toBe(true);
    expect(g.rows[0].cells[0].light).toBe(false);
  });

  it('a mixed plan as blocks × linears, and its weights per width in words', () => {
    const map = report().sensitivity!;
    const plan = { bits: { '0.self_attn.q_proj': 4, '1.self_attn.q_proj': 2 }, bpw: 3, target: 3, range: { min: 2, max: 8 }, error: 0, baseBits: 4, belowMinimum: false, weightsPerBits: { 4: 16, 2: 16000 } };
    expect(mixedPlanTable(plan, map)).toEqual({ names: ['self_attn.q_proj'], rows: [{ block: 0, bits: [4] }, { block: 1, bits: [2] }] });
    expect(weightsPerBitsText(plan.weightsPerBits)).toBe('16,000 weights at 2 bits, 16 at 4 bits');
  });

  it('says a sweep\'s size and windows in the singular when there is one ("1 strategy × 1 seed", not "1 seeds")', () => {
    const r = report();
    expect(sweepSizeText(r)).toBe('4 strategies × 2 seeds');
    expect(sweepRunText(r)).toBe(`4 strategies over seeds 0, 1; ${r.settings.nsamples} calibration windows of 32 tokens; evaluated on 3 windows of eval.txt`);
    const one = { ...r, settings: { ...r.settings, nsamples: 1 }, evaluations: [{ text: 'e.txt', seqlen: 32, windows: 1 }], sweep: { ...r.sweep, strategies: r.sweep.strategies.slice(0, 1), seeds: [7] } };
    expect(sweepSizeText(one)).toBe('1 strategy × 1 seed');
    expect(sweepRunText(one)).toBe('1 strategy over seed 7; 1 calibration window of 32 tokens; evaluated on 1 window of e.txt');
  });
});


describe('a cancelled sweep', () => {
  const cancelled = () => ({ ...report(), cancelled: { after: 4, of: 6, strategies: ['gptq:3g32', 'rtn:3g32'] } });

  it('the slice once the worker answers: a cancelled sweep\'s report is kept and shown, its status cancelled', () => {
    expect(sweepEnded(report())).toMatchObject({ status: 'done', labels: ['gptq:4g32', 'rtn:4g32', 'gptq:2g32', 'awq:3g32'], elapsed: 1, phase: null });
    const r = cancelled();
    const patch = sweepEnded(r);
    expect(patch.status).toBe('cancelled');
    expect(patch.report).toBe(r);
    expect(patch.labels).toEqual(['gptq:4g32', 'rtn:4g32', 'gptq:2g32', 'awq:3g32']);
  });

  it('says what was kept and what was not measured; with no report, that nothing is kept', () => {
    expect(sweepCancelledLine(null)).toBe('Cancelled: nothing of this comparison is kept.');
    expect(sweepCancelledLine(null, [{ label: 'gptq:4g32', seed: 0 }, { label: 'rtn:4g32', seed: 0 }], 2)).toBe(
      'Cancelled before any strategy had all 2 seeds measured: the 2 results measured (gptq:4g32 seed 0, rtn:4g32 seed 0) were dropped, ' +
      'as a strategy is compared over all its seeds: nothing of this comparison is kept.');
    expect(sweepCancelledLine(cancelled()))
      .toBe('Cancelled after 4 of 6 strategies; not measured: gptq:3g32, rtn:3g32. The results below are those of the 4 strategies whose every seed was measured.');
    expect(sweepCancelledLine({ cancelled: { after: 1, of: 2, strategies: ['gptq:2g32'] } }))
      .toBe('Cancelled after 1 of 2 strategies; not measured: gptq:2g32. The results below are those of the strategy whose every seed was measured.');
  });

  it('its report.json is saved under the model\'s name, file-name-safe', () => {
    expect(sweepReportName('stories260K')).toBe('stories260K-sweep-report.json');
    expect(sweepReportName('my model/v2')).toBe('my-model-v2-sweep-report.json');
    expect(sweepReportName('')).toBe('model-sweep-report.json');
  });
});

describe('cancelling a sweep', () => {
  it('counts a strategy finished once it has a result for every seed (the worker is then never terminated)', () => {
    const row = (label: string, seed: number) => ({ label, seed, perplexity: 10, kld: 0.1 });
    expect(sweepHasFinishedStrategy({ seeds: 2, results: [] })).toBe(false);
    expect(sweepHasFinishedStrategy({ seeds: 2, results: [row('gptq:4g32', 0), row('rtn:4g32', 0)] })).toBe(false);
    expect(sweepHasFinishedStrategy({ seeds: 2, results: [row('gptq:4g32', 0), row('rtn:4g32', 0), row('gptq:4g32', 1)] })).toBe(true);
    expect(sweepHasFinishedStrategy({ seeds: 1, results: [row('rtn:4g32', 0)] })).toBe(true);
  });
});
