import { afterEach, describe, expect, it, vi } from 'vitest';
import { heldRunLocks, holdRunLock, runLockName, runLocksAvailable } from './run-locks';

/**
 * A minimal exclusive LockManager (what navigator.locks does for one origin): request() runs the
 * callback once the name is free and holds it until the callback's promise settles; query()
 * lists the names held. `grant` controls when a free lock is granted (a browser answers later).
 */
function fakeLocks(opts: { refuse?: boolean } = {}) {
  const held = new Set<string>();
  const queue: { name: string; cb: () => Promise<unknown> }[] = [];
  const pump = () => {
    for (const q of [...queue]) {
      if (held.has(q.name)) continue;
      queue.splice(queue.indexOf(q), 1);
      held.add(q.name);
      void q.cb().finally(() => {
        held.delete(q.name);
        pump();
      });
    }
  };
  return {
    held,
    grant: pump,
    request(name: string, cb: () => Promise<unknown>) {
      if (opts.refuse) return Promise.reject(new DOMException('no locks here', 'SecurityError'));
      queue.push({ name, cb });
      return Promise.resolve();
    },
    query: () => Promise.resolve({ held: [...held].map((name) => ({ name, mode: 'exclusive' })), pending: queue.map((q) => ({ name: q.name, mode: 'exclusive' })) }),
  };
}

afterEach(() => vi.unstubAllGlobals());

describe('run locks (Web Locks)', () => {
  it('where there are none (node, old browsers), says so: nothing held is known and holding is a no-op', async () => {
    vi.stubGlobal('navigator', undefined);
    expect(runLocksAvailable()).toBe(false);
    expect(await heldRunLocks()).toBeNull();
    const release = await holdRunLock('run-1');
    expect(() => release()).not.toThrow();
  });

  it('holds the run\'s lock from before it is granted until it is released, and other tabs see it held', async () => {
    const locks = fakeLocks();
    vi.stubGlobal('navigator', { locks });
    expect(runLocksAvailable()).toBe(true);
    const holding = holdRunLock('run-1');
    // Asked for, not granted yet: this tab already counts its own run as live.
    expect(await heldRunLocks()).toEqual([runLockName('run-1')]);
    locks.grant();
    const release = await holding;
    expect([...locks.held]).toEqual(['gptq-studio-run-run-1']);
    locks.held.add('gptq-studio-run-run-0'); // another tab's run
    expect((await heldRunLocks())!.sort()).toEqual(['gptq-studio-run-run-0', 'gptq-studio-run-run-1']);
    release();
    await new Promise((r) => setTimeout(r, 0));
    expect([...locks.held]).toEqual(['gptq-studio-run-run-0']);
    expect(await heldRunLocks()).toEqual(['gptq-studio-run-run-0']);
  });

  it('a refused request or query never blocks the run: it goes on, and the history falls back to null', async () => {
    const locks = fakeLocks({ refuse: true });
    vi.stubGlobal('navigator', { locks: { ...locks, query: () => Promise.reject(new Error('no')) } });
    const release = await holdRunLock('run-2');
    release();
    expect(await heldRunLocks()).toBeNull();
  });
});
