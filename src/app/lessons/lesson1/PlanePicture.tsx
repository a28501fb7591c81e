import { useRef, type KeyboardEvent, type PointerEvent } from 'react';
import type { PlaneMark, PlaneScene, Point } from '../../../core/lessons/plane';
import { num, vec } from '../fmt';
import { BIG_NUDGE, NUDGE } from './state';

interface PlanePictureProps {
  scene: PlaneScene;
  onDragStart(): void;
  /** The pointer's position in the picture's own pixels (the SVG viewBox). */
  onDrag(p: Point): void;
  onDragEnd(): void;
  onNudge(dw1: number, dw2: number): void;
  onPick(w: Point): void;
}

const KEYS: Record<string, [number, number]> = {
  ArrowLeft: [-1, 0],
  ArrowRight: [1, 0],
  ArrowUp: [0, 1],
  ArrowDown: [0, -1],
};

function Diamond({ m, r, className }: { m: PlaneMark; r: number; className: string }) {
  return <polygon className={className} points={`${m.x},${m.y - r} ${m.x + r},${m.y} ${m.x},${m.y + r} ${m.x - r},${m.y}`} />;
}

/**
 * The (w1, w2) plane: grid points, ellipses of equal squared output error around W, where RTN,
 * GPTQ and the brute force land, and GPTQ's path. W can be dragged or moved with the arrow keys;
 * a click on a grid point makes it "your pick". Everything drawn comes prepared in `scene`.
 */
