/**
 * The zustand store: UI state plus thin setters. The setters for worker-derived slices are
 * called by the bridge only (see ../bridge.ts); components read through the hooks in ./hooks.ts
 * and change only UI state (settings, the selected layer). Earlier runs persist in localStorage.
 */
import { create } from 'zustand';
import { persist } from 'zustand/middleware';
import { getInitialState } from './initialState';
import type { AdapterSlice, LayerCheckSlice, StudioData } from './initialState';
import type { DownloadSlice, GgufDownloadSlice, GenerationSlice, HistoryEntry, ModelSlice, PlanSlice, RunSlice, SettingsSlice } from './studio-state';

export interface StudioState extends StudioData {
  setAdapter(adapter: AdapterSlice): void;
  setLayerCheck(layerCheck: LayerCheckSlice): void;
  setModel(model: ModelSlice): void;
  updateSettings(patch: Partial<SettingsSlice>): void;
  setPlan(plan: PlanSlice): void;
  setRun(run: RunSlice): void;
  updateRun(patch: Partial<RunSlice> | ((run: RunSlice) => Partial<RunSlice>)): void;
  selectLayer(key: string | null): void;
  setGeneration(generation: GenerationSlice): void;
  setDownload(download: DownloadSlice): void;
  setGgufDownload(patch: Partial<GgufDownloadSlice>): void;
  addHistory(entry: HistoryEntry): void;
  removeHistory(id: string): void;
  reset(): void;
}

/** Runs kept across reloads (the oldest are dropped first). */
export const HISTORY_LIMIT = 12;

export const useStudioStore = create<StudioState>()(
  persist(
    (set) => ({
      ...getInitialState(),
      setAdapter: (adapter) => set({ adapter }),
      setLayerCheck: (layerCheck) => set({ layerCheck }),
      setModel: (model) => set({ model }),
      updateSettings: (patch) => set((s) => ({ settings: { ...s.settings, ...patch } })),
      setPlan: (plan) => set({ plan }),
      setRun: (run) => set({ run }),
      updateRun: (patch) => set((s) => ({ run: { ...s.run, ...(typeof patch === 'function' ? patch(s.run) : patch) } })),
      selectLayer: (selectedLayer) => set({ selectedLayer }),
      setGeneration: (generation) => set({ generation }),
      setDownload: (download) => set({ download }),
      setGgufDownload: (patch) => set((s) => ({ ggufDownload: { ...s.ggufDownload, ...patch } })),
      addHistory: (entry) => set((s) => ({ history: [entry, ...s.history.filter((h) => h.id !== entry.id)].slice(0, HISTORY_LIMIT) })),
      removeHistory: (id) => set((s) => ({ history: s.history.filter((h) => h.id !== id) })),
      reset: () => set(getInitialState()),
    }),
    {
      name: 'gptq-studio',
      version: 1,
      partialize: (s) => ({ history: s.history }),
    },
  ),
);

export type { AdapterSlice, LayerCheckSlice, UiError } from './initialState';
export type * from './studio-state';
