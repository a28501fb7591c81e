/**
 * A checkpoint as the GPU forward pass consumes it: the spec, and every weight read from the
 * checkpoint's files by byte range when it is needed (blocks whole, the weights outside the blocks
 * in pieces of rows), so that the host keeps none of them between uses.
 */
import type { Checkpoint } from '../../core/model/checkpoint';
import { blockNorms, type NormSpec } from '../../core/model/architecture';
import { DTYPE_BYTES } from '../../core/model/safetensors';
import { bfloat16BytesToFloat32, float32BytesToFloat32, halfBytesToFloat32 } from '../../core/model/float-convert';
import type { BlockSource, GlobalMatrix, GlobalWeights, HostBlock, HostLinear, HostNorm, ModelSpec } from './model-forward';

export interface LoadedModel {
  spec: ModelSpec;
  /** The weights outside the blocks (embeddings, head, final norm), read when needed. */
  globals: GlobalWeights;
  /** Block b's original weights, read from the checkpoint by byte range. */
  block: BlockSource;
  /** Names of the linears of a block, in forward order. */
  linears: string[];
  /** True-sequential groups of linear names. */
  sequentialGroups: string[][];
  /** The MLP width padded with zeros for the export (pad-mlp.ts): which linears, from and to what width. */
  padding?: { expand: string[]; contract: string; from: number; to: number };
}

export function modelSpec(ckpt: Checkpoint): ModelSpec {
  const c = ckpt.config;
  return {
    layout: ckpt.layout,
    hidden: c.hiddenSize,
    intermediate: c.intermediateSize,
    layers: c.numLayers,
    heads: c.numHeads,
    kvHeads: c.numKvHeads,
    headDim: c.headDim,
    vocab: c.vocabSize,
    maxPositions: c.maxPositions,
    embedDim: ckpt.layout.embedDim,
  };
}

/** Rows [r0, r0 + n) of a 2-D float tensor [rows, cols] as f32, read by byte range. */
export async function readTensorRows(ckpt: Checkpoint, name: string, r0: number, n: number): Promise<Float32Array> {
  const info = ckpt.tensors.get(name);
  if (!info) throw new RangeError(`tensor "${name}" is not in this checkpoint`);
  if (info.dtype === 'I32') throw new RangeError(`tensor "${name}" is int32, not a float tensor`);
  const cols = info.shape.slice(1).reduce((a, b) => a * b, 1);
  const rows = info.shape[0] ?? 1;
  if (!(r0 >= 0 && n >= 0 && r0 + n <= rows)) throw new RangeError(`tensor "${name}": rows ${r0}..${r0 + n} are outside its ${rows}`);
  const size = DTYPE_BYTES[info.dtype];
  const bytes = await ckpt.readTensorRange(name, r0 * cols * size, n * cols * size);
  return info.dtype === 'F32' ? float32BytesToFloat32(bytes) : info.dtype === 'F16' ? halfBytesToFloat32(bytes) : bfloat16BytesToFloat32(bytes);
}

export async function loadModel(ckpt: Checkpoint): Promise<LoadedModel> {
  const layout = ckpt.layout;
  const readNorm = async (n: NormSpec, prefix: string): Promise<HostNorm> => ({
    weight: await ckpt.readTensor(`${prefix}${n.name}.weight`),
    bias: n.bias ? await ckpt.readTensor(`${prefix}${n.name}.bias`) : undefined,
  });
  const names: Record<GlobalMatrix, string | null> = {
    embed: layout.embedTokens,
    lmHead: layout.tiedLmHead ? layout.embedTokens : layout.lmHead,
    positions: layout.embedPositions,
    projectIn: layout.projectIn,
    projectOut: layout.projectOut,
  };
  const globals: GlobalWeights = {
    has: (m) => names[m] !== null,
    tied: layout.tiedLmHead,
    format(m) {
      const dtype = ckpt.tensors.get(names[m] ?? '')?.dtype;
      return dtype === 'F16' ? 'f16' : dtype === 'BF16' ? 'bf16' : 'f32';
    },
    readRows(m, r0, n) {
      const name = names[m];
      if (name === null) throw new RangeError(`a ${ckpt.config.arch} model has no ${m}`);
      return readTensorRows(ckpt, name, r0, n);
    },
    readFinalNorm: async () => (layout.finalNorm ? readNorm(layout.finalNorm, '') : null),
  };
  const block = async (b: number): Promise<HostBlock> => {
    const prefix = layout.blockPrefix(b);
    const linears = new Map<string, HostLinear>();
    for (const l of layout.block.linears) {
      linears.set(l.name, {
        W: await ckpt.readLinearWeight(b, l.name),
        out: l.out,
        in: l.in,
        bias: l.bias ? await ckpt.readTensor(`${prefix}${l.name}.bias`) : undefined,
      });
    }
    const norms = new Map<string, HostNorm>();
    for (const n of blockNorms(layout.block)) norms.set(n.name, await readNorm(n, prefix));
    return { linears, norms };
  };
  return {
    spec: modelSpec(ckpt),
    globals,
    block,
    linears: layout.block.linears.map((l) => l.name),
    sequentialGroups: layout.block.sequentialGroups,
  };
}

/** Block source that swaps some linears' weights (e.g. for quantized ones) over another source. */
export function withWeights(base: BlockSource, weights: (b: number, linear: string) => Float32Array | undefined): BlockSource {
  return async (b) => {
    const host = await base(b);
    const linears = new Map<string, HostLinear>();
    for (const [name, l] of host.linears) linears.set(name, { ...l, W: weights(b, name) ?? l.W });
    return { ...host, linears };
  };
}
