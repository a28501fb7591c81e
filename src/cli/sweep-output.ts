/**
 * What `--sweep` writes and says once runSweep returns: report.json (with the process's backend
 * and its file list), the front, and the exit code. A sweep cancelled after some strategies had
 * finished every seed returns their report (src/engine/sweep.ts): it is written too, and the exit
 * code is the cancel's (130); one cancelled before that throws RunCancelledError and nothing is written.
 */
import { sweepCancelledText, type SweepRunReport } from '../core/sweep';

/** The exit code of a cancelled run (Ctrl-C), as for a shell's SIGINT. */
export const CANCELLED_EXIT_CODE = 130;

export interface SweepOutput {
  /** report.json's text. */
  reportJson: string;
  /** What stderr gets once report.json is written. */
  message: string;
  /** 0 for a finished sweep, CANCELLED_EXIT_CODE for a cancelled one. */
  code: number;
}

/**
 * report.json of `report` (its `adapter.backend` set to `backend`, `files` to report.json), and
 * the lines naming the Pareto front on the evaluation text `text` and the folder `out`; for a
 * cancelled sweep also which strategies were kept and which not measured. `report` is changed.
 */
export function sweepOutput(report: SweepRunReport, backend: string, text: string, out: string): SweepOutput {
  report.adapter.backend = backend;
  report.files = ['report.json'];
  const byLabel = new Map(report.sweep.strategies.map((s) => [s.label, s]));
  const front = report.sweep.front.map((l) => {
    const s = byLabel.get(l)!;
    const ppl = s.summary.perplexity;
    return `${l} (${s.bpw.toFixed(3)} bits per weight, perplexity ${ppl ? ppl.mean.toFixed(3) : 'not measured'})`;
  });
  const c = report.cancelled;
  // A cancel can land while a progress bar is drawn in place: its lines start on a line of their own.
  const lines = c
    ? [
      '',
      `The sweep was ${sweepCancelledText(c)}.`,
      `Kept: ${report.sweep.strategies.map((s) => s.label).join(', ')} (every seed measured).`,
      `Pareto front of the strategies kept on ${text}: ${front.join(', ')}`,
      `wrote report.json (the strategies kept, and "cancelled") to ${out}`,
    ]
    : [`Pareto front on ${text}: ${front.join(', ')}`, `wrote report.json to ${out}`];
  return { reportJson: `${JSON.stringify(report, null, 2)}\n`, message: `${lines.join('\n')}\n`, code: c ? CANCELLED_EXIT_CODE : 0 };
}
