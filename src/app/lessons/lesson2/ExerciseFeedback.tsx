import type { ExerciseSolution, ExerciseVerdict } from '../../../core/lessons/exercise';
import { ANSWER_TOLERANCE } from '../../../core/lessons/exercise';
import { num, vec } from '../fmt';

const NAMES = ['A', 'B'] as const;

/** Right or not, what to look at again, and (once right) the one-sentence reason. */
export function ExerciseFeedback({ verdict: v, solution: s, candidates }: { verdict: ExerciseVerdict; solution: ExerciseSolution; candidates: [number[], number[]] }) {
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
              ) : (
                <li key={i} data-testid={`l2-wrong-sum-${i}`}>
                  The sum for {NAMES[i]} is off (answers within {num(ANSWER_TOLERANCE)} count): compute W·x and ŵ·x for both
                  inputs, subtract, square, add.
                </li>
              ),
            )}
            {!v.pickRight && <li data-testid="l2-wrong-pick">Look at the pick again: the smaller sum wins.</li>}
          </ul>
        </>
      )}
    </div>
  );
}
