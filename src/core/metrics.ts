/** Layer-output error metrics, summed in f64. */
import type { Matrix } from './quantizer';

/** ‖W Xᵀ − Q̂ Xᵀ‖² / (rows·tokens); W, Q̂: [rows, cols], X: [tokens, cols]. */
export function outputMse(W: Matrix, Qhat: Matrix, X: Matrix, rows: number, cols: number, tokens: number): number {
  const D = new Float64Array(cols);
  let sum = 0;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) D[c] = W[r * cols + c] - Qhat[r * cols + c];
    for (let t = 0; t < tokens; t++) {
      let y = 0;
      for (let c = 0; c < cols; c++) y += D[c] * X[t * cols + c];
      sum += y * y;
    }
  }
  return sum / (rows * tokens);
}

/**
 * ½ Σ_rows (w − q)ᵀ H (w − q); W, Q̂: [rows, cols], H: [cols, cols]. With H = (2/N)·Σ x xᵀ this is
 * the output squared error per sequence, the quantity GPTQ's loss tracks (exactly, at GPTQ's
 * damped H with dead columns zeroed in W).
 */
export function hessianLoss(W: Matrix, Qhat: Matrix, H: Matrix, rows: number, cols: number): number {
  const D = new Float64Array(cols);
  let sum = 0;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) D[c] = W[r * cols + c] - Qhat[r * cols + c];
    for (let i = 0; i < cols; i++) {
      if (D[i] === 0) continue;
      let s = 0;
      for (let j = 0; j < cols; j++) s += H[i * cols + j] * D[j];
      sum += D[i] * s;
    }
  }
  return sum / 2;
}
