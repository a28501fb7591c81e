import { useEffect, useId, useMemo } from 'react';
import { bridge } from '../../bridge';
import { ErrorNotice } from '../../components/ErrorNotice';
import { useStudioStore } from '../../store';
import { useMixedPlan, useModel, useRunStatus, useSweep, useSweepForm } from '../../store/hooks';
import type { SensitivityMap } from '../../../core/sweep';
import { shortName } from '../chart-data';
import { mixedPlanTable, weightsPerBitsText } from '../sweep-data';

/** Milliseconds of quiet after the target changes before the plan is asked for again. */
const PLAN_DEBOUNCE_MS = 300;

/**
 * A mixed-precision plan for a target bits per weight, from the sensitivity map: each linear's
 * width (q/k/v and gate/up together), what the file will hold, and a button that runs it as the
 * studio's run (its checkpoint then downloads from the run's results, the widths in
 * quantization_config.dynamic).
 */
export function MixedPlanPanel({ map }: { map: SensitivityMap }) {
  const form = useSweepForm();
  const sweep = useSweep();
  const plan = useMixedPlan();
  const runStatus = useRunStatus();
  const model = useModel();
  const id = useId();
  const sameModel = model.status === 'ready' && model.loadId === sweep.modelLoadId;
  useEffect(() => {
    const timer = setTimeout(() => void bridge.refreshMixedPlan(), PLAN_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [form.targetBpw, sweep.id, sameModel]);
  const table = useMemo(() => (plan.status === 'ready' ? mixedPlanTable(plan.plan, map) : null), [plan, map]);
  const busy = runStatus === 'running' || runStatus === 'cancelling';
  const ready = plan.status === 'ready' && plan.sweepId === sweep.id && sameModel;
  if (!sameModel) {
    return (
      <section className="sweep-figure" data-testid="mixed-plan" data-status="other-model">
        <h3>Mixed precision</h3>
        <p className="note">This map is of {sweep.modelName}, not the model loaded now: run a comparison on this model to plan its widths.</p>
      </section>
    );
  }

  return (
    <section className="sweep-figure" data-testid="mixed-plan" data-status={plan.status} data-bpw={plan.status === 'ready' ? plan.plan.bpw : ''}>
      <h3>Mixed precision</h3>
      <div className="compare-form">
        <label htmlFor={id}>Target bits per weight</label>
        <input id={id} type="number" step={0.1} min={2} value={form.targetBpw} data-testid="mixed-target"
          onChange={(e) => useStudioStore.getState().updateSweepForm({ targetBpw: e.target.value })} />
        <button type="button" className="primary" data-testid="mixed-run" disabled={!ready || busy} onClick={() => void bridge.startMixedRun()}>
          Run this plan
        </button>
      </div>
      {plan.status === 'loading' && <p className="note">Planning…</p>}
      {plan.status === 'error' && <ErrorNotice error={plan.error} />}
      {plan.status === 'ready' && table && (
        <>
          <p data-testid="mixed-summary">
            {plan.plan.bpw.toFixed(3)} bits per weight (target {plan.plan.target}; this map's plans range from {plan.plan.range.min.toFixed(3)} to{' '}
            {plan.plan.range.max.toFixed(3)}): {weightsPerBitsText(plan.plan.weightsPerBits)}. The file's base width is {plan.plan.baseBits} bits;
            the other widths go in <code>quantization_config.dynamic</code>, which GPTQModel and vLLM honour. transformers and optimum
            ignore <code>dynamic</code> and build every linear at the base width, so they cannot load this file: use GPTQModel or vLLM.
          </p>
          <div className="table-scroll">
            <table className="facts compact" data-testid="mixed-table">
              <caption className="visually-hidden">Width of every linear, by block</caption>
              <thead>
                <tr><th scope="col">block</th>{table.names.map((n) => <th key={n} scope="col" title={n}>{shortName(n)}</th>)}</tr>
              </thead>
              <tbody>
                {table.rows.map((r) => (
                  <tr key={r.block}>
                    <th scope="row">{r.block}</th>
                    {r.bits.map((b, i) => <td key={table.names[i]} className={b !== null && b !== plan.plan.baseBits ? 'num changed' : 'num'}>{b ?? '—'}</td>)}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <p className="note">
            Run it and the studio's run panel, charts and download show this model: its perplexity is that of the
            checkpoint it downloads.
          </p>
        </>
      )}
    </section>
  );
}
