import { describe, expect, it } from 'vitest';
import { DEMO_SHAPE } from '../testing/demo-shape';
import {
  EFFICIENCY, SYNCS_PER_BLOCK_GROUP, SYNCS_PER_EVAL_PASS, SYNCS_PER_LINEAR, SYNCS_PER_RTN_LINEAR,
  estimateTime, evaluationWindowCounts, runWork, suggestRunSize, timeLeft, workSeconds, type ModelShape,
} from './time-model';

/** One block of two linears, a [4, 8] then a [8, 4], quantized in two true-sequential groups. */
const tiny: ModelShape = {
  blocks: 2,
  hidden: 8,
  heads: 2,
  headDim: 4,
  vocab: 10,
  linears: [
    { name: 'a', rows: 4, cols: 8, quantized: true },
    { name: 'b', rows: 8, cols: 4, quantized: true },
  ],
  groups: [['a'], ['b']],
  inputs: [['a'], ['b']],
};

/** The demo model's shape (Llama, hidden 128, MLP 256, 4 blocks, 4/2 heads, vocabulary 1024). */
const demo = DEMO_SHAPE;

describe('the time model', () => {
  it('counts the FLOPs of every stage of a run', () => {
    const w = runWork(tiny, { nsamples: 2, seqlen: 3, trueSequential: true, evalWindows: 5 });
    const T = 6;
    const lin = 2 * 4 * 8 + 2 * 8 * 4; // per token, both linears: 128
    const attn = 4 * 2 * 4 * ((3 + 1) / 2); // per token: 64
    // Capture passes: up to a (64 per token, before attention), up to b (128 + attention); then a full pass.
    expect(w.flops.calibrationLinears).toBe(2 * T * (64 + 128 + lin));
    expect(w.flops.calibrationAttention).toBe(2 * T * (attn + attn));
    expect(w.flops.hessian).toBe(2 * (2 * T * 64 + 2 * T * 16));
    expect(w.flops.inverse).toBeCloseTo(2 * (2 / 3) * (512 + 64), 9);
    expect(w.flops.sweep).toBe(2 * (4 * 64 + 8 * 16));
    expect(w.flops.outputError).toBe(2 * (4 * 32 * T + 4 * 32 * T));
    // Evaluation: three models × 5 windows × 3 tokens, both blocks and the LM head.
    expect(w.flops.evaluationLinears).toBe(45 * (2 * lin + 2 * 8 * 10));
    expect(w.flops.evaluationAttention).toBe(45 * 2 * attn);
    expect(w.syncs.quantization).toBe(2 * 3 * SYNCS_PER_BLOCK_GROUP);
    // Four quantized linears of 8 and 4 columns: one inverse step each, none further.
    expect(w.linears).toEqual({ count: 4, steps: 0 });
    // The demo's q/k/v and gate/up share their H and its inverse: four of each per block, not seven.
    for (const trueSequential of [true, false]) {
      const d = runWork(demo, { nsamples: 2, seqlen: 3, trueSequential, evalWindows: 0 });
      expect(d.linears).toEqual({ count: 28, steps: 4 * (3 * (2 - 1) + (4 - 1)) }); // 128 columns: 2 steps; down_proj's 256: 4
      expect(d.flops.hessian).toBe(4 * 2 * T * (3 * 128 ** 2 + 256 ** 2));
      expect(d.flops.inverse).toBeCloseTo(4 * (2 / 3) * (3 * 128 ** 3 + 256 ** 3), 6);
      expect(d.flops.sweep).toBe(4 * (128 + 64 + 64 + 128 + 256 + 256) * 128 ** 2 + 4 * 128 * 256 ** 2);
    }
    // Each linear on its own input: seven of each.
    const apart = runWork({ ...demo, inputs: demo.linears.map((l) => [l.name]) }, { nsamples: 2, seqlen: 3, trueSequential: true, evalWindows: 0 });
    expect(apart.linears).toEqual({ count: 28, steps: 4 * (6 * (2 - 1) + (4 - 1)) });
    expect(apart.flops.hessian).toBe(4 * 2 * T * (6 * 128 ** 2 + 256 ** 2));
    // Three models a pass, and RTN's codes of both blocks' two linears made again each pass.
    expect(w.syncs.evaluation).toBe(3 * Math.ceil(5 / 2) * SYNCS_PER_EVAL_PASS + Math.ceil(5 / 2) * 2 * 2 * SYNCS_PER_RTN_LINEAR);
    // Without true-sequential there is one capture pass of the whole block.
    const one = runWork(tiny, { nsamples: 2, seqlen: 3, trueSequential: false, evalWindows: 0 });
    expect(one.flops.calibrationLinears).toBe(2 * T * (lin + lin));
    expect(one.flops.evaluationLinears).toBe(0);
    // A linear left unquantized still runs in the forward passes, but costs no Hessian or sweep.
    const skip = runWork({ ...tiny, linears: [tiny.linears[0], { ...tiny.linears[1], quantized: false }], groups: [['a']] },
      { nsamples: 2, seqlen: 3, trueSequential: true, evalWindows: 0 });
    expect(skip.flops.sweep).toBe(2 * 4 * 64);
    expect(skip.flops.evaluationLinears).toBe(0);
    expect(() => runWork(tiny, { nsamples: 0, seqlen: 3, trueSequential: true, evalWindows: 0 })).toThrow(/nsamples/);
  });

  it('turns FLOPs into seconds with the measured rate, each stage at its efficiency, plus the syncs', () => {
    const w = runWork(tiny, { nsamples: 2, seqlen: 3, trueSequential: true, evalWindows: 5 });
    const t = estimateTime(w, { gflops: 1, syncSeconds: 0.001 });
    const f = w.flops;
    const q = (f.calibrationLinears / EFFICIENCY.linears + f.calibrationAttention / EFFICIENCY.attention + f.hessian / EFFICIENCY.hessian +
      f.inverse / EFFICIENCY.inverse + f.sweep / EFFICIENCY.sweep + f.outputError / EFFICIENCY.outputError) / 1e9 + w.syncs.quantization * 0.001;
    // Linears' fixed cost not measured: SYNCS_PER_LINEAR round trips each.
    expect(t.quantization).toBeCloseTo(q + 4 * SYNCS_PER_LINEAR * 0.001, 12);
    expect(t.evaluation).toBeCloseTo((f.evaluationLinears / EFFICIENCY.linears + f.evaluationAttention / EFFICIENCY.attention) / 1e9 + w.syncs.evaluation * 0.001, 12);
    expect(t.total).toBeCloseTo(t.quantization + t.evaluation, 12);
    // workSeconds gives the same seconds class by class.
    const parts = workSeconds(w, { gflops: 1, syncSeconds: 0.001 });
    expect(parts.flops.inverse).toBeCloseTo(f.inverse / EFFICIENCY.inverse / 1e9, 15);
    expect(Object.values(parts.flops).reduce((a, b) => a + b, 0) + parts.syncs.quantization + parts.syncs.evaluation + parts.linears).toBeCloseTo(t.total, 12);
    // Measured, each linear costs its seconds and each further inverse step its stepSeconds.
    const demoWork = runWork(demo, { nsamples: 2, seqlen: 3, trueSequential: true, evalWindows: 0 });
    const linear = { seconds: 0.03, stepSeconds: 0.005 };
    const measured = estimateTime(demoWork, { gflops: 1, syncSeconds: 0.001, linear });
    const unmeasured = estimateTime(demoWork, { gflops: 1, syncSeconds: 0.001 });
    expect(measured.quantization - unmeasured.quantization).toBeCloseTo(28 * 0.03 + 24 * 0.005 - 28 * SYNCS_PER_LINEAR * 0.001, 12);
    expect(workSeconds(demoWork, { gflops: 1, syncSeconds: 0.001, linear }).linears).toBeCloseTo(28 * 0.03 + 24 * 0.005, 12);
    // Twice the rate halves the compute part; the syncs stay.
    const big = runWork(demo, { nsamples: 32, seqlen: 256, trueSequential: true, evalWindows: 100 });
    const slow = estimateTime(big, { gflops: 2, syncSeconds: 0 });
    const fast = estimateTime(big, { gflops: 4, syncSeconds: 0 });
    expect(fast.total).toBeCloseTo(slow.total / 2, 9);
    expect(() => estimateTime(big, { gflops: 0, syncSeconds: 0 })).toThrow(/positive/);
  });

  it('sizes the default run to about a minute on the adapter measured', () => {
    const evalTokens = [18_000, 9_000];
    const slow = suggestRunSize(demo, { gflops: 0.5, syncSeconds: 0.0005 }, { maxSeqlen: 256, trueSequential: true, evalTokens });
    const fast = suggestRunSize(demo, { gflops: 500, syncSeconds: 0.0001 }, { maxSeqlen: 256, trueSequential: true, evalTokens });
    expect(slow.estimate.total).toBeLessThanOrEqual(60);
    expect(slow.nsamples * slow.seqlen).toBeLessThan(fast.nsamples * fast.seqlen);
    expect(slow.evalWindows).not.toBeNull(); // a software adapter measures only the first windows
    // A fast adapter gets the usual sizes: 128 windows of the whole context, every evaluation window.
    expect(fast).toMatchObject({ nsamples: 128, seqlen: 256, evalWindows: null });
    expect(fast.estimate.total).toBeLessThan(60);
    // The windows never exceed the model's context, and a hopeless adapter gets the smallest run.
    const crawl = suggestRunSize(demo, { gflops: 1e-6, syncSeconds: 1 }, { maxSeqlen: 64, trueSequential: true, evalTokens });
    expect(crawl).toMatchObject({ nsamples: 4, seqlen: 32, evalWindows: 2 });
    expect(evaluationWindowCounts([1000, 50], 64, null)).toEqual([15, 0]);
    expect(evaluationWindowCounts([1000, 500], 64, 4)).toEqual([4, 4]);
  });

  it('gives the time left of the whole run, quantization and evaluation', () => {
    const estimate = { quantization: 40, evaluation: 20, total: 60 };
    const clock = { elapsed: 0, stage: null, quantizationLeft: null, evaluationStart: null, evaluationDone: 0, evaluationTotal: 0 } as const;
    // Before any measurement: the estimate less the time spent.
    expect(timeLeft(estimate, { ...clock, elapsed: 10 })).toBe(50);
    // Quantization going twice as slow as estimated (10 s spent, 70 s left of it): evaluation scales too.
    expect(timeLeft(estimate, { ...clock, elapsed: 10, stage: 'quantization', quantizationLeft: 70 })).toBeCloseTo(70 + 20 * 2, 9);
    // Evaluation: the windows left at the pace so far (30 of 120 in 15 s).
    expect(timeLeft(estimate, { ...clock, elapsed: 95, stage: 'evaluation', quantizationLeft: 0, evaluationStart: 80, evaluationDone: 30, evaluationTotal: 120 })).toBeCloseTo(45, 9);
    // Evaluation before its first pass: the estimate scaled by how the quantization went (80 s for 40).
    expect(timeLeft(estimate, { ...clock, elapsed: 82, stage: 'evaluation', quantizationLeft: 0, evaluationStart: 80, evaluationDone: 0, evaluationTotal: 120 })).toBeCloseTo(38, 9);
    // Never "0 s left" while work remains: an estimate that ran out gives "unknown".
    expect(timeLeft(null, { ...clock, elapsed: 500, stage: 'evaluation', quantizationLeft: 0, evaluationStart: 100, evaluationDone: 1, evaluationTotal: 3 })).toBeGreaterThan(0);
    expect(timeLeft(estimate, { ...clock, elapsed: 500 })).toBeNull();
    expect(timeLeft(estimate, { ...clock, elapsed: 500, stage: 'evaluation', quantizationLeft: 0, evaluationStart: 45, evaluationDone: 0, evaluationTotal: 3 })).toBeNull();
  });
});
