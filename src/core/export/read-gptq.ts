/**
 * Reading a GPTQ checkpoint's quantized linears back (the export's round trip, and evaluation of
 * GPTQ checkpoints): the expected tensor shapes, and a linear's dequantized weight [N, K].
 */
import type { TensorInfo } from '../model/safetensors';
import { CheckpointError } from '../model/checkpoint-error';
import { groupCount } from '../types';
import { packedLength } from './pack';
import { unpackLinear } from './gptq-linear';
import type { GptqConfigInfo } from './quant-config';

/** qweight, qzeros, scales and g_idx of `module` (e.g. "model.layers.0.mlp.up_proj"), [N out, K in]. */
export function gptqTensorShapes(module: string, N: number, K: number, q: GptqConfigInfo): { name: string; shape: number[] }[] {
  const G = groupCount(K, q.groupSize);
  const shapes = (): { name: string; shape: number[] }[] => [
    { name: `${module}.qweight`, shape: [packedLength(K, q.bits), N] },
    { name: `${module}.qzeros`, shape: [G, packedLength(N, q.bits)] },
    { name: `${module}.scales`, shape: [G, N] },
    { name: `${module}.g_idx`, shape: [K] },
  ];
  try {
    return shapes();
  } catch (e) {
    throw new CheckpointError(`${module}: a ${q.bits}-bit GPTQ layer of [${N}, ${K}] cannot be packed (${(e as Error).message})`, { tensor: module });
  }
}

type RawTensor = (name: string) => Promise<{ info: TensorInfo; bytes: Uint8Array }>;

function copyAs<T extends Uint32Array | Int32Array | Uint16Array>(make: new (b: ArrayBuffer) => T, bytes: Uint8Array): T {
  return new make(bytes.slice().buffer);
}

/** The dequantized weight [N, K] of one quantized linear. */
export async function readGptqLinear(raw: RawTensor, module: string, N: number, K: number, q: GptqConfigInfo): Promise<Float32Array> {
  const want = async (suffix: string, dtype: string) => {
    const t = await raw(`${module}.${suffix}`);
    if (t.info.dtype !== dtype) {
      throw new CheckpointError(`tensor "${module}.${suffix}" is ${t.info.dtype}; GPTQ checkpoints store it as ${dtype}`, { tensor: `${module}.${suffix}` });
    }
    return t.bytes;
  };
  const packed = {
    qweight: copyAs(Uint32Array, await want('qweight', 'I32')),
    qzeros: copyAs(Uint32Array, await want('qzeros', 'I32')),
    scales: copyAs(Uint16Array, await want('scales', 'F16')),
    gIdx: copyAs(Int32Array, await want('g_idx', 'I32')),
    G: groupCount(K, q.groupSize),
  };
  try {
    return unpackLinear(packed, N, K, q.bits, q.format).W;
  } catch (e) {
    throw new CheckpointError(`${module}: ${(e as Error).message}`, { tensor: module });
  }
}
