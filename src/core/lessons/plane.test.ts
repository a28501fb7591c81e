import { describe, expect, it } from 'vitest';
import { contourPoints, fromPx, planeScene, planeView, toPx, toyRowView } from './plane';
import { analyzeToyRow, NOTES_TOY_ROW } from './toy-row';

describe("lesson 1's plane", () => {
  it('a square view around the points; toPx and fromPx undo each other; fromPx clamps', () => {
    const v = planeView([[0, 0], [1, 2]], 0.5, 400, 20);
    expect(v.xMax - v.xMin).toBeCloseTo(v.yMax - v.yMin, 12);
    const [x, y] = toPx(v, [0.3, 1.1]);
    const [a, b] = fromPx(v, [x, y]);
    expect(a).toBeCloseTo(0.3, 12);
    expect(b).toBeCloseTo(1.1, 12);
    expect(toPx(v, [v.xMin, v.yMax])).toEqual([20, 20]);
    expect(fromPx(v, [-1000, 5000])).toEqual([v.xMin, v.yMin]);
  });

  it('contour points lie on (w − ŵ)ᵀA(w − ŵ) = level', () => {
    const A = [5, 5, 5, 10];
    for (const [px, py] of contourPoints(A, [0.8, -0.4], 0.1, 100)) {
      const dx = px - 0.8;
      const dy = py + 0.4;
      expect(A[0] * dx * dx + 2 * A[1] * dx * dy + A[3] * dy * dy).toBeCloseTo(0.1, 10);
    }
  });

  it('a singular A (one input) gives capped, finite points', () => {
    const pts = contourPoints([4, 2, 2, 1], [0, 0], 1, 50);
    expect(pts.every(([x, y]) => Number.isFinite(x) && Number.isFinite(y))).toBe(true);
    expect(Math.max(...pts.map(([x, y]) => Math.hypot(x, y)))).toBeCloseTo(50, 10);
  });

  it("the notes' scene: 16 grid points, the row, RTN, GPTQ and the path in px; a contour through RTN's point", () => {
    const a = analyzeToyRow(NOTES_TOY_ROW);
    const view = toyRowView(NOTES_TOY_ROW, a);
    const s = planeScene(NOTES_TOY_ROW, a, view);
    expect(s.grid).toHaveLength(16);
    expect(s.W.w).toEqual([0.8, -0.4]);
    expect(s.rtn.w).toEqual([1, -0.5]);
    expect(s.path).toHaveLength(3);
    expect(s.fixedLine.x).toBeCloseTo(toPx(view, [1, 0])[0], 12);
    const through = s.contours.find((c) => c.through === 'rtn')!;
    expect(through.level).toBeCloseTo(0.1, 12);
    expect(s.xTicks.map((t) => t.value)).toEqual([-0.5, 0, 0.5, 1]);
    for (const p of [s.W, s.rtn, s.gptq, ...s.grid]) {
      expect(p.x).toBeGreaterThanOrEqual(view.pad);
      expect(p.x).toBeLessThanOrEqual(view.pad + view.size);
    }
  });
});
