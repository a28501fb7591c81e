import { useEffect } from 'react';
import { bridge } from '../bridge';
import { ErrorNotice } from '../components/ErrorNotice';
import { useFieldErrors, useModel, usePlan, useRun, useSettings, useSweep } from '../store/hooks';
import { estimateText, evaluationIncomplete, runProgress } from './chart-data';
import { RunLabel } from './RunLabel';
import { planPending, runBlockers } from './run-settings';
import { useNow } from './useNow';

/** Asks before the page is left while a run is going (the run would be lost; the history marks it interrupted). */
function useLeaveGuard(active: boolean) {
  useEffect(() => {
    if (!active) return;
    const guard = (e: BeforeUnloadEvent) => {
      e.preventDefault();
      e.returnValue = ''; // older browsers need a value to ask
    };
    window.addEventListener('beforeunload', guard);
    return () => window.removeEventListener('beforeunload', guard);
  }, [active]);
}

/** Starts and cancels the run, says why it cannot start, and shows how far it got and how long it has left. */
export function RunPanel() {
  const model = useModel();
  const run = useRun();
  const settings = useSettings();
  const plan = usePlan();
  const fieldErrors = useFieldErrors();
  const active = run.status === 'running' || run.status === 'cancelling';
  const now = useNow(active);
  useLeaveGuard(active);
  const p = runProgress(run, now);
  const sweep = useSweep();
  const sweepActive = sweep.status === 'running' || sweep.status === 'cancelling';
  const blockers = active ? [] : [
    ...runBlockers({ modelReady: model.status === 'ready', settings, fieldErrors, plan }),
    ...(sweepActive ? ['a strategy comparison is running: wait for it or cancel it'] : []),
  ];
  const estimate = plan.status === 'ready' ? plan.plan.time : null;
  // Just edited: Run is usable (it asks for the plan at once and starts when it comes); the estimate waits for that plan.
  const pending = !active && model.status === 'ready' && blockers.length === 0 && planPending(plan, settings);
  const evaluating = run.stage === 'evaluation';

  return (
    <section className="panel run-panel" data-testid="run-panel">
      <h2>Run</h2>
      <div className="run-buttons">
        <button type="button" className="primary" data-testid="run" disabled={active || blockers.length > 0} onClick={() => void bridge.startRun()}
          aria-describedby="run-blockers">
          Run GPTQ
        </button>
        <button type="button" data-testid="cancel" disabled={run.status !== 'running'} onClick={() => bridge.cancelRun()}>
          Cancel
        </button>
        {pending && <span className="note" data-testid="plan-pending">Working out the plan for these settings…</span>}
        {!active && model.status === 'ready' && blockers.length === 0 && !pending && estimate && (
          <span className="note" data-testid="run-estimate">Estimated {estimateText(estimate)}.</span>
        )}
      </div>
      {blockers.length > 0 && (
        <div id="run-blockers" className="run-blockers" data-testid="run-blocked" data-count={blockers.length}>
          <span>The run cannot start: </span>
          <ul>{blockers.map((b) => <li key={b}>{b}</li>)}</ul>
        </div>
      )}
      <div className="progress" data-testid="progress" data-status={run.status} data-stage={run.stage ?? ''} data-done={run.done} data-total={run.total}
        data-eta={p.etaSeconds ?? ''} aria-live="polite">
        {run.status === 'idle' && <p className="note">No run yet.</p>}
        {run.status !== 'idle' && (
          <>
            <RunLabel />
            {active && p.stage && <p className="stage" data-testid="progress-stage">{p.stage}</p>}
            <div className="progress-bar">
              <label>
                <span>Quantization: {p.linears}{p.blocks && ` · ${p.blocks}`}</span>
                <progress value={p.done} max={Math.max(1, p.total)} />
              </label>
            </div>
            {(p.evaluation || evaluating) && (
              <div className="progress-bar" data-testid="progress-evaluation" data-done={p.evaluation?.done ?? 0} data-total={p.evaluation?.total ?? 0}>
                <label>
                  <span>Evaluation: <span data-testid="progress-eval-detail">{p.evaluation?.text ?? 'starting…'}</span></span>
                  <progress value={p.evaluation?.done ?? 0} max={Math.max(1, p.evaluation?.total ?? 1)} />
                </label>
              </div>
            )}
            <p className="times">
              Elapsed <span data-testid="progress-elapsed">{p.elapsed}</span>
              {active && <> · left <span data-testid="progress-eta">{p.eta}</span> (quantization and evaluation)</>}
              {run.status === 'done' && run.estimate && <span className="hint"> · estimated {estimateText(run.estimate)}</span>}
            </p>
          </>
        )}
        {run.status === 'cancelling' && (
          <p data-testid="cancelling">
            {evaluating
              ? 'Cancelling: stopping the evaluation after the pass in progress; the quantized model is kept.'
              : 'Cancelling: stopping after the linear in progress…'}
          </p>
        )}
        {run.status === 'cancelled' && (
          <p data-testid="cancelled">Cancelled: the {run.layers.length} finished layers are kept below.</p>
        )}
        {run.status === 'done' && (
          <p data-testid="run-done">
            Done in {p.elapsed}.
            {evaluationIncomplete(run.report?.evaluations) && (
              <span data-testid="evaluation-cancelled"> The evaluation was cancelled: the quantized model, its download and its charts are kept; the perplexities not measured say so.</span>
            )}
          </p>
        )}
        {run.status === 'failed' && run.error && <ErrorNotice error={run.error} />}
      </div>
    </section>
  );
}
