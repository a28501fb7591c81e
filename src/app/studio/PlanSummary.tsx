import { useState } from 'react';
import { ErrorNotice } from '../components/ErrorNotice';
import { usePlan } from '../store/hooks';
import type { StudioPlan } from '../../worker/types';
import { estimateText, memoryText, paddingText } from './chart-data';
import { useStudioStore } from '../store';
import { fmtBytes } from '../format';
import { LongEvaluationNote } from './LongEvaluationNote';

/** ", about 420 MiB": an estimated download size (the files' exact sizes are known after the run). */
const aboutBytes = (bytes: number | null) => (bytes === null ? '' : `, about ${fmtBytes(bytes)}`);

/** What the settings imply before a run: peak GPU memory against the budget, and what the download will hold. */
export function PlanSummary() {
  const plan = usePlan();
  // The last plan stays on screen while the next one is worked out.
  const [shown, setShown] = useState<StudioPlan | null>(null);
  const current = plan.status === 'ready' ? plan.plan : plan.status === 'loading' ? shown : null;
  if (current !== shown) setShown(current);
  // What to know about this run (config.json read one way of two, calibration too small), then what
  // the loaders will do with the file (src/core/export/plan.ts, loaders.md), for these settings.
  const warnings = current ? [...current.warnings, ...current.export.warnings] : [];

  return (
    <div className="plan" data-testid="plan" data-status={plan.status} aria-busy={plan.status === 'loading'} aria-live="polite">
      <h3>Plan</h3>
      {plan.status === 'idle' && <p className="note">Load a model to see the memory the run needs and what the download will hold.</p>}
      {plan.status === 'loading' && !current && <p className="note">Working out the plan…</p>}
      {plan.status === 'error' && <ErrorNotice error={plan.error} />}
      {current && <PlanFacts plan={current} />}
      {warnings.length > 0 && (
        <ul className="warnings" data-testid="export-warnings" data-count={warnings.length}>
          {warnings.map((w) => <li key={w}>{w}</li>)}
        </ul>
      )}
    </div>
  );
}

function PlanFacts({ plan }: { plan: StudioPlan }) {
  const memory = memoryText(plan.memoryBytes, plan.budgetBytes);
  const host = memoryText(plan.hostBytes, plan.hostBudgetBytes ?? 0);
  const padding = paddingText(plan.export.intermediate);
  const windows = plan.evalWindows;
  return (
    <>
      <table className="facts">
        <tbody>
          <tr>
            <th scope="row">Estimated time</th>
            <td data-testid="plan-time" data-value={plan.time?.total ?? ''} data-quantization={plan.time?.quantization ?? ''} data-evaluation={plan.time?.evaluation ?? ''}>
              {estimateText(plan.time)}
              {plan.speed && <span className="hint"> from this adapter’s measured {plan.speed.gflops.toPrecision(3)} GFLOP/s</span>}
            </td>
          </tr>
          <tr>
            <th scope="row">Evaluation</th>
            <td data-testid="plan-eval-windows" data-value={windows.join(',')}>
              {windows.length === 0 ? 'no text yet' : `${windows.join(' + ')} window${windows.reduce((a, b) => a + b, 0) === 1 ? '' : 's'}, each scored by the original, RTN and GPTQ models`}
            </td>
          </tr>
          <tr>
            <th scope="row">GPU memory</th>
            <td className={memory.over ? 'num over' : 'num'} data-testid="plan-memory" data-value={plan.memoryBytes} data-budget={plan.budgetBytes}>
              {memory.text}
            </td>
          </tr>
          <tr>
            <th scope="row">Host memory</th>
            <td className={host.over ? 'num over' : 'num'} data-testid="plan-host-memory" data-value={plan.hostBytes} data-budget={plan.hostBudgetBytes ?? ''}>
              {host.text}
            </td>
          </tr>
          <tr>
            <th scope="row">Download</th>
            <td data-testid="plan-export" data-format={plan.export.format} data-refused={String(plan.export.refusal !== null)} data-bytes={plan.downloadBytes.checkpoint ?? ''}>
              {plan.export.refusal ? 'none (see below)' : `${plan.export.format} checkpoint${aboutBytes(plan.downloadBytes.checkpoint)}`}
            </td>
          </tr>
          <tr>
            <th scope="row">GGUF</th>
            <td data-testid="plan-gguf" data-type={plan.gguf.type ?? ''} data-refused={String(plan.gguf.refusal !== null)} data-bytes={plan.downloadBytes.gguf ?? ''}>
              {plan.gguf.type ? `${plan.gguf.type} for llama.cpp${aboutBytes(plan.downloadBytes.gguf)}${plan.gguf.floatLinears.length ? ` (${plan.gguf.floatLinears.length} linear(s) per block as floats)` : ''}` : 'none (see below)'}
            </td>
          </tr>
          {padding && (
            <tr>
              <th scope="row">Padding</th>
              <td data-testid="plan-padding">{padding} (zeros; the model computes the same function)</td>
            </tr>
          )}
        </tbody>
      </table>
      {plan.longEvaluation && <LongEvaluationNote long={plan.longEvaluation} />}
      {plan.fitError && <p className="warning" role="alert" data-testid="plan-fit-error">{plan.fitError}</p>}
      {plan.textError && <p className="warning" role="alert" data-testid="plan-text-error">{plan.textError}</p>}
      {plan.export.refusal && <p className="warning" data-testid="export-refusal">No download: {plan.export.refusal}.</p>}
      {plan.gguf.refusal && (
        <p className="warning" data-testid="gguf-plan-refusal">
          No GGUF: {plan.gguf.refusal}.{' '}
          {plan.gguf.suggestion && (
            <button type="button" data-testid="gguf-suggestion" onClick={() => useStudioStore.getState().updateSettings(plan.gguf.suggestion!.settings)}>
              Use {plan.gguf.suggestion.text}
            </button>
          )}
        </p>
      )}
      {plan.export.unquantized.length > 0 && (
        <>
          <p className="note">Left in full precision so that the file loads:</p>
          <ul className="unquantized" data-testid="plan-unquantized" data-count={plan.export.unquantized.length}>
            {plan.export.unquantized.map((u) => <li key={u.name}><code>{u.name}</code>: {u.reason}</li>)}
          </ul>
        </>
      )}
    </>
  );
}
