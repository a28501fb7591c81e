/**
 * What lesson 3 shows at step k (0 = nothing quantized, cols = all done), prepared from a
 * LayerWalk: heatmaps in sweep order, the column order, this step's numbers and the error series.
 */
import type { LayerWalk } from '../../../core/lessons/layer-walk';
import type { TraceStep } from '../../../core/lessons/trace';
import { heatmap, maxAbs, type HeatmapData } from '../heat';

export interface OrderItem {
  column: number;
  diagH: number;
  state: 'done' | 'current' | 'todo';
}

export interface ErrorPoint {
  step: number;
  gptq: number;
  rtn: number;
}

export interface WalkView {
  step: number;
  cols: number;
  /** The step just taken (null at step 0). */
  current: TraceStep | null;
  W: HeatmapData;
  /** What the current step pushed into the later columns (null at step 0). */
  update: HeatmapData | null;
  H: HeatmapData;
  U: HeatmapData;
  order: OrderItem[];
  errors: ErrorPoint[];
  mseGptq: number;
  mseRtn: number;
}

export function walkView(walk: LayerWalk, step: number): WalkView {
  const { trace, layer } = walk;
  const { rows, cols } = layer;
  const k = Math.max(0, Math.min(cols, step));
  const current = k === 0 ? null : trace.steps[k - 1];
  const colLabels = Array.from(trace.order, (c) => `c${c}`);
  const rowLabels = Array.from({ length: rows }, (_, r) => `r${r}`);
  const colState = colLabels.map((_, j) => (j < k - 1 ? 'done' : j === k - 1 ? 'current' : 'todo') as OrderItem['state']);
  const Wnow = current ? current.W : trace.start;
  const wRange = maxAbs(trace.start, ...trace.steps.map((s) => s.W));
  const uRange = maxAbs(...trace.steps.map((s) => s.update));

  return {
    step: k,
    cols,
    current,
    W: { ...heatmap(Wnow, rows, cols, { caption: 'W, the working copy', rowLabels, colLabels, range: wRange }), colState },
    update: current
      ? {
          ...heatmap(current.update, rows, cols, { caption: `The update step ${k} pushed into later columns`, rowLabels, colLabels, range: uRange }),
          colState,
        }
      : null,
    H: heatmap(trace.H, cols, cols, { caption: 'H = (2/N)·XᵀX', rowLabels: colLabels, colLabels }),
    U: {
      ...heatmap(trace.U, cols, cols, { caption: 'U, with H⁻¹ = UᵀU (damped)', rowLabels: colLabels, colLabels, blankBelowDiagonal: true }),
      markRow: current ? k - 1 : undefined,
    },
    order: Array.from(trace.order, (column, j) => ({ column, diagH: trace.H[j * cols + j], state: colState[j] })),
    errors: walk.mseGptq.map((gptq, s) => ({ step: s, gptq, rtn: walk.mseRtn[s] })),
    mseGptq: walk.mseGptq[k],
    mseRtn: walk.mseRtn[k],
  };
}
