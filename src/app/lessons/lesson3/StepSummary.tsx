import { fixed, sig } from '../fmt';
import type { WalkView } from './view';

/** The column quantized in this step: each row's weight as GPTQ met it, its grid value and error. */
export function StepSummary({ view: v }: { view: WalkView }) {
  const s = v.current;
  if (!s) {
    return (
      <>
        <h3>Before the first step</h3>
        <p className="note">Nothing is quantized yet. Step forward to quantize the first column.</p>
      </>
    );
  }
  return (
    <>
      <h3 data-testid="l3-column" data-value={s.column}>
        Step {v.step}: column c{s.column}
      </h3>
      <p className="note">
        Each row’s error is divided by U’s diagonal entry for this column, {sig(s.d)}, and that amount times row c
        {s.column} of U is taken off the {v.cols - v.step} column{v.cols - v.step === 1 ? '' : 's'} still to come.
      </p>
      <table className="facts" data-testid="l3-step-table">
        <thead>
          <tr>
            <th scope="col">Row</th>
            <th scope="col">w as GPTQ met it</th>
            <th scope="col">grid value q</th>
            <th scope="col">error w − q</th>
          </tr>
        </thead>
        <tbody>
          {Array.from(s.w, (w, r) => (
            <tr key={r}>
              <th scope="row">r{r}</th>
              <td className="num" data-testid={`l3-w-${r}`} data-value={w}>{fixed(w)}</td>
              <td className="num" data-testid={`l3-q-${r}`} data-value={s.q[r]}>{fixed(s.q[r])}</td>
              <td className="num" data-testid={`l3-err-${r}`} data-value={s.err[r]}>{fixed(s.err[r])}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
