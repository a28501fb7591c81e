/** One hook per store slice; selectors live at module scope so they are not rebuilt per render. */
import { useStudioStore } from './index';
import type { StudioState } from './index';

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
