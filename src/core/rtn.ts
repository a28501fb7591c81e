/** Round-to-nearest on the GPTQ grid: findParams per group of consecutive columns (or per row). */
import { assertFiniteMatrix } from './finite';
import { effectiveGroupSize, groupIndex, packGroupParams } from './groups';
import { findParams, maxQ, quantCode, type Matrix, type QuantParams } from './quantizer';
import { defaultQuantOptions, groupCount, validateQuantOptions, type QuantOptions, type QuantResult } from './types';

/** W: [rows, cols] row-major. Only bits, groupSize, sym and mse matter. */
export function rtnReference(W: Matrix, rows: number, cols: number, options: Partial<QuantOptions> = {}): QuantResult {
  const o: QuantOptions = { ...defaultQuantOptions, ...options };
  validateQuantOptions(o);
  assertFiniteMatrix(W, rows, cols, 'W (weights)');
  const maxq = maxQ(o.bits);
  const gs = effectiveGroupSize(cols, o.groupSize);
  const G = groupCount(cols, o.groupSize);
  const params: QuantParams[] = [];
  for (let g = 0; g < G; g++) {
    params.push(findParams(W, rows, cols, g * gs, Math.min(cols, (g + 1) * gs), o.bits, o.sym, o.mse));
  }
  const Q = new Float64Array(rows * cols);
  const codes = new Uint8Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const { scale, zero } = params[Math.floor(c / gs)];
      const code = quantCode(W[r * cols + c], scale[r], zero[r], maxq);
      codes[r * cols + c] = code;
      Q[r * cols + c] = scale[r] * (code - zero[r]);
    }
  }
  const { scales, zeros } = packGroupParams(params, rows);
  return { rows, cols, Q, codes, scales, zeros, gIdx: groupIndex(cols, o.groupSize, null, false), groups: G };
}
