import { useRef } from 'react';

/**
 * `value`, or the value of an earlier render while `same` holds between them: a chart keeps the
 * identity of props that did not change in content (recharts compares props by identity and
 * registers an element again in its store, with a round of updates, when one changes).
 */
export function useStable<T>(value: T, same: (a: T, b: T) => boolean): T {
  const kept = useRef(value);
  if (kept.current !== value && !same(kept.current, value)) kept.current = value;
  return kept.current;
}