export function PlanePicture({ scene: s, onDragStart, onDrag, onDragEnd, onNudge, onPick }: PlanePictureProps) {
  const svgRef = useRef<SVGSVGElement>(null);
  const dragging = useRef(false);

  const svgPoint = (e: PointerEvent): Point | null => {
    const ctm = svgRef.current?.getScreenCTM();
    if (!ctm) return null;
    const p = new DOMPoint(e.clientX, e.clientY).matrixTransform(ctm.inverse());
    return [p.x, p.y];
  };
  const onPointerDown = (e: PointerEvent<SVGGElement>) => {
    e.currentTarget.setPointerCapture(e.pointerId);
    dragging.current = true;
    onDragStart();
  };
  const onPointerMove = (e: PointerEvent<SVGGElement>) => {
    if (!dragging.current) return;
    const p = svgPoint(e);
    if (p) onDrag(p);
  };
  const endDrag = () => {
    if (!dragging.current) return;
    dragging.current = false;
    onDragEnd();
  };
  const onKeyDown = (e: KeyboardEvent<SVGGElement>) => {
    const k = KEYS[e.key];
    if (!k) return;
    e.preventDefault();
    const step = e.shiftKey ? BIG_NUDGE : NUDGE;
    onNudge(k[0] * step, k[1] * step);
  };

  const { view: v } = s;
  const left = v.pad;
  const right = v.pad + v.size;
  const top = v.pad;
  const bottom = v.pad + v.size;
  const pts = (p: readonly (readonly [number, number])[]) => p.map(([x, y]) => `${x},${y}`).join(' ');
  const path = s.path;
  return (
    <figure className="plane">
      <svg
        ref={svgRef}
        viewBox={`0 0 ${s.box} ${s.box}`}
        className="plane-svg"
        data-testid="l1-plane"
        aria-labelledby="l1-plane-title"
        aria-describedby="l1-plane-desc"
      >
        <title id="l1-plane-title">The (w1, w2) plane</title>
        <defs>
          <clipPath id="l1-plot">
            <rect x={left} y={top} width={v.size} height={v.size} />
          </clipPath>
          <marker id="l1-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M 0 0 L 10 5 L 0 10 z" className="path-head" />
          </marker>
        </defs>
        <rect x={left} y={top} width={v.size} height={v.size} className="plot-bg" />
        {s.xTicks.map((t) => (
          <g key={`x${t.value}`}>
            <line x1={t.px} x2={t.px} y1={top} y2={bottom} className="grid-line" />
            <text x={t.px} y={bottom + 14} className="tick" textAnchor="middle">{num(t.value)}</text>
          </g>
        ))}
        {s.yTicks.map((t) => (
          <g key={`y${t.value}`}>
            <line x1={left} x2={right} y1={t.px} y2={t.px} className="grid-line" />
            <text x={left - 4} y={t.px + 4} className="tick" textAnchor="end">{num(t.value)}</text>
          </g>
        ))}
        <text x={right} y={bottom + 30} className="axis-label" textAnchor="end">w1 →</text>
        <text x={left - 30} y={top - 10} className="axis-label">↑ w2</text>
        <g clipPath="url(#l1-plot)">
          {s.contours.map((c, i) => (
            <polyline key={i} points={pts(c.points)} className={c.through === 'rtn' ? 'contour contour-rtn' : 'contour'}>
              <title>squared output error {num(c.level)}</title>
            </polyline>
          ))}
          <line x1={s.fixedLine.x} x2={s.fixedLine.x} y1={s.fixedLine.y1} y2={s.fixedLine.y2} className="fixed-line" />
          {s.grid.map((g) => (
            <circle key={g.w.join(',')} cx={g.x} cy={g.y} r={4} className="grid-point" onClick={() => onPick(g.w)}>
              <title>{`${vec(g.w)}: squared output error ${num(g.squaredSum)} (click to pick)`}</title>
            </circle>
          ))}
          <line x1={path[0].x} y1={path[0].y} x2={path[1].x} y2={path[1].y} className="path" markerEnd="url(#l1-arrow)" />
          <line x1={path[1].x} y1={path[1].y} x2={path[2].x} y2={path[2].y} className="path" markerEnd="url(#l1-arrow)" />
          <circle cx={path[1].x} cy={path[1].y} r={3.5} className="path-stop" />
          <circle cx={s.candidate.x} cy={s.candidate.y} r={13} className="mark-candidate" />
          <circle cx={s.best.x} cy={s.best.y} r={10} className="mark-best" />
          <rect x={s.rtn.x - 6} y={s.rtn.y - 6} width={12} height={12} className="mark-rtn" />
          <Diamond m={s.gptq} r={6} className="mark-gptq" />
        </g>
        <g
          className="w-handle"
          tabIndex={0}
          role="button"
          aria-roledescription="movable point"
          aria-label={`W = ${vec(s.W.w)}. Arrow keys move w1 (left, right) and w2 (up, down) by ${NUDGE}; with Shift by ${BIG_NUDGE}.`}
          aria-keyshortcuts="ArrowLeft ArrowRight ArrowUp ArrowDown"
          data-testid="l1-w-handle"
          data-value={s.W.w.join(',')}
          onPointerDown={onPointerDown}
          onPointerMove={onPointerMove}
          onPointerUp={endDrag}
          onPointerCancel={endDrag}
          onKeyDown={onKeyDown}
        >
          <circle cx={s.W.x} cy={s.W.y} r={14} className="w-hit" />
          <circle cx={s.W.x} cy={s.W.y} r={6} className="w-dot" />
          <text x={s.W.x + 9} y={s.W.y - 9} className="w-label">W</text>
        </g>
      </svg>
      <figcaption>
        <ul className="legend">
          <li><span className="swatch sw-w" /> W, the row (drag it, or focus it and use the arrow keys)</li>
          <li><span className="swatch sw-grid" /> grid points (click one to pick it)</li>
          <li><span className="swatch sw-contour" /> equal squared output error</li>
          <li><span className="swatch sw-contour-rtn" /> the error RTN leaves</li>
          <li><span className="swatch sw-rtn" /> RTN <span className="swatch sw-gptq" /> GPTQ <span className="swatch sw-best" /> best <span className="swatch sw-candidate" /> your pick</li>
          <li><span className="swatch sw-path" /> GPTQ’s path; dashed: the line w1 = {num(path[1].w[0])} it lands on first</li>
        </ul>
        <p id="l1-plane-desc" className="note">
          W is at {vec(s.W.w)}. RTN lands on {vec(s.rtn.w)}, GPTQ on {vec(s.gptq.w)}, and the best grid point is{' '}
          {vec(s.best.w)}. GPTQ first goes to {vec(path[1].w)}, then to {vec(path[2].w)}. The ellipses are drawn around W;
          they stretch along directions the inputs hardly use, where moving W costs little output error.
        </p>
      </figcaption>
    </figure>
  );
}
