/**
 * Round to nearest (RTN) on the GPU, the engine's one RTN: each group's grid found on W (min/max,
 * or the MSE search; IST-DASLab/gptq's Quantizer.find_params) and every weight rounded onto it
 * (Quantizer.quantize), with no Hessian. W [rows = out features, cols = in features], G groups of
 * consecutive columns (g_idx trivial: RTN has no act-order).
 *
 * GptqLayer.rtn (the run's per-layer comparison, GPTQ's fallback, AWQ's rounding) calls rtnOnGpu;
 * packedRtn makes a linear's RTN result again from its original weights, as the run keeps it,
 * for the RTN model's evaluation and generation (src/engine/rtn-weights.ts). Both record the same
 * kernels with the same grid on the same device: the same codes, scales and zeros bit for bit.
 */
import type { GpuRuntime } from '../gpu/runtime';
import type { GpuMatrix } from '../gpu/matrix';
import { codesLayout, encodeGroupParams, encodeRtn } from '../gpu/kernels/quantize';
import { groupIndex, effectiveGroupSize } from '../core/groups';
import { roundHalf } from '../core/export/f16';
import { PackedQuant } from '../core/packed-quant';
import { groupCount, type QuantOptions, type QuantResult } from '../core/types';

/** What RTN reads of the options: the grid. (actOrder, staticGroups, percDamp, blockSize are GPTQ's.) */
export type RtnGrid = Pick<QuantOptions, 'bits' | 'groupSize' | 'sym' | 'mse'>;

/** An RTN result without its dequantized weights. */
export type RtnCodes = Omit<QuantResult, 'Q'>;

/** What readQuantized reads back: codes, scales, zeros (g_idx is the caller's). */
export type ReadQuantized = Omit<QuantResult, 'Q' | 'gIdx'>;

/**
 * Reads a quantized linear back: codes [rows, cols] (u8 per code on the GPU, rows padded as
 * codesLayout says) and scales and zeros [G, rows] (f32 on the GPU, zeros integers) of a linear
 * shaped as W. Shared by RTN and GptqLayer's GPTQ.
 */
export async function readQuantized(
  rt: GpuRuntime,
  W: GpuMatrix,
  codes: GPUBuffer,
  scales: GPUBuffer,
  zeros: GPUBuffer,
  G: number,
): Promise<ReadQuantized> {
  const { rows, cols } = W;
  const ldCodes = codesLayout(W).ld * 4; // bytes per row: one byte per code
  const packed = new Uint8Array(await rt.readback(codes, 0, rows * ldCodes));
  const codesHost = new Uint8Array(rows * cols);
  for (let r = 0; r < rows; r++) codesHost.set(packed.subarray(r * ldCodes, r * ldCodes + cols), r * cols);
  const scalesHost = await rt.readF32(scales, 0, G * rows);
  const zerosF = await rt.readF32(zeros, 0, G * rows);
  return { rows, cols, codes: codesHost, scales: scalesHost, zeros: Uint8Array.from(zerosF), groups: G };
}

/**
 * RTN of W [rows, cols] (on the GPU, f32) with `grid` (validated by the caller, validateQuantOptions;
 * IST-DASLab/gptq quant.py Quantizer.find_params then quantize, per group of consecutive columns):
 * codes [rows, cols], scales [G, rows] (f32), integer zeros [G, rows], g_idx [cols], and with
 * `withQ` the dequantized weights Q [rows, cols] as the kernel computes them, scale · (code − zero)
 * in f32. Labels its buffers `${label}.rtn.*` and releases them; rejects as the runtime does on a
 * lost device (the caller's rt.scoped names the step).
 */
export async function rtnOnGpu(rt: GpuRuntime, W: GpuMatrix, grid: RtnGrid, label: string, withQ: true): Promise<QuantResult>;
export async function rtnOnGpu(rt: GpuRuntime, W: GpuMatrix, grid: RtnGrid, label: string, withQ: false): Promise<RtnCodes>;
export async function rtnOnGpu(rt: GpuRuntime, W: GpuMatrix, grid: RtnGrid, label: string, withQ: boolean): Promise<QuantResult | RtnCodes> {
  const { rows, cols } = W;
  const gs = effectiveGroupSize(cols, grid.groupSize);
  const G = groupCount(cols, grid.groupSize);
  const scales = rt.storage(G * rows * 4, `${label}.rtn.scales`);
  const zeros = rt.storage(G * rows * 4, `${label}.rtn.zeros`);
  const Q = rt.matrix(rows, cols, `${label}.rtn.Q`);
  const codes = rt.storage(codesLayout(W).bytes, `${label}.rtn.codes`);
  try {
    const rec = rt.recorder(`${label}.rtn`);
    encodeGroupParams(rec, W, grid, gs, 0, G, scales, zeros, rt.bindingLimit);
    encodeRtn(rec, W, Q, codes, grid.bits, gs, scales, zeros, rt.bindingLimit);
    rec.finish();
    const Qhost = withQ ? await rt.readMatrix(Q) : null;
    const out = await readQuantized(rt, W, codes, scales, zeros, G);
    const gIdx = groupIndex(cols, grid.groupSize, null, false);
    return Qhost ? { ...out, Q: Qhost, gIdx } : { ...out, gIdx };
  } finally {
    if (!rt.isLost) rt.release(scales, zeros, Q, codes);
  }
}

/**
 * A linear's RTN result as a run keeps it (quantizeModel: `PackedQuant.of(asStored(layer.rtn(own)),
 * bits)`), made again from its original weights W [rows, cols] (host, f32, as the run's block
 * source gives them): packed at grid.bits, scales rounded to F16 when `half` (an F16 export,
 * halfScaled's rounding, src/core/export/f16.ts). Uploads W, runs rtnOnGpu without reading Q back,
 * releases its buffers. Throws a RangeError when W does not hold rows × cols values.
 */
export async function packedRtn(rt: GpuRuntime, W: Float32Array, rows: number, cols: number, grid: RtnGrid, half: boolean, label: string): Promise<PackedQuant> {
  const Wg = rt.matrix(rows, cols, `${label}.W`);
  let r: RtnCodes;
  try {
    rt.uploadMatrix(Wg, W);
    r = await rt.scoped(`Linear "${label}" RTN`, () => rtnOnGpu(rt, Wg, grid, label, false));
  } finally {
    if (!rt.isLost) rt.release(Wg);
  }
  const scales = half ? r.scales.map(roundHalf) : r.scales;
  return new PackedQuant(rows, cols, grid.bits, r.codes, Float32Array.from(scales), r.zeros, r.gIdx, r.groups);
}
