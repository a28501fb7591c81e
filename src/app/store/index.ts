/**
 * The zustand store: UI state plus thin setters. The setters for worker-derived slices are
 * called by the bridge only (see ../bridge.ts); components read through the hooks in ./hooks.ts.
 */
import { create } from 'zustand';
import { getInitialState } from './initialState';
import type { AdapterSlice, LayerCheckSlice, StudioData } from './initialState';

export interface StudioState extends StudioData {
  setAdapter(adapter: AdapterSlice): void;
  setLayerCheck(layerCheck: LayerCheckSlice): void;
  reset(): void;
}

export const useStudioStore = create<StudioState>()((set) => ({
  ...getInitialState(),
  setAdapter: (adapter) => set({ adapter }),
  setLayerCheck: (layerCheck) => set({ layerCheck }),
  reset: () => set(getInitialState()),
}));

export type { AdapterSlice, LayerCheckSlice, UiError } from './initialState';
