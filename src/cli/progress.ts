/** One line of progress for a terminal, from the engine's progress events. */
import type { ProgressEvent } from '../core/run';

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
