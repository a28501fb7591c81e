/** A checkpoint as the GPU forward pass consumes it: the spec, the global weights, blocks on demand. */
import type { Checkpoint } from '../../core/model/checkpoint';
import { blockNorms, type NormSpec } from '../../core/model/architecture';
import type { BlockSource, HostBlock, HostGlobals, HostLinear, HostNorm, ModelSpec } from './model-forward';

export interface LoadedModel {
  spec: ModelSpec;
  globals: HostGlobals;
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

export async function loadModel(ckpt: Checkpoint): Promise<LoadedModel> {
  const layout = ckpt.layout;
  const readNorm = async (n: NormSpec, prefix: string): Promise<HostNorm> => ({
    weight: await ckpt.readTensor(`${prefix}${n.name}.weight`),
    bias: n.bias ? await ckpt.readTensor(`${prefix}${n.name}.bias`) : undefined,
  });
  const optional = (name: string | null) => (name ? ckpt.readTensor(name) : Promise.resolve(undefined));
  const embed = await ckpt.readTensor(layout.embedTokens);
  const globals: HostGlobals = {
    embed,
    positions: await optional(layout.embedPositions),
    projectIn: await optional(layout.projectIn),
    projectOut: await optional(layout.projectOut),
    finalNorm: layout.finalNorm ? await readNorm(layout.finalNorm, '') : null,
    lmHead: layout.tiedLmHead ? embed : await ckpt.readTensor(layout.lmHead),
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
