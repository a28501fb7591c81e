/**
 * Progress lines from the engine's events: one line for a terminal (redrawn in place), and for a
 * stderr that is not one (a log, a pipe) the lines worth keeping, throttled (LineThrottle).
 */
import { counted } from '../core/plural';
import type { ProgressEvent } from '../core/run';
import type { SweepProgressEvent } from '../core/sweep';

/** 12.3 → "12.3s"; 3839.6 → "64m00s" (whole seconds rounded first, so never "63m60s"). */
export const seconds = (s: number) => {
  if (s < 90) return `${s.toFixed(1)}s`;
  const whole = Math.round(s);
  return `${Math.floor(whole / 60)}m${String(whole % 60).padStart(2, '0')}s`;
};

export function progressLine(e: ProgressEvent, width = 24): string {
  switch (e.type) {
    case 'stage':
      return `${e.stage}: ${e.detail} (${seconds(e.elapsed)})`;
    case 'block':
      return `block ${e.block + 1}/${e.blocks} done (${seconds(e.elapsed)})`;
    case 'evaluation':
      return `evaluating ${e.text} (${e.variant}): window ${e.windowsDone} of ${e.windows} (${seconds(e.elapsed)})`;
    case 'evaluationStep':
      return `evaluating ${e.text}: windows ${e.from + 1}–${e.to} of ${e.windows}, block ${e.step} of ${e.steps - 1} run by the three models (${seconds(e.elapsed)})`;
    case 'perplexity':
      return `perplexity ${e.variant}: ${e.value.toFixed(3)} (${seconds(e.elapsed)})`;
    case 'linear': {
      const filled = Math.round((e.done / e.total) * width);
      const bar = '#'.repeat(filled) + '.'.repeat(width - filled);
      const r = e.report;
      return (
        `[${bar}] ${e.done}/${e.total} block ${r.block + 1}/${e.blocks} ${r.name} ` +
        `mse gptq/rtn ${(r.gptq.mse / r.rtn.mse).toFixed(2)}  ${seconds(e.elapsed)} elapsed, ~${seconds(e.etaSeconds)} left`
      );
    }
  }
}

