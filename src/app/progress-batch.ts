/**
 * Holds a run's progress events and hands them on in batches, so that the page re-renders a few
 * times a second however fast the worker reports (a small model on a fast GPU finishes tens of
 * linears a second; each render redraws the charts). Nothing is dropped: every event is handed on,
 * in order, only later and together with the events that came meanwhile.
 */

export interface ProgressBatchOptions<E> {
  /** Least milliseconds between two hand-ons, except for urgent events. */
  intervalMs: number;
  /** Events handed on at once with those held before them (a change of stage, a result). */
  urgent: (event: E) => boolean;
  /** The clock, in milliseconds (performance.now() by default; a test passes its own). */
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (timer: unknown) => void;
}

/**
 * Batches events for `handOn`. An event is handed on at once when nothing was handed on in the
 * last `intervalMs` or when it is urgent; otherwise it waits, with those after it, for the end of
 * that interval. `flush()` hands on what is held now and stops the timer: call it before acting
 * on the run's end, so that its last state is in.
 */
export class ProgressBatcher<E> {
  readonly #handOn: (events: E[]) => void;
  readonly #options: Required<ProgressBatchOptions<E>>;
  #held: E[] = [];
  #timer: unknown = null;
  #last = -Infinity;

  constructor(handOn: (events: E[]) => void, options: ProgressBatchOptions<E>) {
    this.#handOn = handOn;
    this.#options = {
      now: () => performance.now(),
      setTimer: (fn, ms) => setTimeout(fn, ms),
      clearTimer: (t) => clearTimeout(t as ReturnType<typeof setTimeout>),
      ...options,
    };
  }

  push(event: E): void {
    this.#held.push(event);
    const { intervalMs, urgent, now, setTimer } = this.#options;
    const wait = this.#last + intervalMs - now();
    if (urgent(event) || wait <= 0) {
      this.flush();
      return;
    }
    this.#timer ??= setTimer(() => {
      this.#timer = null;
      this.flush();
    }, wait);
  }

  /** Hands on the events held, if any. */
  flush(): void {
    if (this.#timer !== null) {
      this.#options.clearTimer(this.#timer);
      this.#timer = null;
    }
    if (this.#held.length === 0) return;
    const events = this.#held;
    this.#held = [];
    this.#last = this.#options.now();
    this.#handOn(events);
  }
}
