/**
 * Which page the URL asks for. `/` is the studio; `/?check=layer[&seed=…]` is the layer check,
 * a deterministic page for automation (e2e/layer-check.spec.ts) and for anyone who wants to see
 * the GPU engine agree with the f64 reference on their own machine.
 */
import { parseLayerCheckSpec } from './layer-check/compare';
import type { LayerCheckSpec } from './layer-check/compare';

export type Route =
  | { page: 'studio' }
  | { page: 'layer-check'; spec: LayerCheckSpec }
  | { page: 'layer-check'; invalid: string };

export function parseRoute(search: string): Route {
  const check = new URLSearchParams(search).get('check');
  if (check !== 'layer') return { page: 'studio' };
  try {
    return { page: 'layer-check', spec: parseLayerCheckSpec(search) };
  } catch (e) {
    return { page: 'layer-check', invalid: e instanceof Error ? e.message : String(e) };
  }
}
