import { useRunStatus } from '../store/hooks';
import { CalibrationSettings } from './CalibrationSettings';
import { EvaluationTexts } from './EvaluationTexts';
import { PlanSummary } from './PlanSummary';
import { QuantSettings } from './QuantSettings';

/** The next run's settings and what they imply (memory, export); locked while a run is going. */
export function SettingsPanel() {
  const runStatus = useRunStatus();
  const locked = runStatus === 'running' || runStatus === 'cancelling';
  return (
    <section className="panel settings-panel" data-testid="settings" data-locked={String(locked)}>
      <h2>Settings</h2>
      {locked && <p className="note">The settings are locked while the run is going.</p>}
      <fieldset className="settings-fieldset" disabled={locked}>
        <legend className="visually-hidden">Run settings</legend>
        <QuantSettings />
        <CalibrationSettings />
        <EvaluationTexts />
      </fieldset>
      <PlanSummary />
    </section>
  );
}
