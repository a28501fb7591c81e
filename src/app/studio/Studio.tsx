import { lazy, Suspense, useEffect } from 'react';
import { bridge } from '../bridge';
import { useStudioStore } from '../store';
import { useCompareEntry, useRunPick, useSettings } from '../store/hooks';
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

// The charts (and recharts with them) are not part of the first page: they are fetched once a
// model is in (useChartsPreload), so that their code is not parsed during a run's first linears.
const loadLayerChart = () => import('./LayerChart');
const loadLayerInspector = () => import('./LayerInspector');
const LayerChart = lazy(() => loadLayerChart().then((m) => ({ default: m.LayerChart })));
const LayerInspector = lazy(() => loadLayerInspector().then((m) => ({ default: m.LayerInspector })));

/** Fetches the charts' code once a model is ready (the browser keeps the modules; lazy() finds them loaded). */
function useChartsPreload() {
  const ready = useStudioStore((s) => s.model.status === 'ready');
  useEffect(() => {
    if (ready) void Promise.all([loadLayerChart(), loadLayerInspector()]).catch(() => {}); // a failure shows when lazy() tries again
  }, [ready]);
}

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
  useChartsPreload();
  // A boolean, not the run: the whole page would otherwise re-render on every progress update.
  const hasRun = useRunPick((r) => r.status !== 'idle' || r.layers.length > 0);
  const compare = useCompareEntry();
  const stale = useRunIsStale();
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
