/**
 * The store as a page loads it: the history read from localStorage, the 'running' entries settled
 * against the Web Locks held (another tab's live run stays running), and the history read again
 * when another tab writes it. window, localStorage and navigator.locks are stand-ins; the store
 * module is loaded fresh for each case, as a page load does.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { HistoryEntry } from './studio-state';

const KEY = 'gptq-studio';

const entry = (id: string, status: HistoryEntry['status']): HistoryEntry => ({
  id, finishedAt: '2025-01-01T00:00:00Z', modelName: 'demo', status,
  settings: { bits: 4, groupSize: 128, sym: true, actOrder: false, staticGroups: false, percDamp: 0.01, blockSize: 128, mse: false, trueSequential: true, nsamples: 8, seqlen: 128, seed: 0 },
  layers: [], evaluations: [], size: null, exportPlan: null, seconds: 3,
});

/** A page's window with its localStorage (seeded with `history`) and the listeners it was given. */
function page(history: HistoryEntry[], locks: { held: string[] } | null) {
  const store = new Map<string, string>([[KEY, JSON.stringify({ state: { history }, version: 1 })]]);
  const localStorage = {
    getItem: (k: string) => store.get(k) ?? null,
    setItem: (k: string, v: string) => void store.set(k, v),
    removeItem: (k: string) => void store.delete(k),
  };
  const listeners: ((e: { key: string | null }) => void)[] = [];
  vi.stubGlobal('window', { localStorage, addEventListener: (type: string, fn: (e: { key: string | null }) => void) => type === 'storage' && listeners.push(fn) });
  vi.stubGlobal('navigator', locks ? {
    locks: {
      request: () => new Promise(() => {}),
      query: () => Promise.resolve({ held: locks.held.map((name) => ({ name, mode: 'exclusive' })), pending: [] }),
    },
  } : {});
  const stored = () => (JSON.parse(store.get(KEY)!) as { state: { history: HistoryEntry[] } }).state.history;
  return { store, listeners, stored };
}

async function loadStore() {
  vi.resetModules();
  return (await import('./index')).useStudioStore;
}

const statuses = (h: readonly HistoryEntry[]) => Object.fromEntries(h.map((e) => [e.id, e.status]));

afterEach(() => vi.unstubAllGlobals());

describe('the history when a page loads, with other tabs', () => {
  it('keeps running the run whose lock another tab holds, marks interrupted the one nobody holds, and stores that', async () => {
    const p = page([entry('live', 'running'), entry('gone', 'running'), entry('done', 'done')], { held: ['gptq-studio-run-live'] });
    const store = await loadStore();
    await vi.waitFor(() => expect(statuses(store.getState().history)).toEqual({ live: 'running', gone: 'interrupted', done: 'done' }));
    expect(statuses(p.stored())).toEqual({ live: 'running', gone: 'interrupted', done: 'done' });
  });

  it('without Web Locks marks every running run interrupted as the page loads, as before', async () => {
    page([entry('a', 'running'), entry('b', 'done')], null);
    const store = await loadStore();
    expect(statuses(store.getState().history)).toEqual({ a: 'interrupted', b: 'done' });
  });

  it('reads the history again when another tab writes it, and settles it then (a tab that closed mid-run)', async () => {
    const locks = { held: ['gptq-studio-run-live'] };
    const p = page([entry('live', 'running')], locks);
    const store = await loadStore();
    await new Promise((r) => setTimeout(r, 10));
    expect(statuses(store.getState().history)).toEqual({ live: 'running' });
    // The other tab closes (its lock goes) and a third one adds a run.
    locks.held = [];
    p.store.set(KEY, JSON.stringify({ state: { history: [entry('new', 'done'), entry('live', 'running')] }, version: 1 }));
    for (const l of p.listeners) l({ key: 'something-else' });
    expect(statuses(store.getState().history)).toEqual({ live: 'running' });
    for (const l of p.listeners) l({ key: KEY });
    await vi.waitFor(() => expect(statuses(store.getState().history)).toEqual({ new: 'done', live: 'interrupted' }));
  });

  it('writes the history only when it changes: another state change does not write an old copy over another tab\'s', async () => {
    const p = page([entry('a', 'done')], { held: [] });
    const store = await loadStore();
    await new Promise((r) => setTimeout(r, 10));
    const theirs = JSON.stringify({ state: { history: [entry('b', 'done'), entry('a', 'done')] }, version: 1 });
    p.store.set(KEY, theirs); // another tab's write, its event not yet here
    store.getState().setAdapter({ status: 'loading' });
    store.getState().selectLayer('0.mlp.down_proj');
    expect(p.store.get(KEY)).toBe(theirs);
    // A change of this tab's history is written (over it: the storage event would have brought theirs first).
    store.getState().removeHistory('a');
    expect(p.stored()).toEqual([]);
  });
});
