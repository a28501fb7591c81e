import { describe, expect, it } from 'vitest';
import { markInterrupted } from './index';
import type { HistoryEntry } from './studio-state';

const entry = (id: string, status: HistoryEntry['status']): HistoryEntry => ({
  id, finishedAt: '2025-01-01T00:00:00Z', modelName: 'demo', status,
  settings: { bits: 4, groupSize: 128, sym: true, actOrder: false, staticGroups: false, percDamp: 0.01, blockSize: 128, mse: false, trueSequential: true, nsamples: 8, seqlen: 128, seed: 0 },
  layers: [], evaluations: [], size: null, exportPlan: null, seconds: 3,
});

describe('runs kept across reloads', () => {
  it('marks a run still running when the page was left as interrupted, with why, and leaves the others', () => {
    const out = markInterrupted([entry('a', 'running'), entry('b', 'done'), entry('c', 'failed')]);
    expect(out.map((h) => h.status)).toEqual(['interrupted', 'done', 'failed']);
    expect(out[0].reason).toMatch(/reloaded or closed/);
    expect(out[1]).toEqual(entry('b', 'done'));
  });
});
