/**
 * Lesson 4: where pain lands on a real layer. The layer's inputs X [tokens, cols] are captured by
 * the f64 forward reference on calibration windows; H = (2/N)·XᵀX. For RTN and GPTQ on the same
 * grid: per input column j, the squared weight error Σ_rows (W − Q)²_j and its cost in the output
 * H_jj·Σ_rows (W − Q)²_j (the diagonal part of the output error), and the output MSE of each.
 */
import type { ReferenceModel } from '../model/forward-reference';
import { embed, forwardBlock } from '../model/forward-reference';
import { HessianAccumulator } from '../hessian';
import { gptqReference } from '../gptq-reference';
import { rtnReference } from '../rtn';
import { outputMse } from '../metrics';

export interface CapturedLayer {
  block: number;
  linear: string;
  rows: number;
  cols: number;
  tokens: number;
  /** [rows, cols] */
  W: Float32Array;
  /** [tokens, cols] */
  X: Float64Array;
}

/** Runs the windows through blocks 0..block and captures the input of `linear` in `block`. */
export function captureLayer(model: ReferenceModel, windows: readonly (readonly number[])[], block: number, linear: string, W: Float32Array, rows: number, cols: number): CapturedLayer {
  const parts: Float64Array[] = [];
  for (const ids of windows) {
    let h = embed(model, ids);
    for (let b = 0; b <= block; b++) {
      h = forwardBlock(model, b, h, ids.length, {
        onLinearInput: (name, X) => {
          if (b === block && name === linear) parts.push(X.slice());
        },
      });
    }
  }
  const tokens = parts.reduce((n, p) => n + p.length / cols, 0);
  const X = new Float64Array(tokens * cols);
  let at = 0;
  for (const p of parts) {
    X.set(p, at);
    at += p.length;
  }
  return { block, linear, rows, cols, tokens, W, X };
}

export interface PainSide {
  /** Σ_rows (W − Q)² per input column [cols]. */
  columnError: Float64Array;
  /** H_jj · columnError_j [cols]: what each column's error costs in the output, ignoring correlations. */
  columnCost: Float64Array;
  /** ‖(W − Q)Xᵀ‖² / (rows · tokens). */
  outputMse: number;
}

export interface PainStudy {
  layer: CapturedLayer;
  /** diag(H) [cols]. */
  diag: Float64Array;
  rtn: PainSide;
  gptq: PainSide;
}

export function studyPain(layer: CapturedLayer, quant: { bits: number; groupSize: number; sym: boolean; actOrder?: boolean }): PainStudy {
  const { rows, cols, tokens, W, X } = layer;
  const acc = new HessianAccumulator(cols);
  acc.addBatch(X, tokens, tokens);
  const H = acc.H;
  const diag = Float64Array.from({ length: cols }, (_, j) => H[j * cols + j]);
  const side = (Q: Float32Array | Float64Array): PainSide => {
    const columnError = new Float64Array(cols);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < cols; j++) columnError[j] += (W[r * cols + j] - Q[r * cols + j]) ** 2;
    }
    return {
      columnError,
      columnCost: columnError.map((e, j) => e * diag[j]),
      outputMse: outputMse(W, Q, X, rows, cols, tokens),
    };
  };
  const options = { bits: quant.bits, groupSize: quant.groupSize, sym: quant.sym };
  return {
    layer,
    diag,
    rtn: side(rtnReference(W, rows, cols, options).Q),
    gptq: side(gptqReference(W, H, rows, cols, { ...options, actOrder: quant.actOrder ?? false }).Q),
  };
}

/** Columns in decreasing order of sensitivity, diag(H). */
export function bySensitivity(study: PainStudy): number[] {
  return Array.from(study.diag.keys()).sort((a, b) => study.diag[b] - study.diag[a]);
}

/** Σ H_jj·(weight error)_j over the `share` most sensitive columns, and over all columns. */
export function costInTopColumns(study: PainStudy, side: 'rtn' | 'gptq', share = 0.1): { top: number; total: number } {
  const order = bySensitivity(study);
  const k = Math.max(1, Math.round(order.length * share));
  const cost = study[side].columnCost;
  return { top: order.slice(0, k).reduce((a, j) => a + cost[j], 0), total: cost.reduce((a, b) => a + b, 0) };
}
