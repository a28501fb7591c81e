import { useModel, useRunPick } from '../store/hooks';
import { settingsSummary } from './chart-data';
import type { RunSlice } from '../store';

/** "gptq-studio-demo, run of 15:02:11 (4-bit · g128 · sym)". */
export function runTitle(run: Pick<RunSlice, 'modelName' | 'startedAt' | 'settings'>): string {
  const at = run.startedAt ? new Date(run.startedAt).toLocaleTimeString() : '';
  return `${run.modelName}, run of ${at}${run.settings ? ` (${settingsSummary(run.settings)})` : ''}`;
}

/** Whether the run's model is not the one loaded now (another model was loaded since, or a load failed). */
export function useRunIsStale(): boolean {
  const modelLoadId = useRunPick((r) => r.modelLoadId);
  const model = useModel();
  return modelLoadId !== null && (model.status === 'empty' || model.loadId !== modelLoadId);
}

/** Which model and run a result panel shows, and a warning when that model is not the one loaded now. */
export function RunLabel() {
  const run = useRunPick((r) => ({ id: r.id, modelName: r.modelName, startedAt: r.startedAt, settings: r.settings }));
  const stale = useRunIsStale();
  if (run.id === null) return null;
  return (
    <p className={stale ? 'run-label stale' : 'run-label'} data-testid="run-label" data-model={run.modelName} data-run={run.id} data-stale={String(stale)}>
      {runTitle(run)}
      {stale && <> — <strong>a previous model</strong>, not the one loaded now</>}
    </p>
  );
}
