/**
 * What Ctrl-C (SIGINT) does at each phase of a quantize run. Pure: the CLI feeds it the phase (from
 * the run's progress events) and each press, and does what the answer says.
 *
 * - quantization: the first press cancels the run (within one linear); nothing is written, since a
 *   checkpoint needs every linear. A second quits at once.
 * - evaluation: the first press stops the evaluation (runModel's keepOnEvaluationCancel) and the
 *   quantized model is then written with the perplexities not measured left null. A second quits at
 *   once, writing nothing.
 * - writing: files are being written into a temporary folder that is moved into --out at the end
 *   (write-folder.ts). The first press only says so (an impatient press after the evaluation's
 *   cancel must not lose the model); a second stops the writing, which removes the temporary
 *   folder: --out is left as it was, never half-written.
 */
export type RunPhase = 'quantization' | 'evaluation' | 'writing';

/** A press's effect: the line to print, and whether the process quits at once (nothing is being written then). */
export interface PressAnswer {
  line: string;
  exitNow: boolean;
}

export class Interrupts {
  /** Aborted by the first press before the writing: the run's signal. */
  readonly run = new AbortController();
  /** Aborted by the second press during the writing: writeExport's signal. */
  readonly write = new AbortController();
  #phase: RunPhase = 'quantization';
  #presses = 0;
  /** The phase the first press came in, if any. */
  #cancelledIn: RunPhase | null = null;

  /** `out`: the --out folder, as messages name it. */
  constructor(readonly out: string) {}

  get phase(): RunPhase {
    return this.#phase;
  }

  /** The phase the run was cancelled in (the first press before the writing), or null. */
  get cancelledIn(): RunPhase | null {
    return this.#cancelledIn;
  }

  /** The run entered `phase` (phases only move forward; the writing counts its presses afresh). */
  enter(phase: RunPhase): void {
    if (phase === this.#phase) return;
    this.#phase = phase;
    if (phase === 'writing') this.#presses = 0;
  }

  /** One Ctrl-C. */
  press(): PressAnswer {
    this.#presses++;
    const out = this.out;
    if (this.#phase === 'writing') {
      if (this.#presses === 1) {
        return { line: `Ctrl-C: the files are being written to ${out}; press Ctrl-C again to stop the writing (nothing will be left there)`, exitNow: false };
      }
      this.write.abort();
      return { line: 'Ctrl-C again: stopping the writing', exitNow: false };
    }
    if (this.#presses > 1) return { line: `Ctrl-C again: quitting at once; nothing was written to ${out}`, exitNow: true };
    this.#cancelledIn = this.#phase;
    this.run.abort();
    return this.#phase === 'evaluation'
      ? { line: `Ctrl-C: stopping the evaluation; the quantized model will be written to ${out}, with null for the perplexities not measured yet ` +
        '(Ctrl-C again quits at once, writing nothing)', exitNow: false }
      : { line: `Ctrl-C: stopping the quantization; nothing will be written to ${out} (Ctrl-C again quits at once)`, exitNow: false };
  }
}
