import type { Dispatch } from 'react';
import type { ScoredCandidate, ToyRow, ToyRowAnalysis } from '../../../core/lessons/toy-row';
import { num, vec } from '../fmt';
import type { ToyAction } from './state';

type RowId = 'rtn' | 'gptq' | 'best' | 'candidate';

const LABELS: Record<RowId, string> = {
  rtn: 'RTN: each weight to its nearest value',
  gptq: 'GPTQ',
  best: 'Best of all grid points (brute force)',
  candidate: 'Your pick',
};

function Cells({ id, c }: { id: RowId; c: ScoredCandidate }) {
  return (
    <>
      {c.outputs.map((y, t) => (
        <td key={`o${t}`} className="num" data-testid={`l1-${id}-out-${t + 1}`} data-value={y}>
          {num(y)}
        </td>
      ))}
      {c.errors.map((e, t) => (
        <td key={`e${t}`} className="num" data-testid={`l1-${id}-err-${t + 1}`} data-value={e}>
          {num(e)}
        </td>
      ))}
      <td className="num strong" data-testid={`l1-${id}-sum`} data-value={c.squaredSum}>
        {num(c.squaredSum)}
      </td>
    </>
  );
}

/** A select of grid values for one entry of the learner's pick. */
function PickSelect({ index, value, levels, dispatch }: { index: number; value: number; levels: number[]; dispatch: Dispatch<ToyAction> }) {
  return (
    <select
      aria-label={`Your pick, ŵ${index + 1}`}
      data-testid={`l1-pick-${index + 1}`}
      value={levels.indexOf(value)}
      onChange={(e) => dispatch({ type: 'set-candidate', index, value: levels[Number(e.target.value)] })}
    >
      {levels.map((l, k) => (
        <option key={k} value={k}>
          {num(l)}
        </option>
      ))}
    </select>
  );
}

/**
 * Original outputs and, for each candidate row ŵ, its outputs ŵ·x_t, the errors |W·x_t − ŵ·x_t|
 * and their squared sum: the table form of the plane picture.
 */
export function CandidateTable({ row, analysis: a, dispatch }: { row: ToyRow; analysis: ToyRowAnalysis; dispatch: Dispatch<ToyAction> }) {
  const T = row.inputs.length;
  const inputs = Array.from({ length: T }, (_, t) => `x${t + 1}`);
  const rows: RowId[] = ['rtn', 'gptq', 'best'];
  return (
    <>
      <div className="table-scroll">
        <table className="facts candidates" data-testid="l1-candidates">
          <thead>
            <tr>
              <th scope="col" rowSpan={2}>Row</th>
              <th scope="col" rowSpan={2}>ŵ</th>
              <th scope="colgroup" colSpan={T}>output ŵ·x</th>
              <th scope="colgroup" colSpan={T}>error |W·x − ŵ·x|</th>
              <th scope="col" rowSpan={2}>Σ error²</th>
            </tr>
            <tr>
              {inputs.map((x) => <th key={`o${x}`} scope="col">{x}</th>)}
              {inputs.map((x) => <th key={`e${x}`} scope="col">{x}</th>)}
            </tr>
          </thead>
          <tbody>
            <tr className="original">
              <th scope="row">Original W</th>
              <td className="num" data-testid="l1-original-w">{vec(row.w)}</td>
              {a.target.map((y, t) => (
                <td key={t} className="num" data-testid={`l1-original-out-${t + 1}`} data-value={y}>
                  {num(y)}
                </td>
              ))}
              <td colSpan={T + 1} className="why">the outputs every candidate should reproduce</td>
            </tr>
            {rows.map((id) => (
              <tr key={id} data-testid={`l1-${id}`} data-w={a[id].w.join(',')}>
                <th scope="row">{LABELS[id]}</th>
                <td className="num">{vec(a[id].w)}</td>
                <Cells id={id} c={a[id]} />
              </tr>
            ))}
            <tr data-testid="l1-candidate" data-w={a.candidate.w.join(',')}>
              <th scope="row">{LABELS.candidate}</th>
              <td className="num pick">
                [<PickSelect index={0} value={row.candidate[0]} levels={a.levels} dispatch={dispatch} />,{' '}
                <PickSelect index={1} value={row.candidate[1]} levels={a.levels} dispatch={dispatch} />]
              </td>
              <Cells id="candidate" c={a.candidate} />
            </tr>
          </tbody>
        </table>
      </div>
      <Verdict analysis={a} />
    </>
  );
}

function Verdict({ analysis: a }: { analysis: ToyRowAnalysis }) {
  const same = (x: number[], y: number[]) => x.every((v, i) => v === y[i]);
  const gptqBest = same(a.gptq.w, a.best.w) || a.gptq.squaredSum === a.best.squaredSum;
  let text: string;
  if (same(a.rtn.w, a.gptq.w)) {
    text = `RTN and GPTQ agree on ${vec(a.gptq.w)} here`;
  } else {
    text = `GPTQ picks ${vec(a.gptq.w)} over RTN's ${vec(a.rtn.w)}: squared output error ${num(a.gptq.squaredSum)} instead of ${num(a.rtn.squaredSum)}`;
  }
  text += gptqBest
    ? ', and no grid point does better.'
    : `; the best grid point, ${vec(a.best.w)}, gets ${num(a.best.squaredSum)}. GPTQ fixes one weight at a time and never goes back, so it can miss the best point.`;
  return (
    <p className="l1-verdict" data-testid="l1-verdict">
      {text}
    </p>
  );
}
