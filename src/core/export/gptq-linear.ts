/**
 * One quantized linear as GPTQ checkpoint tensors, and back. K = in features, N = out features,
 * G = groups. The codes, zero points, scales and g_idx are those of the quantization itself,
 * never re-derived by rounding the dequantized weights.
 */
import type { QuantResult } from '../types';
import { floatToHalf, halfToFloat } from '../model/float-convert';
import { F16_MAX, fitsHalf } from './f16';
import { packQweight, packQzeros, unpackQweight, unpackQzeros, type PackableBits } from './pack';

/** Zero-point convention: v1 (`gptq`) stores zero − 1; `gptq_v2` stores the zero itself. */
export type CheckpointFormat = 'gptq' | 'gptq_v2';

/** v1 for symmetric grids, where loaders everywhere read it; v2 where a zero may be 0 (§2.3). */
export function checkpointFormatFor(sym: boolean): CheckpointFormat {
  return sym ? 'gptq' : 'gptq_v2';
}

export interface PackedLinear {
  /** [K·bits/32, N] */
  qweight: Uint32Array;
  /** [G, N·bits/32] */
  qzeros: Uint32Array;
  /** F16 bit patterns [G, N] */
  scales: Uint16Array;
  /** [K] */
  gIdx: Int32Array;
  G: number;
}

/** Zero points as the format stores them; a v1 zero of 0 cannot be stored and is refused. */
export function storedZeros(zeros: ArrayLike<number>, format: CheckpointFormat): Uint8Array {
  const out = new Uint8Array(zeros.length);
  for (let i = 0; i < zeros.length; i++) {
    const z = format === 'gptq' ? zeros[i] - 1 : zeros[i];
    if (z < 0) {
      throw new RangeError('a zero point of 0 cannot be stored in the gptq (v1) format; export asymmetric grids as gptq_v2');
    }
    out[i] = z;
  }
  return out;
}

/** True zero points from stored ones (v1 adds the 1 back, as loaders do: a stored 2^bits − 1 reads as 2^bits). */
export function trueZeros(stored: Uint8Array, format: CheckpointFormat): Uint16Array {
  const out = new Uint16Array(stored.length);
  for (let i = 0; i < stored.length; i++) out[i] = stored[i] + (format === 'gptq' ? 1 : 0);
  return out;
}

/** The checkpoint tensors of a quantization result [N = rows, K = cols]; throws on a scale beyond float16. */
export function packLinear(r: QuantResult, bits: PackableBits, format: CheckpointFormat): PackedLinear {
  const N = r.rows;
  const K = r.cols;
  const scales = new Uint16Array(r.groups * N);
  for (let i = 0; i < scales.length; i++) {
    if (!fitsHalf(r.scales[i])) throw new RangeError(`scale ${r.scales[i]} does not fit float16 (±${F16_MAX}); nothing was written`);
    scales[i] = floatToHalf(r.scales[i]);
  }
  return {
    qweight: packQweight(r.codes, N, K, bits),
    qzeros: packQzeros(storedZeros(r.zeros, format), r.groups, N, bits),
    scales,
    gIdx: Int32Array.from(r.gIdx),
    G: r.groups,
  };
}

export interface DequantizedLinear {
  /** [N, K] */
  codes: Uint8Array;
  /** True zero points [G, N]. */
  zeros: Uint16Array;
  /** [G, N] */
  scales: Float32Array;
  /** W[n, k] = scales[g_idx[k], n] · (codes[n, k] − zeros[g_idx[k], n]), in f32, [N, K]. */
  W: Float32Array;
}

/** Reads packed tensors back into codes, zeros, scales and the dequantized weights. */
export function unpackLinear(p: PackedLinear, N: number, K: number, bits: PackableBits, format: CheckpointFormat): DequantizedLinear {
  const codes = unpackQweight(p.qweight, N, K, bits);
  const zeros = trueZeros(unpackQzeros(p.qzeros, p.G, N, bits), format);
  const scales = Float32Array.from(p.scales, halfToFloat);
  const W = new Float32Array(N * K);
  for (let k = 0; k < K; k++) {
    const g = p.gIdx[k];
    if (!(g >= 0 && g < p.G)) throw new RangeError(`g_idx[${k}] = ${g} is outside the ${p.G} groups`);
  }
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      const g = p.gIdx[k];
      W[n * K + k] = scales[g * N + n] * (codes[n * K + k] - zeros[g * N + n]);
    }
  }
  return { codes, zeros, scales, W };
}

/** Whether g_idx is the trivial ⌊k / groupSize⌋ (then `desc_act` is false). */
export function isTrivialGroupIndex(gIdx: ArrayLike<number>, groupSize: number): boolean {
  for (let k = 0; k < gIdx.length; k++) {
    if (gIdx[k] !== (groupSize === -1 ? 0 : Math.floor(k / groupSize))) return false;
  }
  return true;
}
