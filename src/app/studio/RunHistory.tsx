import { useMemo } from 'react';
import { fmtSci } from '../format';
import { useStudioStore } from '../store';
import { useCompareId, useHistory, useRunPick } from '../store/hooks';
import { historyRows, historyStatusText, pplText } from './chart-data';

/**
 * Earlier runs (kept across reloads), newest first: what each ran on (calibration and evaluation
 * windows, damping) beside what it measured, why a run failed or stopped, and a button that
 * overlays a run's per-layer curve and perplexities on the current run. Rows wrap; nothing
 * scrolls sideways.
 */
export function RunHistory() {
  const history = useHistory();
  const compareId = useCompareId();
  const runId = useRunPick((r) => r.id);
  const rows = useMemo(() => historyRows(history), [history]);
  return (
    <section className="panel" data-testid="run-history" data-count={rows.length}>
      <h2>Earlier runs</h2>
      {rows.length === 0 ? (
        <p className="note">Finished, cancelled, failed and interrupted runs are listed here for comparison, and kept in this browser.</p>
      ) : (
        <ol className="history-list">
          {rows.map((r) => {
            const current = r.id === runId;
            const compared = r.id === compareId;
            return (
              <li key={r.id} className={`history-item status-${r.status}${compared ? ' compared' : ''}`} data-testid={`history-${r.id}`} data-status={r.status}>
                <div className="history-head">
                  <strong>{r.model}</strong>
                  <span>{r.settings}</span>
                  <span className={`badge ${r.status}`} data-testid={`history-status-${r.id}`}>{historyStatusText(r.status)}</span>
                  <time dateTime={r.finishedAt} className="hint">{new Date(r.finishedAt).toLocaleString()}</time>
                  {current && <span className="hint">(the run above)</span>}
                </div>
                <dl className="history-facts">
                  <div><dt>calibration</dt><dd data-testid={`history-calibration-${r.id}`}>{r.calibration}</dd></div>
                  <div><dt>evaluation</dt><dd data-testid={`history-evaluation-${r.id}`}>{r.evaluation}</dd></div>
                  <div><dt>damping</dt><dd>{r.damping}</dd></div>
                  <div><dt>layers</dt><dd>{r.layers}</dd></div>
                  <div><dt>Σ GPTQ / Σ RTN MSE</dt><dd data-value={r.mseRatio ?? undefined}>{r.mseRatio === null ? '—' : fmtSci(r.mseRatio)}</dd></div>
                  <div><dt>size</dt><dd>{r.size}</dd></div>
                  <div><dt>time</dt><dd>{r.seconds}{r.estimate && <span className="hint"> ({r.estimate})</span>}</dd></div>
                </dl>
                {r.perplexities.length > 0 && (
                  <ul className="plain history-ppl">
                    {r.perplexities.map((p) => (
                      <li key={p.text}>perplexity on {p.text}: {pplText(p.original, true)} / {pplText(p.rtn, true)} / <strong>{pplText(p.gptq, true)}</strong> <span className="hint">(original / RTN / GPTQ)</span></li>
                    ))}
                  </ul>
                )}
                {r.reason && <p className="history-reason" data-testid={`history-reason-${r.id}`}>{r.reason}</p>}
                <div className="history-actions">
                  {!current && r.layers > 0 && (
                    <button type="button" data-testid={`history-compare-${r.id}`} aria-pressed={compared}
                      onClick={() => useStudioStore.getState().setCompare(compared ? null : r.id)}>
                      {compared ? 'Hide from the charts' : 'Open beside the current run'}
                    </button>
                  )}
                  {r.status !== 'running' && (
                    <button type="button" aria-label={`Remove the ${r.model} run (${r.settings})`} data-testid={`history-remove-${r.id}`}
                      onClick={() => useStudioStore.getState().removeHistory(r.id)}>
                      Remove
                    </button>
                  )}
                </div>
              </li>
            );
          })}
        </ol>
      )}
    </section>
  );
}
