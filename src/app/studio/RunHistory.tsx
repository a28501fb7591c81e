import { useMemo } from 'react';
import { fmtSci } from '../format';
import { useStudioStore } from '../store';
import { useHistory } from '../store/hooks';
import { historyRows, pplText } from './chart-data';

/** Earlier runs (kept across reloads), newest first, to compare settings by what they measured. */
export function RunHistory() {
  const history = useHistory();
  const rows = useMemo(() => historyRows(history), [history]);
  return (
    <section className="panel" data-testid="run-history" data-count={rows.length}>
      <h2>Earlier runs</h2>
      {rows.length === 0 ? (
        <p className="note">Finished, cancelled and failed runs are listed here for comparison, and kept in this browser.</p>
      ) : (
        <div className="table-scroll">
          <table className="facts compact history">
            <caption className="visually-hidden">Earlier runs, newest first</caption>
            <thead>
              <tr>
                <th scope="col">finished</th><th scope="col">model</th><th scope="col">settings</th><th scope="col">status</th>
                <th scope="col">layers</th><th scope="col">Σ GPTQ / Σ RTN MSE</th><th scope="col">perplexity: original / RTN / GPTQ</th>
                <th scope="col">size</th><th scope="col">time</th><th scope="col"><span className="visually-hidden">remove</span></th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.id} data-testid={`history-${r.id}`} data-status={r.status}>
                  <td className="num"><time dateTime={r.finishedAt}>{new Date(r.finishedAt).toLocaleString()}</time></td>
                  <th scope="row">{r.model}</th>
                  <td className="nowrap">{r.settings}</td>
                  <td>{r.status}</td>
                  <td className="num">{r.layers}</td>
                  <td className="num" data-value={r.mseRatio ?? undefined}>{r.mseRatio === null ? '—' : fmtSci(r.mseRatio)}</td>
                  <td>
                    {r.perplexities.length === 0 ? '—' : (
                      <ul className="plain">
                        {r.perplexities.map((p) => (
                          <li key={p.text}>{p.text}: {pplText(p.original)} / {pplText(p.rtn)} / <strong>{pplText(p.gptq)}</strong></li>
                        ))}
                      </ul>
                    )}
                  </td>
                  <td className="nowrap">{r.size}</td>
                  <td className="num">{r.seconds}</td>
                  <td>
                    <button type="button" aria-label={`Remove the ${r.model} run (${r.settings})`} data-testid={`history-remove-${r.id}`}
                      onClick={() => useStudioStore.getState().removeHistory(r.id)}>
                      Remove
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
