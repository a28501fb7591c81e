import type { ExerciseSolution, ExerciseVerdict } from '../../../core/lessons/exercise';
import { ANSWER_TOLERANCE, parseAnswer } from '../../../core/lessons/exercise';
import type { ExerciseDraft } from './ExerciseForm';
import { num, vec } from '../fmt';

const NAMES = ['A', 'B'] as const;

/** What is wrong with a sum as typed, before its value: nothing typed, or not a number; null when it is a number. */
export function sumProblem(text: string, name: string): string | null {
  if (text.trim() === '') return `Type the sum for ${name} first (a number such as 0.25).`;
  if (Number.isNaN(parseAnswer(text))) return `“${text.trim()}” is not a number: type the sum for ${name} as a number such as 0.25.`;
  return null;
}

/** Right or not, what to look at again (or what is still missing), and (once right) the one-sentence reason. */
export function ExerciseFeedback({ verdict: v, solution: s, candidates, draft }: { verdict: ExerciseVerdict; solution: ExerciseSolution; candidates: [number[], number[]]; draft: ExerciseDraft }) {
  const better = s.better;
  const worse = better === 0 ? 1 : 0;
  const [b, w] = [s.scores[better], s.scores[worse]];
  return (
    <div className={v.allRight ? 'feedback right' : 'feedback wrong'} role="status" data-testid="l2-verdict" data-status={v.allRight ? 'right' : 'wrong'}>
      {v.allRight ? (
        <>
          <p>
            <strong>Right.</strong> {NAMES[better]} leaves {num(b.squaredSum)}, {NAMES[worse]} leaves {num(w.squaredSum)}.
          </p>
          <p data-testid="l2-why">
            GPTQ keeps {vec(candidates[better])} because it scores a rounding by the layer’s outputs on the
            calibration inputs, and there it lands within {b.errors.map(num).join(' and ')} of the original outputs
            while {vec(candidates[worse])} misses by {w.errors.map(num).join(' and ')}.
          </p>
        </>
      ) : (
        <>
          <p>
            <strong>Not yet.</strong>
          </p>
          <ul>
            {([0, 1] as const).map((i) =>
              v.sumsRight[i] ? (
                <li key={i}>The sum for {NAMES[i]} is right.</li>
              ) : sumProblem(draft.sums[i], NAMES[i]) !== null ? (
                <li key={i} data-testid={`l2-missing-sum-${i}`}>{sumProblem(draft.sums[i], NAMES[i])}</li>
              ) : (
                <li key={i} data-testid={`l2-wrong-sum-${i}`}>
                  The sum for {NAMES[i]} is off (answers within {num(ANSWER_TOLERANCE)} count): compute W·x and ŵ·x for both
                  inputs, subtract, square, add.
                </li>
              ),
            )}
            {!v.pickRight && draft.pick === null && <li data-testid="l2-missing-pick">Pick A or B: which one does GPTQ keep?</li>}
            {!v.pickRight && draft.pick !== null && <li data-testid="l2-wrong-pick">Look at the pick again: the smaller sum wins.</li>}
          </ul>
        </>
      )}
    </div>
  );
}
