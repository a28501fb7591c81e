/** Random quantization results for tests of what keeps, packs and dequantizes them. */
import { seededRandom } from './random';
import type { GptqResult } from '../core/types';

/** A quantization result with random codes on a grid: `groups` groups of g_idx (act-order shuffled when `actOrder`). */
export function randomResult(rows: number, cols: number, bits: number, groupSize: number, actOrder: boolean, seed: number): GptqResult {
  const rand = seededRandom(seed);
  const groups = Math.ceil(cols / groupSize);
  const maxq = 2 ** bits - 1;
  const codes = Uint8Array.from({ length: rows * cols }, () => Math.floor(rand() * (maxq + 1)));
  const scales = Float32Array.from({ length: groups * rows }, () => 0.001 + rand() * 0.05);
  const zeros = Uint8Array.from({ length: groups * rows }, () => Math.floor(rand() * (maxq + 1)));
  // g_idx: ⌊k / groupSize⌋, or (act-order) the same counts of each group in a shuffled order.
  const gIdx = Int32Array.from({ length: cols }, (_, k) => Math.floor(k / groupSize));
  if (actOrder) {
    for (let k = cols - 1; k > 0; k--) {
      const j = Math.floor(rand() * (k + 1));
      [gIdx[k], gIdx[j]] = [gIdx[j], gIdx[k]];
    }
  }
  const Q = new Float32Array(rows * cols);
  for (let n = 0; n < rows; n++) {
    for (let k = 0; k < cols; k++) {
      const g = gIdx[k] * rows + n;
      Q[n * cols + k] = scales[g] * (codes[n * cols + k] - zeros[g]);
    }
  }
  return { rows, cols, Q, codes, scales, zeros, gIdx, groups, perm: null, loss: 1.5, percDampUsed: 0.01, damp: 0.02, fellBackToRtn: false, deadColumns: [3] };
}

