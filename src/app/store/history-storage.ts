/**
 * The storage the studio's history persists in: localStorage, as zustand's JSON storage, except
 * that a value equal to the one this tab last wrote or read is not written again. The store
 * writes on every state change (a measured speed, a progress tick); without this, a tab would
 * write its copy of the history back over one another tab had just written (a run of its own, an
 * entry it settled), although this tab's history had not changed.
 */
import type { PersistStorage, StorageValue } from 'zustand/middleware';

/** Undefined where there is no localStorage (node, a browser refusing it): the history is then not kept, as before. */
export function historyStorage<S>(): PersistStorage<S> | undefined {
  let local: Storage;
  try {
    local = (globalThis as { window?: { localStorage: Storage } }).window!.localStorage;
    if (!local) return undefined;
  } catch {
    return undefined;
  }
  /** What this tab last wrote or read, by name. */
  const known = new Map<string, string>();
  return {
    getItem: (name) => {
      const text = local.getItem(name);
      if (text === null) return null;
      known.set(name, text);
      return JSON.parse(text) as StorageValue<S>;
    },
    setItem: (name, value) => {
      const text = JSON.stringify(value);
      if (known.get(name) === text) return;
      known.set(name, text);
      local.setItem(name, text);
    },
    removeItem: (name) => {
      known.delete(name);
      local.removeItem(name);
    },
  };
}
