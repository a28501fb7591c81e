/** One hook per store slice; selectors live at module scope so they are not rebuilt per render. */
import { useShallow } from 'zustand/react/shallow';
import { useStudioStore } from './index';
import type { RunSlice, StudioState } from './index';

const adapterSelector = (s: StudioState) => s.adapter;
const layerCheckSelector = (s: StudioState) => s.layerCheck;

/**
 * The adapter the worker's engine got, or why there is none. Re-renders when that slice changes.
 *
 * @example
 *   const adapter = useAdapter();
 *   if (adapter.status === 'ready') console.log(adapter.summary.limits.maxBufferSize);
 */
export function useAdapter() {
  return useStudioStore(adapterSelector);
}

/**
 * The state of the layer check (`/?check=layer`): idle, running, done with a report, or failed.
 *
 * @example
 *   const check = useLayerCheck();
 *   if (check.status === 'done') console.log(check.report.pass);
 */
export function useLayerCheck() {
  return useStudioStore(layerCheckSelector);
}

const modelSelector = (s: StudioState) => s.model;
const settingsSelector = (s: StudioState) => s.settings;
const planSelector = (s: StudioState) => s.plan;
const runSelector = (s: StudioState) => s.run;
const selectedLayerSelector = (s: StudioState) => s.selectedLayer;
const generationSelector = (s: StudioState) => s.generation;
const downloadSelector = (s: StudioState) => s.download;
const ggufDownloadSelector = (s: StudioState) => s.ggufDownload;
const historySelector = (s: StudioState) => s.history;

/** The model loaded (or loading, or why it failed). */
export const useModel = () => useStudioStore(modelSelector);
/** The next run's settings; change them with useStudioStore.getState().updateSettings(patch). */
export const useSettings = () => useStudioStore(settingsSelector);
/** Memory estimate and export plan of the next run. */
export const usePlan = () => useStudioStore(planSelector);
/**
 * The run in progress or the last one, whole: re-renders on every progress update (a few a
 * second while it goes). Components that show a part of it read that part with useRunPick.
 */
export const useRun = () => useStudioStore(runSelector);
/**
 * What `pick` takes from the run (a value, or an object of the run's fields compared field by
 * field): re-renders only when that changes, not on every progress update.
 *
 * @example
 *   const { status, report } = useRunPick((r) => ({ status: r.status, report: r.report }));
 */
export function useRunPick<T>(pick: (run: RunSlice) => T): T {
  return useStudioStore(useShallow((s: StudioState) => pick(s.run)));
}
const runStatusSelector = (s: StudioState) => s.run.status;
/** The run's status alone. */
export const useRunStatus = () => useStudioStore(runStatusSelector);
/** The layer whose Hessian and errors are shown (layerKey), or null for the latest. */
export const useSelectedLayer = () => useStudioStore(selectedLayerSelector);
export const useGeneration = () => useStudioStore(generationSelector);
export const useDownload = () => useStudioStore(downloadSelector);
/** The last run's GGUF and imatrix.gguf downloads. */
export const useGgufDownload = () => useStudioStore(ggufDownloadSelector);
/** Earlier runs, newest first (persisted). */
export const useHistory = () => useStudioStore(historySelector);

const speedSelector = (s: StudioState) => s.speed;
const fieldErrorsSelector = (s: StudioState) => s.fieldErrors;
const demoTextsSelector = (s: StudioState) => s.demoTexts;
const compareSelector = (s: StudioState) => s.compareId;
const compareEntrySelector = (s: StudioState) => (s.compareId === null ? null : s.history.find((h) => h.id === s.compareId) ?? null);

/** The adapter's measured speed (GFLOP/s, sync time). */
export const useSpeed = () => useStudioStore(speedSelector);
/** Settings fields whose text is invalid, with why. */
export const useFieldErrors = () => useStudioStore(fieldErrorsSelector);
/** The demo's texts once fetched. */
export const useDemoTexts = () => useStudioStore(demoTextsSelector);
/** The id of the earlier run overlaid on the current one. */
export const useCompareId = () => useStudioStore(compareSelector);
/** The earlier run overlaid on the current one, or null. */
export const useCompareEntry = () => useStudioStore(compareEntrySelector);

const sweepSelector = (s: StudioState) => s.sweep;
const sweepFormSelector = (s: StudioState) => s.sweepForm;
const mixedPlanSelector = (s: StudioState) => s.mixedPlan;
const sweepPlanSelector = (s: StudioState) => s.sweepPlan;

/** The strategy sweep in progress or the last one. */
export const useSweep = () => useStudioStore(sweepSelector);
/** The "Compare strategies" choices; change them with useStudioStore.getState().updateSweepForm(patch). */
export const useSweepForm = () => useStudioStore(sweepFormSelector);
/** The Compare list checked against the model and settings (the passes it would refuse). */
export const useSweepPlan = () => useStudioStore(sweepPlanSelector);
/** The mixed-precision plan for the target bits per weight. */
export const useMixedPlan = () => useStudioStore(mixedPlanSelector);
