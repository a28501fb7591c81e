/**
 * imatrix.gguf from the run's Hessians, in llama.cpp's format (tools/imatrix/imatrix.cpp save,
 * common/imatrix-loader.{h,cpp}): general.type "imatrix", imatrix.datasets / chunk_count /
 * chunk_size, and for every weight W, named as in the model GGUF:
 *   W.in_sum2  F32 ne [in_features, 1]   Σ over calibration tokens of x_j²
 *   W.counts   F32 ne [1, 1]             the number of tokens summed
 * The engine's H is IST-DASLab add_batch's (2/N)·Σ x xᵀ with N counted in windows (sequences),
 * so Σ x_j² = diag(H)_j · N / 2 and the count is N · seqlen. llama-quantize divides the two.
 */
import type { ExportFile } from '../safetensors-writer';
import { gguf, ggufFile, type GgufTensor } from './writer';

export interface ImatrixEntry {
  /** The weight's GGUF name, e.g. "blk.0.attn_q.weight". */
  name: string;
  /** diag(H) [in_features] before damping and the dead-column fix, original column order. */
  diagH: Float32Array;
}

export interface ImatrixInputs {
  entries: ImatrixEntry[];
  /** Calibration windows N that H averages over. */
  windows: number;
  /** Tokens per window. */
  seqlen: number;
  /** The calibration text's name (imatrix.datasets). */
  dataset: string;
}

/** imatrix.gguf; throws a RangeError on a non-finite or negative diagonal entry. */
export function imatrixFile({ entries, windows, seqlen, dataset }: ImatrixInputs, name = 'imatrix.gguf'): ExportFile {
  if (!(Number.isInteger(windows) && windows > 0 && Number.isInteger(seqlen) && seqlen > 0)) {
    throw new RangeError(`windows and seqlen must be positive integers, got ${windows} and ${seqlen}`);
  }
  const tensors: GgufTensor[] = entries.flatMap((e): GgufTensor[] => [
    {
      name: `${e.name}.in_sum2`,
      type: 'F32',
      ne: [e.diagH.length, 1],
      bytes: () => {
        const sums = new Float32Array(e.diagH.length);
        for (let j = 0; j < sums.length; j++) {
          const d = e.diagH[j];
          if (!(Number.isFinite(d) && d >= 0)) throw new RangeError(`${e.name}: diag(H)[${j}] = ${d} is not a finite sum of squares`);
          sums[j] = (d * windows) / 2;
        }
        return new Uint8Array(sums.buffer);
      },
    },
    { name: `${e.name}.counts`, type: 'F32', ne: [1, 1], bytes: () => new Uint8Array(Float32Array.of(windows * seqlen).buffer) },
  ]);
  return ggufFile(name, [
    { key: 'general.type', value: gguf.string('imatrix') },
    { key: 'imatrix.datasets', value: gguf.strings([dataset]) },
    { key: 'imatrix.chunk_count', value: gguf.u32(windows) },
    { key: 'imatrix.chunk_size', value: gguf.u32(seqlen) },
  ], tensors);
}