/** One line of a sweep's progress (linear events only as a bar within the step). */
export function sweepProgressLine(e: SweepProgressEvent, width = 24): string {
  switch (e.type) {
    case 'stage':
      return `${e.stage}: ${e.detail} (${seconds(e.elapsed)})`;
    case 'step':
      return `step ${e.step + 1}/${e.steps} seed ${e.seed}: ${e.phase} ${e.labels.join(', ')} (${seconds(e.elapsed)})`;
    case 'linear': {
      const filled = Math.round((e.done / e.total) * width);
      return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${e.done}/${e.total} linears (${seconds(e.elapsed)})`;
    }
    case 'result': {
      const [text, ppl] = Object.entries(e.result.perplexity)[0] ?? ['', null];
      const kld = e.result.divergence[text]?.kld_mean;
      return `${e.label} seed ${e.result.seed}: perplexity ${ppl === null ? 'not measured' : ppl.toFixed(3)}` +
        `${kld === undefined ? '' : `, KLD ${kld.toPrecision(3)}`} on ${text} (${seconds(e.elapsed)})`;
    }
  }
}

/** One tick of progress offered to a LineThrottle. */
export interface ProgressTick {
  /** The stage the tick belongs to: a tick of another stage than the last one always prints. */
  stage: string;
  /** How far the stage is, from 0 to 1; null when it has no measure (then time alone decides). */
  fraction: number | null;
  /** The stage's last tick: always printed. */
  last: boolean;
  /** Seconds on a clock that only moves forward. */
  now: number;
}

/**
 * Which progress lines a stderr that is not a terminal gets (a log file, a pipe, CI): the first
 * tick of each stage, its last, and between them one line when the stage has moved on by at least
 * `minFraction` AND `minSeconds` have passed since the stage's last printed line, i.e. every 5 % or
 * every 10 s, whichever is rarer; and the first tick after `maxSeconds` of silence whatever the
 * fraction (a long run's 5 % can be many minutes). Pure: the caller gives the time.
 */
export class LineThrottle {
  #stage: string | null = null;
  #fraction = 0;
  #time = 0;

  constructor(readonly minFraction = 0.05, readonly minSeconds = 10, readonly maxSeconds = 60) {}

  /** True when this tick's line should be printed (and it then counts as the last one printed). */
  admit(t: ProgressTick): boolean {
    if (t.stage !== this.#stage) {
      this.#stage = t.stage;
      this.#fraction = t.fraction ?? 0;
      this.#time = t.now;
      return true;
    }
    if (!t.last && t.now - this.#time < this.maxSeconds) {
      if (t.now - this.#time < this.minSeconds) return false;
      // (less a rounding hair: 0.57 − 0.52 is 0.04999… in floats)
      if (t.fraction !== null && t.fraction - this.#fraction < this.minFraction - 1e-9) return false;
    }
    this.#fraction = t.fraction ?? this.#fraction;
    this.#time = t.now;
    return true;
  }
}

/**
 * A line for a log when nothing was printed for a while: a single long piece of work (one large
 * linear's GPTQ, a long capture) sends no event for minutes, so the throttle alone stays silent.
 * The CLI ticks it every few seconds; it names the last event seen, printed or not.
 */
export class Heartbeat {
  #last = 'starting';
  #lastAt: number;

  constructor(readonly start: number, readonly every = 60) {
    this.#lastAt = start;
  }

  /** An event's line, printed or not: what the next heartbeat names, without its times (stale by then). */
  saw(line: string): void {
    this.#last = line.replace(/ +\S+ elapsed, ~\S+ left$/, '').replace(/ +\((\d+m)?[\d.]+s\)$/, '');
  }

  /** A line was printed at `now`. */
  printed(now: number): void {
    this.#lastAt = now;
  }

  /** The line to print at `now` when nothing was printed for `every` seconds, else null. */
  tick(now: number): string | null {
    if (now - this.#lastAt < this.every) return null;
    this.#lastAt = now;
    return `still working, ${seconds(now - this.start)} in all; the last step: ${this.#last}`;
  }
}

/** A pass of evaluation windows, as one line for all three models (a log gets one line per pass, not three). */
export function evaluationPassLine(e: Extract<ProgressEvent, { type: 'evaluation' }>): string {
  return `evaluating ${e.text}: ${e.windowsDone} of ${counted(e.windows, 'window')}, each scored by the original, RTN and GPTQ models (${seconds(e.elapsed)})`;
}

/**
 * A stage's epochs for the throttle: a stage event without progress fields begins a stage (the
 * evaluation of a second text begins a new one though its stage name is the same); one with them
 * ('checking', repeated) begins one when the stage name changes or its progress goes back (a
 * sweep's next model evaluated after the last).
 */
class Stages {
  #count = 0;
  #name: string | null = null;
  #done: number | null = null;

  /** `done`: a repeated event's progress; one that goes back (the next model's evaluation) begins a stage too. */
  enter(name: string, repeats: boolean, done: number | null = null): string {
    const back = done !== null && this.#done !== null && done < this.#done;
    if (!repeats || name !== this.#name || back) this.#count++;
    this.#name = name;
    this.#done = done;
    return this.current;
  }

  get current(): string {
    return String(this.#count);
  }
}

/** Whether a stage event's line is printed: a stage entered always; a repeated one (done of total) through the throttle. */
function admitStage(stages: Stages, throttle: LineThrottle, e: { stage: string; done?: number; total?: number }, now: number): boolean {
  const repeats = e.done !== undefined && e.total !== undefined;
  const stage = stages.enter(e.stage, repeats, repeats ? e.done! : null);
  const fraction = repeats && e.total! > 0 ? e.done! / e.total! : null;
  return throttle.admit({ stage, fraction, last: repeats && e.done! >= e.total!, now });
}

/**
 * A run's progress for a stderr that is not a terminal: the line to print for each event, or null.
 * Stage lines and perplexities always; the linears' bar, blocks, the repeated 'checking' lines and
 * evaluation passes through a LineThrottle (the bar and the block lines share the quantization's
 * stage, so a long block still gets a line every ~5 % or ~10 s); the evaluation's three models per
 * pass as one line. `now` gives seconds (the CLI: the process clock).
 */
export function pipedProgress(now: () => number, throttle = new LineThrottle()): (e: ProgressEvent) => string | null {
  const stages = new Stages();
  let lastPass: string | null = null;
  return (e) => {
    switch (e.type) {
      case 'stage':
        return admitStage(stages, throttle, e, now()) ? progressLine(e) : null;
      case 'block':
        return throttle.admit({ stage: stages.current, fraction: (e.block + 1) / e.blocks, last: e.block + 1 === e.blocks, now: now() }) ? progressLine(e) : null;
      case 'linear':
        return throttle.admit({ stage: stages.current, fraction: e.done / e.total, last: e.done === e.total, now: now() }) ? progressLine(e) : null;
      case 'evaluation': {
        // The three models report each pass one after the other: the pass is one tick.
        const pass = `${e.text}\u0000${e.windowsDone}`;
        if (pass === lastPass) return null;
        lastPass = pass;
        return throttle.admit({ stage: stages.current, fraction: e.windowsDone / e.windows, last: e.windowsDone === e.windows, now: now() }) ? evaluationPassLine(e) : null;
      }
      case 'evaluationStep':
        // A log gets the passes (above), not the blocks within them; a heartbeat still names the last.
        return null;
      case 'perplexity':
        return progressLine(e);
    }
  };
}

/** A sweep's progress for a stderr that is not a terminal, as pipedProgress: steps and results always, the bar and 'checking' throttled. */
export function pipedSweepProgress(now: () => number, throttle = new LineThrottle()): (e: SweepProgressEvent) => string | null {
  const stages = new Stages();
  return (e) => {
    switch (e.type) {
      case 'stage':
        return admitStage(stages, throttle, e, now()) ? sweepProgressLine(e) : null;
      case 'step':
        // Always printed; it begins the throttle's stage for the step's bar.
        throttle.admit({ stage: stages.enter('step', false), fraction: 0, last: false, now: now() });
        return sweepProgressLine(e);
      case 'linear':
        return throttle.admit({ stage: stages.current, fraction: e.done / e.total, last: e.done === e.total, now: now() }) ? sweepProgressLine(e) : null;
      case 'result':
        return sweepProgressLine(e);
    }
  };
}
