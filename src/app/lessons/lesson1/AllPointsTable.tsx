import type { ToyRowAnalysis } from '../../../core/lessons/toy-row';
import { num, vec } from '../fmt';

/** Every grid point with its squared output error, best first: what the brute force looked at. */
export function AllPointsTable({ analysis: a, inputs }: { analysis: ToyRowAnalysis; inputs: number }) {
  return (
    <details className="l1-all-points">
      <summary>
        All {a.allPoints.length} grid points, by squared output error over {inputs} input{inputs === 1 ? '' : 's'}
      </summary>
      <table className="facts" data-testid="l1-all-points">
        <thead>
          <tr>
            <th scope="col">Rank</th>
            <th scope="col">ŵ</th>
            <th scope="col">Σ error²</th>
            <th scope="col">Note</th>
          </tr>
        </thead>
        <tbody>
          {a.allPoints.map((p, k) => {
            const notes = [
              p.w.every((v, i) => v === a.rtn.w[i]) && 'RTN',
              p.w.every((v, i) => v === a.gptq.w[i]) && 'GPTQ',
            ].filter(Boolean);
            return (
              <tr key={p.w.join(',')}>
                <td className="num">{k + 1}</td>
                <td className="num">{vec(p.w)}</td>
                <td className="num">{num(p.squaredSum)}</td>
                <td>{notes.join(', ')}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </details>
  );
}
