import { describe, expect, it } from 'vitest';
import { ProgressBatcher } from './progress-batch';

/** A batcher on a hand-driven clock and timer queue. */
function harness(intervalMs = 250) {
  let now = 0;
  const timers: { at: number; fn: () => void; id: number }[] = [];
  let ids = 0;
  const batches: string[][] = [];
  const batcher = new ProgressBatcher<string>((events) => batches.push(events), {
    intervalMs,
    urgent: (e) => e.startsWith('stage'),
    now: () => now,
    setTimer: (fn, ms) => {
      const id = ++ids;
      timers.push({ at: now + ms, fn, id });
      return id;
    },
    clearTimer: (id) => {
      const i = timers.findIndex((t) => t.id === id);
      if (i >= 0) timers.splice(i, 1);
    },
  });
  const advance = (ms: number) => {
    now += ms;
    for (const t of timers.filter((x) => x.at <= now).sort((a, b) => a.at - b.at)) {
      timers.splice(timers.indexOf(t), 1);
      t.fn();
    }
  };
  return { batcher, batches, advance, pending: () => timers.length };
}

describe('ProgressBatcher', () => {
  it('hands the first event on at once, then holds the next ones until the interval is over, in order', () => {
    const h = harness();
    h.batcher.push('linear 1');
    expect(h.batches).toEqual([['linear 1']]);
    h.advance(50);
    h.batcher.push('linear 2');
    h.advance(50);
    h.batcher.push('linear 3');
    expect(h.batches).toHaveLength(1);
    expect(h.pending()).toBe(1); // one timer for the batch, not one per event
    h.advance(149);
    expect(h.batches).toHaveLength(1);
    h.advance(1); // 250 ms after the first hand-on
    expect(h.batches).toEqual([['linear 1'], ['linear 2', 'linear 3']]);
    // Quiet for longer than the interval: the next event goes at once again.
    h.advance(1000);
    h.batcher.push('linear 4');
    expect(h.batches.at(-1)).toEqual(['linear 4']);
  });

  it('hands an urgent event on at once, with those held before it', () => {
    const h = harness();
    h.batcher.push('linear 1');
    h.advance(10);
    h.batcher.push('linear 2');
    h.batcher.push('stage evaluation');
    expect(h.batches).toEqual([['linear 1'], ['linear 2', 'stage evaluation']]);
    expect(h.pending()).toBe(0);
  });

  it('flush hands on what is held (the last state before the end) and drops nothing', () => {
    const h = harness();
    const sent: string[] = [];
    for (let i = 0; i < 40; i++) {
      sent.push(`linear ${i}`);
      h.batcher.push(`linear ${i}`);
      h.advance(20);
    }
    h.batcher.flush();
    expect(h.pending()).toBe(0);
    expect(h.batches.flat()).toEqual(sent);
    // 800 ms of events at 250 ms: a handful of hand-ons, not forty.
    expect(h.batches.length).toBeLessThanOrEqual(5);
    h.batcher.flush();
    expect(h.batches.flat()).toEqual(sent); // nothing held: nothing handed on again
  });
});
