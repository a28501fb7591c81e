import type { Exercise, ExerciseSolution } from '../../../core/lessons/exercise';
import { num, vec } from '../fmt';

const NAMES = ['A', 'B'] as const;

/** The worked solution as a table, and what GPTQ itself does with this row. */
export function ExerciseWorking({ exercise: ex, solution: s }: { exercise: Exercise; solution: ExerciseSolution }) {
  return (
    <section className="panel" data-testid="l2-working">
      <h3>The working</h3>
      <table className="facts">
        <thead>
          <tr>
            <th scope="col">Row</th>
            <th scope="col">output on x1</th>
            <th scope="col">output on x2</th>
            <th scope="col">errors</th>
            <th scope="col">Σ error²</th>
          </tr>
        </thead>
        <tbody>
          <tr>
            <th scope="row">W = {vec(ex.w)}</th>
            <td className="num" data-testid="l2-target-1" data-value={s.target[0]}>{num(s.target[0])}</td>
            <td className="num" data-testid="l2-target-2" data-value={s.target[1]}>{num(s.target[1])}</td>
            <td />
            <td />
          </tr>
          {s.scores.map((c, i) => (
            <tr key={i}>
              <th scope="row">
                {NAMES[i]} = {vec(ex.candidates[i])}
              </th>
              <td className="num">{num(c.outputs[0])}</td>
              <td className="num">{num(c.outputs[1])}</td>
              <td className="num">{c.errors.map(num).join(', ')}</td>
              <td className="num" data-testid={`l2-answer-${i}`} data-value={c.squaredSum}>
                {num(c.squaredSum)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="note" data-testid="l2-gptq" data-value={s.gptq.join(',')}>
        GPTQ run on this row (on a grid of step {num(ex.grid.step)}) rounds w1 = {num(ex.w[0])} to {num(s.gptq[0])}, which
        moves w2 from {num(ex.w[1])} to {num(s.compensated)} to make up for it; w2 then rounds to {num(s.gptq[1])}. It
        lands on {vec(s.gptq)}.
      </p>
    </section>
  );
}
