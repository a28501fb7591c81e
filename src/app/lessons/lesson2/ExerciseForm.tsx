import { useId } from 'react';
import type { ExerciseVerdict } from '../../../core/lessons/exercise';
import { vec } from '../fmt';

export interface ExerciseDraft {
  /** The two squared-error sums as typed. */
  sums: [string, string];
  pick: 0 | 1 | null;
}

interface ExerciseFormProps {
  candidates: [number[], number[]];
  draft: ExerciseDraft;
  verdict: ExerciseVerdict | null;
  onChange(d: ExerciseDraft): void;
  onCheck(): void;
}

const NAMES = ['A', 'B'] as const;

/** Two sums to type and one candidate to pick; checking is the parent's job. */
export function ExerciseForm({ candidates, draft, verdict, onChange, onCheck }: ExerciseFormProps) {
  const id = useId();
  const setSum = (i: 0 | 1, text: string) => {
    const sums: [string, string] = [...draft.sums];
    sums[i] = text;
    onChange({ ...draft, sums });
  };
  return (
    <form
      className="exercise"
      onSubmit={(e) => {
        e.preventDefault();
        onCheck();
      }}
    >
      {([0, 1] as const).map((i) => (
        <p key={i} className="exercise-sum">
          <label htmlFor={`${id}-sum-${i}`}>
            Σ error² for {NAMES[i]} = {vec(candidates[i])}
          </label>{' '}
          <input
            id={`${id}-sum-${i}`}
            type="text"
            inputMode="decimal"
            autoComplete="off"
            value={draft.sums[i]}
            aria-invalid={verdict ? !verdict.sumsRight[i] : undefined}
            data-testid={`l2-sum-${i}`}
            onChange={(e) => setSum(i, e.target.value)}
          />
        </p>
      ))}
      <fieldset className="exercise-pick">
        <legend>Which one does GPTQ keep?</legend>
        {([0, 1] as const).map((i) => (
          <label key={i}>
            <input
              type="radio"
              name={`${id}-pick`}
              value={i}
              checked={draft.pick === i}
              data-testid={`l2-pick-${i}`}
              onChange={() => onChange({ ...draft, pick: i })}
            />{' '}
            {NAMES[i]} = {vec(candidates[i])}
          </label>
        ))}
      </fieldset>
      <button type="submit" data-testid="l2-check">
        Check my answer
      </button>
    </form>
  );
}
