/**
 * Which page the URL asks for. `/` is the studio; `/?check=layer[&seed=…]` is the layer check,
 * a deterministic page for automation (e2e/layer-check.spec.ts) and for anyone who wants to see
 * the GPU engine agree with the f64 reference on their own machine; `/?lesson=N` is lesson N.
 */
import { parseLayerCheckSpec } from './layer-check/compare';
import type { LayerCheckSpec } from './layer-check/compare';
import { LESSON_COUNT } from './lessons/catalog';

export type Route =
  | { page: 'studio' }
  | { page: 'layer-check'; spec: LayerCheckSpec }
  | { page: 'layer-check'; invalid: string }
  | { page: 'lesson'; lesson: number }
  | { page: 'lesson'; invalid: string };

export function parseRoute(search: string): Route {
  const params = new URLSearchParams(search);
  const check = params.get('check');
  const lesson = params.get('lesson');
  if (check !== 'layer' && lesson !== null) return parseLesson(lesson);
  if (check !== 'layer') return { page: 'studio' };
  try {
    return { page: 'layer-check', spec: parseLayerCheckSpec(search) };
  } catch (e) {
    return { page: 'layer-check', invalid: e instanceof Error ? e.message : String(e) };
  }
}

function parseLesson(text: string): Route {
  const n = Number(text);
  if (Number.isInteger(n) && n >= 1 && n <= LESSON_COUNT) return { page: 'lesson', lesson: n };
  return { page: 'lesson', invalid: `there is no lesson "${text}": the lessons are numbered 1 to ${LESSON_COUNT}` };
}
