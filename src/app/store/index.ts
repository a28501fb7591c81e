/**
 * The zustand store: UI state plus thin setters. The setters for worker-derived slices are
 * called by the bridge only (see ../bridge.ts); components read through the hooks in ./hooks.ts
 * and change only UI state (settings, the selected layer). Earlier runs persist in localStorage.
 */
import { create } from 'zustand';
import { persist } from 'zustand/middleware';
import { getInitialState } from './initialState';
import { heldRunLocks, runLockName, runLocksAvailable } from './run-locks';
import { historyStorage } from './history-storage';
import type { AdapterSlice, LayerCheckSlice, StudioData } from './initialState';
import type { DownloadSlice, GgufDownloadSlice, GenerationSlice, HistoryEntry, MixedPlanSlice, ModelSlice, PlanSlice, RunSlice, SettingsSlice, SpeedSlice, SweepForm, SweepPlanSlice, SweepSlice, TextChoice } from './studio-state';

export interface StudioState extends StudioData {
  setAdapter(adapter: AdapterSlice): void;
  setLayerCheck(layerCheck: LayerCheckSlice): void;
  setModel(model: ModelSlice): void;
  /** Renames the loaded model (the name its runs, zip and report carry). */
  renameModel(name: string): void;
  setSpeed(speed: SpeedSlice): void;
  updateSettings(patch: Partial<SettingsSlice>): void;
  /** Marks a settings field invalid (with why) or valid again (null). */
  setFieldError(field: string, message: string | null): void;
  setDemoTexts(texts: TextChoice[]): void;
  setPlan(plan: PlanSlice): void;
  setRun(run: RunSlice): void;
  updateRun(patch: Partial<RunSlice> | ((run: RunSlice) => Partial<RunSlice>)): void;
  selectLayer(key: string | null): void;
  setGeneration(generation: GenerationSlice): void;
  setDownload(download: DownloadSlice): void;
  setGgufDownload(patch: Partial<GgufDownloadSlice>): void;
  addHistory(entry: HistoryEntry): void;
  removeHistory(id: string): void;
  /** Overlays an earlier run on the current one (null: none). */
  setCompare(id: string | null): void;
  setSweep(sweep: SweepSlice): void;
  updateSweep(patch: Partial<SweepSlice> | ((sweep: SweepSlice) => Partial<SweepSlice>)): void;
  updateSweepForm(patch: Partial<SweepForm>): void;
  setSweepPlan(sweepPlan: SweepPlanSlice): void;
  setMixedPlan(mixedPlan: MixedPlanSlice): void;
  reset(): void;
}

/**
 * The history after a page loads: a run recorded 'running' whose lock (runLockName(id)) no tab
 * holds belongs to a page that is gone, so it becomes 'interrupted', with why; a run whose lock
 * is held is still going in another tab and stays 'running'. `heldLocks`: the lock names held now
 * (heldRunLocks), or null where the browser cannot say (no Web Locks): then every 'running' entry
 * is taken as interrupted. Returns `history` itself when nothing changes. Pure.
 */
export function markInterrupted(history: readonly HistoryEntry[], heldLocks: readonly string[] | null): HistoryEntry[] {
  const held = new Set(heldLocks ?? []);
  const gone = (h: HistoryEntry) => h.status === 'running' && !held.has(runLockName(h.id));
  if (!history.some(gone)) return history as HistoryEntry[];
  return history.map((h) => (gone(h)
    ? { ...h, status: 'interrupted', reason: 'the page was reloaded or closed while the run was going; the layers finished by then are kept' }
    : h));
}

/** Runs kept across reloads (the oldest are dropped first). */
export const HISTORY_LIMIT = 12;

/** Counts settleInterrupted's calls (declared before the store: its first hydration calls it). */
let settling = 0;

