/**
 * Lesson 1's picture of the (w1, w2) plane, prepared as plain geometry in SVG pixels: the
 * picture component only draws it. Horizontal is w1, vertical is w2 (up is positive); one data
 * unit has the same length on both axes, so the error ellipses keep their true shape.
 */
import type { ToyRow, ToyRowAnalysis } from './toy-row';

export type Point = readonly [number, number];

export interface PlaneView {
  /** Data bounds shown: w1 in [xMin, xMax], w2 in [yMin, yMax] (same span on both). */
  xMin: number;
  xMax: number;
  yMin: number;
  yMax: number;
  /** Side of the square drawing area in px, and the margin around it for the axes. */
  size: number;
  pad: number;
}

/** Side of the square drawing area, px (the SVG viewBox adds `pad` on each side). */
export const PLANE_SIZE = 420;
export const PLANE_PAD = 36;

/** A square view holding every point given, with `margin` data units around them. */
export function planeView(points: readonly Point[], margin: number, size = PLANE_SIZE, pad = PLANE_PAD): PlaneView {
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  const x0 = Math.min(...xs) - margin;
  const x1 = Math.max(...xs) + margin;
  const y0 = Math.min(...ys) - margin;
  const y1 = Math.max(...ys) + margin;
  const span = Math.max(x1 - x0, y1 - y0);
  const cx = (x0 + x1) / 2;
  const cy = (y0 + y1) / 2;
  return { xMin: cx - span / 2, xMax: cx + span / 2, yMin: cy - span / 2, yMax: cy + span / 2, size, pad };
}

/** The view lesson 1 uses: the whole grid (both axes), the row, and GPTQ's path. */
export function toyRowView(t: ToyRow, a: ToyRowAnalysis): PlaneView {
  const lo = a.levels[0];
  const hi = a.levels[a.levels.length - 1];
  const points: Point[] = [[lo, lo], [hi, hi], [t.w[0], t.w[1]], ...a.path.map((p) => [p[0], p[1]] as const)];
  return planeView(points, 0.75 * t.grid.step);
}

export function toPx(v: PlaneView, [w1, w2]: Point): [number, number] {
  const k = v.size / (v.xMax - v.xMin);
  return [v.pad + (w1 - v.xMin) * k, v.pad + (v.yMax - w2) * k];
}

/** Pixel → data, clamped to the view (a dragged point cannot leave the picture). */
export function fromPx(v: PlaneView, [x, y]: Point): [number, number] {
  const k = (v.xMax - v.xMin) / v.size;
  const w1 = v.xMin + (x - v.pad) * k;
  const w2 = v.yMax - (y - v.pad) * k;
  return [clamp(w1, v.xMin, v.xMax), clamp(w2, v.yMin, v.yMax)];
}

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

/**
 * The curve {ŵ : (w − ŵ)ᵀ A (w − ŵ) = level} around `center` = w, A symmetric 2×2 [a00, a01,
 * a10, a11] positive semidefinite, as `n` points. Along a direction u the curve lies at distance
 * √(level / uᵀAu); where uᵀAu is (nearly) 0 the distance is capped at `cap`, so a singular A
 * (one input, or parallel inputs) gives two long parallel lines instead of an ellipse.
 */
export function contourPoints(A: ArrayLike<number>, center: Point, level: number, cap: number, n = 120): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i <= n; i++) {
    const t = (2 * Math.PI * i) / n;
    const ux = Math.cos(t);
    const uy = Math.sin(t);
    const q = A[0] * ux * ux + (A[1] + A[2]) * ux * uy + A[3] * uy * uy;
    const r = q > 0 ? Math.min(Math.sqrt(level / q), cap) : cap;
    out.push([center[0] + r * ux, center[1] + r * uy]);
  }
  return out;
}

export interface PlaneMark {
  x: number;
  y: number;
  /** The data point (w1, w2). */
  w: Point;
}

export interface GridMark extends PlaneMark {
  squaredSum: number;
}

export interface Contour {
  /** The squared output error along this curve. */
  level: number;
  /** SVG polyline points, px. */
  points: [number, number][];
  /** Set on the curve that passes through RTN's point. */
  through?: 'rtn';
}

export interface Tick {
  value: number;
  px: number;
}

export interface PlaneScene {
  view: PlaneView;
  /** Width and height of the whole SVG viewBox, px. */
  box: number;
  xTicks: Tick[];
  yTicks: Tick[];
  grid: GridMark[];
  contours: Contour[];
  W: PlaneMark;
  rtn: PlaneMark;
  gptq: PlaneMark;
  best: PlaneMark;
  candidate: PlaneMark;
  /** GPTQ's route, px: the row, after step 1 (w1 on the grid, w2 compensated), after step 2. */
  path: PlaneMark[];
  /** The line w1 = q1 that step 1 confines the row to, px. */
  fixedLine: { x: number; y1: number; y2: number };
}

/** How many evenly spaced (in √error) contours fill the view. */
export const CONTOUR_COUNT = 6;

export function planeScene(t: ToyRow, a: ToyRowAnalysis, view: PlaneView): PlaneScene {
  const mark = (w: readonly number[]): PlaneMark => {
    const [x, y] = toPx(view, [w[0], w[1]]);
    return { x, y, w: [w[0], w[1]] };
  };
  const center: Point = [t.w[0], t.w[1]];
  const A = Array.from(a.H, (h) => h / 2); // XᵀX: the squared output error's quadratic form
  const span = view.xMax - view.xMin;
  const corners: Point[] = [
    [view.xMin, view.yMin],
    [view.xMin, view.yMax],
    [view.xMax, view.yMin],
    [view.xMax, view.yMax],
  ];
  const errorAt = ([x, y]: Point) => {
    const dx = center[0] - x;
    const dy = center[1] - y;
    return A[0] * dx * dx + 2 * A[1] * dx * dy + A[3] * dy * dy;
  };
  const reach = Math.max(...corners.map(errorAt));
  const toPoints = (level: number) => contourPoints(A, center, level, 4 * span).map((p) => toPx(view, p));
  const contours: Contour[] = [];
  for (let k = 1; k <= CONTOUR_COUNT; k++) {
    const level = reach * (k / (CONTOUR_COUNT + 1)) ** 2;
    if (level > 0) contours.push({ level, points: toPoints(level) });
  }
  if (a.rtn.squaredSum > 0) contours.push({ level: a.rtn.squaredSum, points: toPoints(a.rtn.squaredSum), through: 'rtn' });

  const ticks = (lo: number, hi: number, axis: 0 | 1): Tick[] =>
    a.levels
      .filter((l) => l >= lo && l <= hi)
      .map((value) => ({ value, px: toPx(view, axis === 0 ? [value, 0] : [0, value])[axis] }));
  const q1 = a.gptqSteps[0].q;
  return {
    view,
    box: view.size + 2 * view.pad,
    xTicks: ticks(view.xMin, view.xMax, 0),
    yTicks: ticks(view.yMin, view.yMax, 1),
    grid: a.allPoints.map((p) => ({ ...mark(p.w), squaredSum: p.squaredSum })),
    contours,
    W: mark(t.w),
    rtn: mark(a.rtn.w),
    gptq: mark(a.gptq.w),
    best: mark(a.best.w),
    candidate: mark(a.candidate.w),
    path: a.path.map(mark),
    fixedLine: { x: toPx(view, [q1, 0])[0], y1: view.pad, y2: view.pad + view.size },
  };
}
