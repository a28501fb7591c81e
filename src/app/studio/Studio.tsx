import { lazy, Suspense, useEffect } from 'react';
import { bridge } from '../bridge';
import { useStudioStore } from '../store';
import { useRun, useSettings } from '../store/hooks';
import { DownloadPanel } from './DownloadPanel';
import { Generations } from './Generations';
import { ModelLoader } from './ModelLoader';
import { ModelSummary } from './ModelSummary';
import { ResultsPanel } from './ResultsPanel';
import { RunHistory } from './RunHistory';
import { RunPanel } from './RunPanel';
import { SettingsPanel } from './SettingsPanel';

// The charts (and recharts with them) load once a run has something to show.
const LayerChart = lazy(() => import('./LayerChart').then((m) => ({ default: m.LayerChart })));
const LayerInspector = lazy(() => import('./LayerInspector').then((m) => ({ default: m.LayerInspector })));

/** Milliseconds of quiet after a settings change before the plan is asked for again. */
const PLAN_DEBOUNCE_MS = 300;

/** Asks the worker for a new plan a moment after the settings stop changing (with a model loaded). */
function usePlanRefresh() {
  const settings = useSettings();
  useEffect(() => {
    const timer = setTimeout(() => {
      if (useStudioStore.getState().model.status === 'ready') void bridge.refreshPlan();
    }, PLAN_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [settings]);
}

/** The studio: a model in, settings, the run, what it measured, and the checkpoint out. */
export function Studio() {
  usePlanRefresh();
  const run = useRun();
  const hasRun = run.status !== 'idle' || run.layers.length > 0;
  return (
    <div className="studio" data-testid="studio">
      <ModelLoader />
      <ModelSummary />
      <SettingsPanel />
      <RunPanel />
      {hasRun && (
        <Suspense fallback={<section className="panel"><p className="note">Loading the charts…</p></section>}>
          <LayerChart />
          <LayerInspector />
        </Suspense>
      )}
      {hasRun && <ResultsPanel />}
      {hasRun && <Generations />}
      {hasRun && <DownloadPanel />}
      <RunHistory />
    </div>
  );
}

export default Studio;
