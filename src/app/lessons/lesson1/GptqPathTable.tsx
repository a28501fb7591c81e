import { TOY_PERC_DAMP, type ToyRowAnalysis } from '../../../core/lessons/toy-row';
import { num, sig } from '../fmt';

function Matrix2({ label, M, testId }: { label: string; M: ArrayLike<number>; testId: string }) {
  return (
    <table className="matrix" data-testid={testId} data-value={Array.from(M).join(',')}>
      <caption>{label}</caption>
      <tbody>
        <tr><td>{sig(M[0])}</td><td>{sig(M[1])}</td></tr>
        <tr><td>{sig(M[2])}</td><td>{sig(M[3])}</td></tr>
      </tbody>
    </table>
  );
}

/** GPTQ's two steps on the row, in words and numbers: the text form of the path in the picture. */
export function GptqPathTable({ analysis: a }: { analysis: ToyRowAnalysis }) {
  const [s1, s2] = a.gptqSteps;
  return (
    <div className="l1-path">
      <table className="facts" data-testid="l1-path">
        <caption>GPTQ’s path</caption>
        <thead>
          <tr>
            <th scope="col">Step</th>
            <th scope="col">What happens</th>
            <th scope="col">w1</th>
            <th scope="col">w2</th>
          </tr>
        </thead>
        <tbody>
          <tr>
            <th scope="row">start</th>
            <td>the row as trained</td>
            <td className="num">{num(a.path[0][0])}</td>
            <td className="num">{num(a.path[0][1])}</td>
          </tr>
          <tr data-testid="l1-path-1" data-value={s1.after.join(',')}>
            <th scope="row">1</th>
            <td>
              w1 rounds {num(s1.before)} → {num(s1.q)} (error {num(s1.err)}); w2 moves by{' '}
              <span data-testid="l1-shift" data-value={s1.shift[1]}>{num(s1.shift[1])}</span> to make up for it
            </td>
            <td className="num">{num(s1.after[0])}</td>
            <td className="num">{num(s1.after[1])}</td>
          </tr>
          <tr data-testid="l1-path-2" data-value={s2.after.join(',')}>
            <th scope="row">2</th>
            <td>
              w2 rounds {num(s2.before)} → {num(s2.q)}
            </td>
            <td className="num">{num(s2.after[0])}</td>
            <td className="num">{num(s2.after[1])}</td>
          </tr>
        </tbody>
      </table>
      <p className="note">
        The move in step 1 is −(w1 − q1)·H⁻¹₁₂ / H⁻¹₁₁ = −({num(s1.err)})·({sig(a.Hinv[1])}) / {sig(a.Hinv[0])}: it
        slides the row along the first column of H⁻¹ until w1 sits on the grid. On the line w1 = {num(s1.q)} that is
        the point of lowest output error, where an ellipse just touches the line (up to the small damping below).
      </p>
      <div className="matrices">
        <Matrix2 label="H = (2/N)·XᵀX, N = 1" M={a.H} testId="l1-H" />
        <Matrix2 label="H⁻¹ (damped)" M={a.Hinv} testId="l1-Hinv" />
      </div>
      <p className="note">
        N counts the calibration sequences (here the inputs form one, so H = 2·XᵀX), as in lessons 3 and 4. Like the reference, GPTQ adds {sig(a.damp)} ({100 * TOY_PERC_DAMP}% of the mean of H’s diagonal) to the diagonal before
        inverting. With two independent inputs that barely moves anything; with a single input it is what makes H
        invertible at all.
      </p>
    </div>
  );
}
