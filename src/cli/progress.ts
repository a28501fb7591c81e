/** One line of progress for a terminal, from the engine's progress events. */
import type { ProgressEvent } from '../core/run';
import type { SweepProgressEvent } from '../core/sweep';

const seconds = (s: number) => (s >= 90 ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${s.toFixed(1)}s`);

export function progressLine(e: ProgressEvent, width = 24): string {
  switch (e.type) {
    case 'stage':
      return `${e.stage}: ${e.detail} (${seconds(e.elapsed)})`;
    case 'block':
      return `block ${e.block + 1}/${e.blocks} done (${seconds(e.elapsed)})`;
    case 'evaluation':
      return `evaluating ${e.text} (${e.variant}): window ${e.windowsDone} of ${e.windows} (${seconds(e.elapsed)})`;
    case 'perplexity':
      return `perplexity ${e.variant}: ${e.value.toFixed(3)} (${seconds(e.elapsed)})`;
    case 'linear': {
      const filled = Math.round((e.done / e.total) * width);
      const bar = '#'.repeat(filled) + '.'.repeat(width - filled);
      const r = e.report;
      return (
        `[${bar}] ${e.done}/${e.total} block ${r.block} ${r.name} ` +
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
