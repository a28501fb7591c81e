import { lazy, Suspense, useEffect } from 'react';
import { bridge } from '../bridge';
import { useStudioStore } from '../store';
import { useCompareEntry, useRun, useSettings } from '../store/hooks';
import { LessonsSection } from '../lessons/LessonsSection';
import { DownloadPanel } from './DownloadPanel';
import { Generations } from './Generations';
import { ModelLoader } from './ModelLoader';
import { ModelSummary } from './ModelSummary';
import { ResultsPanel } from './ResultsPanel';
import { RunHistory } from './RunHistory';
import { RunPanel } from './RunPanel';
import { SettingsPanel } from './SettingsPanel';
import { useRunIsStale } from './RunLabel';
import { ComparePanel } from './compare/ComparePanel';

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

/**
 * The studio: first what the user came for (a model in, or the lessons), then the model's facts,
 * settings and the run; the run's results grouped under one heading that names the model and run
 * they belong to; earlier runs last.
 */
export function Studio() {
  usePlanRefresh();
  const run = useRun();
  const compare = useCompareEntry();
  const stale = useRunIsStale();
  const hasRun = run.status !== 'idle' || run.layers.length > 0;
  return (
    <div className="studio" data-testid="studio">
      <div className="start-row">
        <ModelLoader />
        <LessonsSection />
      </div>
      <ModelSummary />
      <SettingsPanel />
      <RunPanel />
      <ComparePanel />
      {(hasRun || compare) && (
        <div className={stale ? 'run-results stale' : 'run-results'} data-testid="run-results" data-stale={String(stale)}>
          <Suspense fallback={<section className="panel"><p className="note">Loading the charts…</p></section>}>
            <LayerChart />
            {hasRun && <LayerInspector />}
          </Suspense>
          <ResultsPanel />
          {hasRun && <Generations />}
          {hasRun && <DownloadPanel />}
        </div>
      )}
      <RunHistory />
    </div>
  );
}

export default Studio;
