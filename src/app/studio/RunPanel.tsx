import { bridge } from '../bridge';
import { ErrorNotice } from '../components/ErrorNotice';
import { useModel, useRun, useSettings } from '../store/hooks';
import { runProgress } from './chart-data';

/** Starts and cancels the run, and shows how far it got and how long it has left. */
export function RunPanel() {
  const model = useModel();
  const run = useRun();
  const settings = useSettings();
  const active = run.status === 'running' || run.status === 'cancelling';
  const p = runProgress(run);
  const missing = [
    ...(settings.calibration ? [] : ['a calibration text']),
    ...(settings.evaluations.length > 0 ? [] : ['an evaluation text']),
  ];

  return (
    <section className="panel run-panel" data-testid="run-panel">
      <h2>Run</h2>
      <div className="run-buttons">
        <button type="button" className="primary" data-testid="run" disabled={model.status !== 'ready' || active} onClick={() => void bridge.startRun()}>
          Run GPTQ
        </button>
        <button type="button" data-testid="cancel" disabled={run.status !== 'running'} onClick={() => bridge.cancelRun()}>
          Cancel
        </button>
      </div>
      {model.status !== 'ready' && <p className="note">Load a model first.</p>}
      {model.status === 'ready' && missing.length > 0 && !active && <p className="note">Still needed: {missing.join(' and ')}.</p>}
      <div className="progress" data-testid="progress" data-status={run.status} data-done={run.done} data-total={run.total} aria-live="polite">
        {run.status === 'idle' && <p className="note">No run yet.</p>}
        {run.status !== 'idle' && (
          <>
            {active && p.stage && <p className="stage" data-testid="progress-stage">{p.stage}</p>}
            <div className="progress-bar">
              <label>
                <span>{p.linears}{p.blocks && ` · ${p.blocks}`}</span>
                <progress value={p.done} max={Math.max(1, p.total)} />
              </label>
            </div>
            <p className="times">
              Elapsed <span data-testid="progress-elapsed">{p.elapsed}</span>
              {active && <> · left <span data-testid="progress-eta">{p.eta}</span></>}
            </p>
          </>
        )}
        {run.status === 'cancelling' && <p>Cancelling: stopping after the linear in progress…</p>}
        {run.status === 'cancelled' && (
          <p data-testid="cancelled">Cancelled: the {run.layers.length} finished layers are kept below.</p>
        )}
        {run.status === 'done' && <p data-testid="run-done">Done in {p.elapsed}.</p>}
        {run.status === 'failed' && run.error && <ErrorNotice error={run.error} />}
      </div>
    </section>
  );
}
