/**
 * Values as a GPTQ checkpoint holds them. GPTQ checkpoints are float16 models: scales are F16, and
 * the loaders cast every other tensor to float16 too (vLLM to the model dtype, which the export sets
 * to float16; ../shared/docs/loaders.md §4), so the export writes every float tensor as F16 and the
 * run evaluates its RTN and GPTQ models with these F16 values. F16 rounding is round half to even,
 * as PyTorch's `.half()`; anything of magnitude 65520 or more becomes ±Inf.
 */
import type { QuantResult } from '../types';
import { float32ToHalfBytes, floatToHalf, halfBytesToFloat32, halfToFloat } from '../model/float-convert';

/** The largest finite F16 value. */
export const F16_MAX = 65504;

/** Whether x rounds to a finite F16 value (|x| < 65520, the midpoint between 65504 and 2^16). */
export function fitsHalf(x: number): boolean {
  return Math.abs(x) < 65520;
}

/** x rounded to the nearest F16 value (as an ordinary number). */
export function roundHalf(x: number): number {
  return halfToFloat(floatToHalf(x));
}

/**
 * The values rounded to F16, as f32. Returns `a` itself when every value already is an F16 value
 * (an F16 checkpoint, or values written back from one), so callers can keep sharing it.
 */
export function roundedToHalf(a: Float32Array): Float32Array {
  const out = halfBytesToFloat32(float32ToHalfBytes(a));
  for (let i = 0; i < a.length; i++) {
    if (out[i] !== a[i]) return out;
  }
  return a;
}

/**
 * F16 bytes of a tensor for the export; throws a RangeError naming the tensor when a value would
 * become ±Inf or is NaN (the export plan refuses such models before the run, so this is a last guard).
 * `firstIndex`: the flat index of values[0] in the tensor, when converting it in pieces.
 */
export function checkedHalfBytes(values: Float32Array, tensor: string, firstIndex = 0): Uint8Array {
  for (let i = 0; i < values.length; i++) {
    if (!fitsHalf(values[i])) {
      throw new RangeError(`tensor "${tensor}": value ${values[i]} at index ${firstIndex + i} does not fit float16 (±${F16_MAX}); ` +
        'nothing was written');
    }
  }
  return float32ToHalfBytes(values);
}

/**
 * A quantization result as the checkpoint holds it: scales rounded to F16 and the dequantized
 * weights recomputed from them, Q[n, k] = scale16[g_idx[k], n] · (code[n, k] − zero[g_idx[k], n])
 * in f32, which is exactly what a reader of the file computes (src/core/export/gptq-linear.ts
 * unpackLinear). Codes, zeros and g_idx are unchanged. Q [rows, cols], scales [groups, rows].
 */
export function halfScaled<T extends QuantResult>(r: T): T {
  const N = r.rows;
  const K = r.cols;
  const scales = new Float32Array(r.scales.length);
  for (let i = 0; i < scales.length; i++) scales[i] = roundHalf(r.scales[i]);
  const Q = new Float32Array(N * K);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      const g = r.gIdx[k] * N + n;
      Q[n * K + k] = scales[g] * (r.codes[n * K + k] - r.zeros[g]);
    }
  }
  return { ...r, scales, Q };
}
