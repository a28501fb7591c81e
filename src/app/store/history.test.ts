import { describe, expect, it } from 'vitest';
import { markInterrupted } from './index';
import { runLockName } from './run-locks';
import type { HistoryEntry } from './studio-state';

const entry = (id: string, status: HistoryEntry['status']): HistoryEntry => ({
  id, finishedAt: '2025-01-01T00:00:00Z', modelName: 'demo', status,
  settings: { bits: 4, groupSize: 128, sym: true, actOrder: false, staticGroups: false, percDamp: 0.01, blockSize: 128, mse: false, trueSequential: true, nsamples: 8, seqlen: 128, seed: 0 },
  layers: [], evaluations: [], size: null, exportPlan: null, seconds: 3,
});

describe('runs kept across reloads', () => {
  it('without Web Locks (null) marks every run still running as interrupted, with why, and leaves the others', () => {
    const out = markInterrupted([entry('a', 'running'), entry('b', 'done'), entry('c', 'failed')], null);
    expect(out.map((h) => h.status)).toEqual(['interrupted', 'done', 'failed']);
    expect(out[0].reason).toMatch(/reloaded or closed/);
    expect(out[1]).toEqual(entry('b', 'done'));
  });

  it('keeps running a run whose lock another tab holds, and marks interrupted one whose lock nobody holds', () => {
    const history = [entry('live', 'running'), entry('gone', 'running'), entry('b', 'done')];
    const out = markInterrupted(history, [runLockName('live'), 'some-other-lock', runLockName('b')]);
    expect(out.map((h) => h.status)).toEqual(['running', 'interrupted', 'done']);
    expect(out[0]).toBe(history[0]);
    expect(out[1].reason).toMatch(/reloaded or closed/);
    // The lock is the run's own name, not any lock that mentions it.
    expect(markInterrupted([entry('live', 'running')], ['live', 'gptq-studio-run-live2'])[0].status).toBe('interrupted');
  });

  it('gives the same history back when nothing changes (nothing to write)', () => {
    const history = [entry('live', 'running'), entry('b', 'done')];
    expect(markInterrupted(history, [runLockName('live')])).toBe(history);
  });
});