export const useStudioStore = create<StudioState>()(
  persist(
    (set) => ({
      ...getInitialState(),
      setAdapter: (adapter) => set({ adapter }),
      setLayerCheck: (layerCheck) => set({ layerCheck }),
      setModel: (model) => set({ model }),
      renameModel: (name) => set((s) => (s.model.status === 'ready' ? { model: { ...s.model, name } } : {})),
      setSpeed: (speed) => set({ speed }),
      updateSettings: (patch) => set((s) => ({ settings: { ...s.settings, ...patch } })),
      setFieldError: (field, message) => set((s) => {
        if ((s.fieldErrors[field] ?? null) === message) return {};
        const fieldErrors = { ...s.fieldErrors };
        if (message === null) delete fieldErrors[field];
        else fieldErrors[field] = message;
        return { fieldErrors };
      }),
      setDemoTexts: (demoTexts) => set({ demoTexts }),
      setPlan: (plan) => set({ plan }),
      setRun: (run) => set({ run }),
      updateRun: (patch) => set((s) => ({ run: { ...s.run, ...(typeof patch === 'function' ? patch(s.run) : patch) } })),
      selectLayer: (selectedLayer) => set({ selectedLayer }),
      setGeneration: (generation) => set({ generation }),
      setDownload: (download) => set({ download }),
      setGgufDownload: (patch) => set((s) => ({ ggufDownload: { ...s.ggufDownload, ...patch } })),
      addHistory: (entry) => set((s) => ({ history: [entry, ...s.history.filter((h) => h.id !== entry.id)].slice(0, HISTORY_LIMIT) })),
      removeHistory: (id) => set((s) => ({ history: s.history.filter((h) => h.id !== id), compareId: s.compareId === id ? null : s.compareId })),
      setCompare: (compareId) => set({ compareId }),
      setSweep: (sweep) => set({ sweep }),
      updateSweep: (patch) => set((s) => ({ sweep: { ...s.sweep, ...(typeof patch === 'function' ? patch(s.sweep) : patch) } })),
      updateSweepForm: (patch) => set((s) => ({ sweepForm: { ...s.sweepForm, ...patch } })),
      setSweepPlan: (sweepPlan) => set({ sweepPlan }),
      setMixedPlan: (mixedPlan) => set({ mixedPlan }),
      reset: () => set(getInitialState()),
    }),
    {
      name: 'gptq-studio',
      version: 1,
      storage: historyStorage<Pick<StudioState, 'history'>>(),
      partialize: (s) => ({ history: s.history }),
      // A run still 'running' in storage may belong to a page that is gone (interrupted) or be
      // going in another tab: without Web Locks there is no telling, and it is taken as
      // interrupted here; with them, settleInterrupted asks which runs' locks are held.
      merge: (persisted, current) => {
        const history = (persisted as { history?: HistoryEntry[] } | undefined)?.history;
        if (!Array.isArray(history)) return current;
        return { ...current, history: runLocksAvailable() ? history : markInterrupted(history, null) };
      },
      onRehydrateStorage: () => () => {
        if (runLocksAvailable()) void settleInterrupted();
      },
    },
  ),
);

/**
 * Marks interrupted the 'running' entries whose run no tab holds the lock of (markInterrupted),
 * once the browser says which locks are held. A later hydration (another tab wrote the history)
 * supersedes an answer still on its way.
 */
async function settleInterrupted(): Promise<void> {
  const mine = ++settling;
  const held = await heldRunLocks();
  if (mine !== settling) return;
  const { history } = useStudioStore.getState();
  const marked = markInterrupted(history, held);
  if (marked !== history) useStudioStore.setState({ history: marked });
}

// Tabs share the history through localStorage: when another tab writes it (a run of its own goes
// on, ends, or an entry is removed), this tab reads it again, so that neither writes back an old copy.
if (typeof window !== 'undefined' && typeof window.addEventListener === 'function') {
  window.addEventListener('storage', (e) => {
    if (e.key === useStudioStore.persist.getOptions().name) void useStudioStore.persist.rehydrate();
  });
}

export type { AdapterSlice, LayerCheckSlice, UiError } from './initialState';
export type * from './studio-state';
