/**
 * The studio's UI state. Worker results enter it only through the bridge (../bridge.ts).
 */
import type { AdapterSummary } from '../../gpu/device';
import type { LayerCheckReport, LayerCheckSpec } from '../layer-check/compare';
import { initialStudioSlices, type StudioSlices } from './studio-state';

/** An error as the UI shows it: what happened, and what the person can do about it. */
export interface UiError {
  /**
   * `no-webgpu`: no navigator.gpu, or no adapter; `worker`: the worker failed or threw;
   * `reference`: the f64 reference on the page threw; `input`: the URL asked for something invalid.
   */
  kind: 'no-webgpu' | 'worker' | 'reference' | 'input' | 'model' | 'run' | 'device-lost';
  message: string;
  /** What to do about it, where there is something to do. */
  help?: string;
}

export type AdapterSlice =
  | { status: 'idle' }
  | { status: 'loading' }
  | { status: 'ready'; summary: AdapterSummary }
  | { status: 'error'; error: UiError };

export type LayerCheckSlice =
  | { status: 'idle' }
  | { status: 'running'; spec: LayerCheckSpec }
  | { status: 'done'; spec: LayerCheckSpec; report: LayerCheckReport }
  | { status: 'error'; spec: LayerCheckSpec; error: UiError };

export interface StudioData extends StudioSlices {
  adapter: AdapterSlice;
  layerCheck: LayerCheckSlice;
}

export function getInitialState(): StudioData {
  return {
    adapter: { status: 'idle' },
    layerCheck: { status: 'idle' },
    ...initialStudioSlices(),
  };
}
