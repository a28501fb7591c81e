import { describe, expect, it } from 'vitest';
import { DEMO_SHAPE } from '../testing/demo-shape';
import { estimateRunTime, type AdapterSpeed } from './time-model';
import { LONG_EVALUATION_SECONDS, longEvaluation, longEvaluationText, SHORT_EVALUATION_SECONDS } from './long-evaluation';

const slow: AdapterSpeed = { gflops: 2, syncSeconds: 0.002 };
const size = { nsamples: 16, seqlen: 128, trueSequential: true };
/** Two texts: 14259 and 3000 windows of 128 tokens. */
const tokens = [14259 * 128 + 5, 3000 * 128];

describe('the long-evaluation warning (CLI and studio)', () => {
  it('finds the largest windows per text whose evaluation fits max(60 s, the quantization)', () => {
    const long = longEvaluation(DEMO_SHAPE, slow, size, tokens, null)!;
    expect(long).not.toBeNull();
    expect(long.windows).toBe(14259 + 3000);
    expect(long.estimate).toEqual(estimateRunTime(DEMO_SHAPE, slow, size, tokens, null));
    expect(long.estimate.evaluation).toBeGreaterThan(LONG_EVALUATION_SECONDS);
    const target = Math.max(SHORT_EVALUATION_SECONDS, long.estimate.quantization);
    const at = (limit: number) => estimateRunTime(DEMO_SHAPE, slow, size, tokens, limit);
    expect(long.shorter).toEqual(at(long.limit));
    expect(long.shorter.evaluation).toBeLessThanOrEqual(target);
    expect(at(long.limit + 1).evaluation).toBeGreaterThan(target);
    // With that limit set, the evaluation is no longer long.
    expect(longEvaluation(DEMO_SHAPE, slow, size, tokens, long.limit)).toBeNull();
  });

  it('says nothing when the evaluation is short, shorter than the quantization, or cannot be shortened', () => {
    expect(longEvaluation(DEMO_SHAPE, { gflops: 1e4, syncSeconds: 0 }, size, tokens, null)).toBeNull();
    // Long, but the quantization (many long calibration windows) is longer still.
    const heavy = { nsamples: 4096, seqlen: 2048, trueSequential: true };
    const t = estimateRunTime(DEMO_SHAPE, slow, heavy, [4000 * 2048], null);
    expect(t.evaluation).toBeGreaterThan(LONG_EVALUATION_SECONDS);
    expect(t.quantization).toBeGreaterThan(t.evaluation);
    expect(longEvaluation(DEMO_SHAPE, slow, heavy, [4000 * 2048], null)).toBeNull();
    // One window per text already: no smaller limit to suggest.
    expect(longEvaluation(DEMO_SHAPE, { gflops: 1e-4, syncSeconds: 0 }, size, [128, 128], null)).toBeNull();
  });

  it('words the warning with the front end\'s setting and unit of time', () => {
    const long = longEvaluation(DEMO_SHAPE, slow, size, tokens, null)!;
    const text = longEvaluationText(long, (n) => `--eval-windows ${n}`, (s) => `${Math.round(s)}s`);
    expect(text).toBe(`the evaluation of 17259 windows is estimated at ${Math.round(long.estimate.evaluation)}s of the run's ${Math.round(long.estimate.total)}s; ` +
      `--eval-windows ${long.limit} would evaluate the first ${long.limit} of each text in about ${Math.round(long.shorter.evaluation)}s (${Math.round(long.shorter.total)}s in all)`);
  });
});
