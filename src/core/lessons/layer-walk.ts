/**
 * Lesson 3: GPTQ walked one column at a time over a small seeded layer, next to RTN.
 * W: [rows, cols], X: [tokens, cols], H = (2/N)·XᵀX with every token counted as one sample.
 */
import { HessianAccumulator } from '../hessian';
import { outputMse } from '../metrics';
import { gaussian, seededRandom } from '../random';
import { rtnReference } from '../rtn';
import type { QuantResult } from '../types';
import { gptqTrace, unpermuteColumns, type GptqTrace } from './trace';

export interface WalkShape {
  rows: number;
  cols: number;
  tokens: number;
}

export const WALK_SHAPE: WalkShape = { rows: 4, cols: 8, tokens: 16 };

export interface WalkOptions {
  seed: number;
  bits: number;
  sym: boolean;
  actOrder: boolean;
}

export const DEFAULT_WALK: WalkOptions = { seed: 1, bits: 3, sym: true, actOrder: false };

export interface WalkLayer extends WalkShape {
  seed: number;
  /** [rows, cols] */
  W: Float64Array;
  /** [tokens, cols] */
  X: Float64Array;
  /** (2/N)·XᵀX [cols, cols] */
  H: Float64Array;
}

/** Latent factors behind X's columns: fewer than cols, so columns move together. */
const FACTORS = 3;

/**
 * A seeded layer whose inputs are uneven and correlated: column c of X is
 * scale_c·(Σ_f z_f·A[f, c] + noise) with scale_c spread over about a factor of ten, so diag(H)
 * varies (act-order has something to sort) and H is far from diagonal (compensation matters).
 */
export function makeWalkLayer(seed: number, shape: WalkShape = WALK_SHAPE): WalkLayer {
  const { rows, cols, tokens } = shape;
  const randn = ((u) => () => gaussian(u))(seededRandom(seed));
  const W = new Float64Array(rows * cols);
  for (let i = 0; i < W.length; i++) W[i] = 0.5 * randn();
  const A = new Float64Array(FACTORS * cols); // [FACTORS, cols]
  for (let i = 0; i < A.length; i++) A[i] = randn();
  const scale = new Float64Array(cols); // [cols]
  for (let c = 0; c < cols; c++) scale[c] = Math.exp(0.8 * randn());
  const X = new Float64Array(tokens * cols);
  const z = new Float64Array(FACTORS);
  for (let t = 0; t < tokens; t++) {
    for (let f = 0; f < FACTORS; f++) z[f] = randn();
    for (let c = 0; c < cols; c++) {
      let x = 0.5 * randn();
      for (let f = 0; f < FACTORS; f++) x += z[f] * A[f * cols + c];
      X[t * cols + c] = scale[c] * x;
    }
  }
  const acc = new HessianAccumulator(cols);
  acc.addBatch(X, tokens, tokens);
  return { seed, rows, cols, tokens, W, X, H: acc.H };
}

export interface LayerWalk {
  layer: WalkLayer;
  options: WalkOptions;
  trace: GptqTrace;
  /** RTN on the same per-row grid. */
  rtn: QuantResult;
  /**
   * Output MSE ‖(W − Ŵ)Xᵀ‖²/(rows·tokens) after k steps, k = 0..cols (index 0: nothing done).
   * GPTQ's Ŵ is its working W: the quantized columns plus the compensated rest. RTN's Ŵ rounds
   * the same columns and leaves the rest as they were.
   */
  mseGptq: number[];
  mseRtn: number[];
}

export function walkLayer(options: WalkOptions, shape: WalkShape = WALK_SHAPE): LayerWalk {
  const layer = makeWalkLayer(options.seed, shape);
  const { rows, cols, tokens, W, X, H } = layer;
  const quant = { bits: options.bits, sym: options.sym };
  const trace = gptqTrace(W, H, rows, cols, { ...quant, actOrder: options.actOrder });
  const rtn = rtnReference(W, rows, cols, quant);
  const mse = (M: Float64Array) => outputMse(W, M, X, rows, cols, tokens);

  const mseGptq = [mse(unpermuteColumns(trace.start, rows, cols, trace.order))];
  const mseRtn = [mse(W)];
  const partialRtn = W.slice();
  for (const step of trace.steps) {
    mseGptq.push(mse(unpermuteColumns(step.W, rows, cols, trace.order)));
    for (let r = 0; r < rows; r++) partialRtn[r * cols + step.column] = rtn.Q[r * cols + step.column];
    mseRtn.push(mse(partialRtn));
  }
  return { layer, options, trace, rtn, mseGptq, mseRtn };
}
