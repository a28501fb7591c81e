import { useEffect, useRef, useState } from 'react';

/** Least milliseconds between two draws of a chart of the run while it goes (its progress is shown more often). */
export const CHART_INTERVAL_MS = 1000;

/**
 * `value`, changed at most once every `ms` milliseconds (the latest value at the end of the wait);
 * at once when `ms` is 0. A chart fed through it draws at that pace however often its data changes.
 */
export function useHeld<T>(value: T, ms: number): T {
  const [shown, setShown] = useState(value);
  const shownAt = useRef(-Infinity);
  useEffect(() => {
    if (Object.is(value, shown)) return;
    const show = () => {
      shownAt.current = performance.now();
      setShown(value);
    };
    const wait = ms > 0 ? shownAt.current + ms - performance.now() : 0;
    if (wait <= 0) {
      show();
      return;
    }
    const timer = setTimeout(show, wait);
    return () => clearTimeout(timer);
  }, [value, shown, ms]);
  return ms > 0 ? shown : value;
}
