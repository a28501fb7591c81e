/**
 * The one module that talks to the Web Locks API (navigator.locks): while a run goes, its tab
 * holds the lock runLockName(id), so another tab of the studio can tell a run that is still
 * going (its lock is held) from one whose page is gone (the browser released the lock when the
 * tab closed or reloaded). Where the browser has no Web Locks (or refuses them), the functions
 * say so (null, no-op) and the history falls back to taking every 'running' entry as interrupted.
 */

/** The Web Locks name a run holds for its whole life: "gptq-studio-run-<run id>". */
export function runLockName(runId: string): string {
  return `gptq-studio-run-${runId}`;
}

/** Names this tab holds or has asked for: its own run counts as live before the browser grants the lock. */
const own = new Set<string>();

function lockManager(): LockManager | null {
  const nav = (globalThis as { navigator?: Navigator }).navigator;
  return nav?.locks && typeof nav.locks.request === 'function' && typeof nav.locks.query === 'function' ? nav.locks : null;
}

/** Whether this browser has the Web Locks API (not in node, nor in old browsers). */
export function runLocksAvailable(): boolean {
  return lockManager() !== null;
}

/**
 * Takes the run's lock and keeps it until the returned function is called (or the tab goes).
 * Resolves once the lock is held; resolves as well, with the same kind of release, where there is
 * no Web Locks API or the browser refuses the request: the run never waits on, nor fails for, its lock.
 */
export function holdRunLock(runId: string): Promise<() => void> {
  const locks = lockManager();
  if (!locks) return Promise.resolve(() => {});
  const name = runLockName(runId);
  own.add(name);
  let release = () => {};
  const released = new Promise<void>((resolve) => {
    release = () => {
      own.delete(name);
      resolve();
    };
  });
  return new Promise((resolve) => {
    locks.request(name, () => {
      resolve(release);
      return released;
    }).catch(() => resolve(release));
  });
}

/**
 * The run-lock names held now by any tab of this origin (this tab's own, asked for or held,
 * included); null where there is no Web Locks API or the browser does not answer the query.
 */
export async function heldRunLocks(): Promise<string[] | null> {
  const locks = lockManager();
  if (!locks) return null;
  try {
    const snapshot = await locks.query();
    const names = (snapshot.held ?? []).map((l) => l.name).filter((n): n is string => typeof n === 'string');
    return [...new Set([...names, ...own])];
  } catch {
    return null;
  }
}
