import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { DEMO_SHAPE } from '../../testing/demo-shape';
import { longEvaluation } from '../../core/long-evaluation';
import { LongEvaluationNote, longEvaluationNote } from './LongEvaluationNote';
import { fmtDuration } from './chart-data';

describe('the studio\'s plan: a long evaluation', () => {
  const long = longEvaluation(DEMO_SHAPE, { gflops: 2, syncSeconds: 0.002 }, { nsamples: 16, seqlen: 128, trueSequential: true }, [14259 * 128], null)!;

  it('is said in the studio\'s words (its field, its durations), with a button that sets the windows per text', () => {
    expect(long).not.toBeNull();
    const note = longEvaluationNote(long);
    expect(note).toBe(`The evaluation of 14259 windows is estimated at ${fmtDuration(long.estimate.evaluation)} of the run's ${fmtDuration(long.estimate.total)}; ` +
      `${long.limit} windows per text would evaluate the first ${long.limit} of each text in about ${fmtDuration(long.shorter.evaluation)} (${fmtDuration(long.shorter.total)} in all).`);
    const html = renderToStaticMarkup(createElement(LongEvaluationNote, { long }));
    expect(html).toContain('data-testid="plan-long-evaluation"');
    expect(html).toContain(`data-limit="${long.limit}"`);
    expect(html).toContain(note.replace(/'/g, '&#x27;'));
    expect(html).toMatch(new RegExp(`data-testid="plan-long-evaluation-use"[^>]*>Use ${long.limit} windows per text</button>`));
  });
});
