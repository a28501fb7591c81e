/**
 * Peak host (CPU) memory of a whole-model run, estimated before it starts, and the check that
 * refuses a run that will not fit a budget. What a run holds on the host (src/engine/quantize-model.ts,
 * evaluate.ts, the exporters):
 * - for its whole length, each quantized linear's GPTQ codes, scales, zeros and g_idx packed, and
 *   diag(H) (src/core/packed-quant.ts): about bits/32 of the f32 weights. RTN's are not kept: a
 *   block's are made again from its original weights when the evaluation needs them
 *   (src/engine/rtn-weights.ts);
 * - at any moment, one phase's working set, never two together: a block read from the file and
 *   converted to f32 with one linear's results (quantization), a block, its F16 values and its RTN
 *   results made again (evaluation), one block and a piece of a tensor (export: tensors are written
 *   a piece at a time), the weights outside the blocks in pieces of 16 MiB;
 * - the process itself (runtime, Dawn or the page, the code): HOST_BASELINE_BYTES, measured.
 * Units: bytes. Shapes come from the model as it will be quantized (the export's padded MLP width).
 */
import type { Checkpoint } from '../core/model/checkpoint';
import { requiredTensors } from '../core/model/architecture';
import { DTYPE_BYTES } from '../core/model/safetensors';
import { groupCount } from '../core/types';
import { wordsPerRow } from '../core/packed-quant';
import { paddedLd } from '../gpu/matrix';
import type { RunSettings } from '../core/run';
import type { ModelSpec } from './model/model-forward';
import { blockLinears } from './memory-estimate';

/**
 * The process before any model data (node, tsx, Dawn and the code; a browser tab's worker is of the
 * same order). Derived on the development machine from `npm run bench:model -- --twin smollm2
 * --blocks 4`: 593 MiB of peak RSS, less 221 MiB of GPU buffers (llvmpipe keeps them in the process)
 * and about 160 MiB of the run's own host data, leaves about 210 MiB; rounded up. With a software
 * adapter in the same process (Dawn on llvmpipe), the GPU estimate adds to this memory too.
 */
export const HOST_BASELINE_BYTES = 256 * 2 ** 20;

/** Bytes of each piece the weights outside the blocks are read, converted and uploaded in. */
const GLOBAL_PIECE_BYTES = 16 * 2 ** 20;

export interface HostMemoryEstimate {
  /** Estimated peak: baseline + codes + the largest phase. */
  totalBytes: number;
  /** Kept for the whole run: the packed codes, grids and diag(H). */
  keptBytes: number;
  /** The phase that sets the peak. */
  peakPhase: string;
  /** Every part, for messages and the plan. */
  parts: Record<string, number>;
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/**
 * Host memory of a run of `spec` (as quantized) from `ckpt` with `settings`, the linears in `skip`
 * left unquantized. Throws nothing.
 */
export function estimateHostMemory(ckpt: Checkpoint, spec: ModelSpec, settings: RunSettings, skip: ReadonlySet<string> = new Set()): HostMemoryEstimate {
  const required = requiredTensors(ckpt.layout, ckpt.config);
  // Bytes per stored value (F32 assumed where a tensor is not listed, e.g. a plan from a config alone).
  const stored = Math.max(2, ...required.map((r) => DTYPE_BYTES[ckpt.tensors?.get(r.name)?.dtype ?? 'F32']));
  const names = spec.layout.block.linears.map((l) => l.name);
  const linears = blockLinears(spec).map(([out, inF], i) => ({ name: names[i], out, inF }));
  const quantized = linears.filter((l) => !skip.has(l.name));

  // One linear packed: codes rows × words, scales (f32) and zeros (u8) [G, rows], g_idx [cols] i32.
  const packed = (out: number, inF: number) => {
    const G = groupCount(inF, settings.groupSize);
    return out * wordsPerRow(inF, settings.bits) * 4 + G * out * 5 + inF * 4;
  };
  // GPTQ's packed results and diag(H) of every quantized linear.
  const keptBytes = spec.layers * sum(quantized.map((l) => packed(l.out, l.inF) + l.inF * 4));
  // RTN made again for one block (rtn-weights.ts): the block's packed results together, and one
  // linear's read-backs at a time: its codes one byte each (rows padded to paddedLd, then not),
  // scales and zeros as f32 with the scales' F16 and kept copies and the zeros as bytes.
  const largest = quantized.reduce((a, l) => (l.out * l.inF > a.out * a.inF ? l : a), { out: 0, inF: 0 });
  const largestG = groupCount(largest.inF, settings.groupSize) * largest.out;
  const rtnBytes = sum(quantized.map((l) => packed(l.out, l.inF))) + largest.out * (paddedLd(largest.inF) + largest.inF) + largestG * (4 * 4 + 1);

  const blockElements = sum(linears.map((l) => l.out * l.inF)) + 8 * spec.hidden;
  const largestLinear = Math.max(0, ...quantized.map((l) => l.out * l.inF));
  const embedElements = spec.vocab * spec.embedDim;
  const phases: Record<string, number> = {
    // The block as stored and as f32 (a transposed Conv1D once more), and one linear's results:
    // GPTQ's Q as computed and with F16 scales, RTN's likewise (f32), both codes (u8).
    'quantization: one block and one linear\'s results': blockElements * (stored + 4) + largestLinear * 4 + largestLinear * (4 * 4 + 2),
    // The original block (stored, f32), the F16 values the quantized models share, and RTN's
    // results made again for the block.
    'evaluation: one block, its F16 values and RTN results': blockElements * (stored + 4 + 4) + rtnBytes,
    // Tensors are written a piece at a time: one block's original weights (a GGUF's float linears and
    // biases), one linear's values and encoded bytes (4 + 4 per weight covers a GGUF with F32
    // floats), and a piece of 16 MiB of f32 read by range with its stored and written bytes.
    'export: one block and a piece': blockElements * (stored + 4) + largestLinear * 8 + GLOBAL_PIECE_BYTES * (1 + (stored + 4) / 4),
    'weights outside the blocks, in pieces': 3 * Math.min(GLOBAL_PIECE_BYTES, embedElements * 4),
  };
  const [peakPhase, peakBytes] = Object.entries(phases).sort((a, b) => b[1] - a[1])[0];
  const parts: Record<string, number> = { 'the process (runtime, code)': HOST_BASELINE_BYTES, 'codes, grids and diag(H) kept to the end': keptBytes, ...phases };
  return { totalBytes: HOST_BASELINE_BYTES + keptBytes + peakBytes, keptBytes, peakPhase, parts };
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;

/**
 * Throws when the estimate is above `budgetBytes`, with what it is made of and what to change.
 * `raise` names how this caller raises the budget (a CLI flag, a setting).
 */
export function assertHostFits(e: HostMemoryEstimate, settings: RunSettings, budgetBytes: number, raise: string): void {
  if (e.totalBytes <= budgetBytes) return;
  throw new Error(
    `This run needs about ${mib(e.totalBytes)} of host memory, more than the ${mib(budgetBytes)} allowed: ` +
      `${mib(e.parts['the process (runtime, code)'])} for the process, ${mib(e.keptBytes)} for the ${settings.bits}-bit codes and grids ` +
      `of every linear (kept to the end), and ${mib(e.parts[e.peakPhase])} at the peak (${e.peakPhase}). ` +
      `The weights themselves are read from the files block by block, so what it takes is a smaller model, ` +
      `fewer bits or larger groups (the codes), or more memory: ${raise}.`,
  );
}
