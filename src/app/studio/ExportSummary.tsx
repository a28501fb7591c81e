import { useMemo } from 'react';
import { fmtBytes } from '../format';
import { useRunPick } from '../store/hooks';
import { fallbackLayers, paddingText, sizeSummary } from './chart-data';

/** The model's size before and after, what stayed in full precision and why, and layers that fell back to RTN. */
export function ExportSummary() {
  const run = useRunPick((r) => ({ report: r.report, layers: r.layers }));
  const report = run.report;
  const size = sizeSummary(report?.size);
  const plan = report?.export ?? null;
  const padding = paddingText(plan?.intermediate);
  const fallbacks = useMemo(() => fallbackLayers(run.layers), [run.layers]);

  return (
    <>
      <h3>Size</h3>
      {!size ? (
        <p className="note">Known when the run finishes.</p>
      ) : (
        <table className="facts" data-testid="size">
          <tbody>
            <tr>
              <th scope="row">Before</th>
              <td className="num" data-testid="size-original" data-value={size.originalBytes}>{fmtBytes(size.originalBytes)}</td>
            </tr>
            <tr>
              <th scope="row">After</th>
              <td className="num" data-testid="size-quantized" data-value={size.quantizedBytes ?? undefined}>
                {size.quantizedBytes === null ? `no export: ${plan?.refusal ?? 'none was built'}` : fmtBytes(size.quantizedBytes)}
              </td>
            </tr>
            {size.ratio !== null && (
              <tr>
                <th scope="row">Ratio</th>
                <td className="num" data-testid="size-ratio" data-value={size.ratio}>{size.ratio.toFixed(2)}× smaller</td>
              </tr>
            )}
          </tbody>
        </table>
      )}
      {padding && <p className="note" data-testid="padding-note">{padding}: padded with zeros so that every linear packs; the model computes the same function.</p>}
      {plan && plan.unquantized.length > 0 && (
        <>
          <h3>Left unquantized</h3>
          <ul className="unquantized" data-testid="unquantized" data-count={plan.unquantized.length}>
            {plan.unquantized.map((u) => <li key={u.name}><code>{u.name}</code> (every block): {u.reason}</li>)}
          </ul>
        </>
      )}
      {fallbacks.length > 0 && (
        <>
          <h3>Fell back to RTN</h3>
          <p className="note" data-testid="rtn-fallbacks" data-count={fallbacks.length}>
            The Hessian of these layers stayed singular after every damping attempt, so they were rounded to nearest:{' '}
            {fallbacks.join(', ')}.
          </p>
        </>
      )}
    </>
  );
}
