import type { LongEvaluation } from '../../core/long-evaluation';
import { longEvaluationText } from '../../core/long-evaluation';
import { useStudioStore } from '../store';
import { fmtDuration } from './chart-data';

/** The CLI's long-evaluation warning in the studio's words: "Windows per text" is the field that shortens it. */
export function longEvaluationNote(long: LongEvaluation): string {
  const text = longEvaluationText(long, (limit) => `${limit} windows per text`, fmtDuration);
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
}

/** Beside the plan: the evaluation is estimated long, and a button that sets the windows per text that keep it short. */
export function LongEvaluationNote({ long }: { long: LongEvaluation }) {
  return (
    <p className="warning" data-testid="plan-long-evaluation" data-limit={long.limit}>
      {longEvaluationNote(long)}{' '}
      <button type="button" data-testid="plan-long-evaluation-use" onClick={() => useStudioStore.getState().updateSettings({ evalWindows: long.limit })}>
        Use {long.limit} windows per text
      </button>
    </p>
  );
}
