/**
 * A KV cache on the GPU: for every block, the keys (after RoPE and the k norm) and the values of
 * the tokens seen so far, [capacity, kvHeads·headDim] each, row = position. Sliding-window layers
 * keep every position too; their attention reads only the window.
 */
import type { GpuRuntime } from '../../gpu/runtime';
import type { LayerCache } from '../../gpu/kernels/attention-tiled';
import { ropeInverseFrequencies } from '../../core/model/rope';
import type { ModelSpec } from './model-forward';

export class KvCache {
  readonly layers: LayerCache[] = [];
  /** Positions filled so far. */
  length = 0;

  /** Allocates the caches of every block for `capacity` positions (≥ 1). */
  constructor(
    private readonly rt: GpuRuntime,
    spec: ModelSpec,
    readonly capacity: number,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`a KV cache of ${capacity} positions`);
    const width = spec.kvHeads * spec.headDim;
    for (let b = 0; b < spec.layers; b++) {
      this.layers.push({ K: rt.matrix(capacity, width, `kvCache.block${b}.K`), V: rt.matrix(capacity, width, `kvCache.block${b}.V`) });
    }
  }

  release(): void {
    for (const l of this.layers) this.rt.release(l.K, l.V);
    this.layers.length = 0;
  }
}

/**
 * True when every layer's RoPE frequencies are the same for sequences of `from` and of `to`
 * tokens, so that keys cached at one length are those a full forward at any length in between
 * computes. Dynamic NTK changes only past the context and longrope once past its original
 * context (src/core/model/rope.ts), so the two ends decide.
 */
export function ropeFixedBetween(spec: ModelSpec, from: number, to: number): boolean {
  for (let b = 0; b < spec.layers; b++) {
    const rope = spec.layout.layerAttention(b).rope;
    if (!rope?.scaling) continue;
    const a = ropeInverseFrequencies(rope, from, spec.maxPositions);
    const z = ropeInverseFrequencies(rope, to, spec.maxPositions);
    if (a.attentionScale !== z.attentionScale || a.invFreq.some((f, i) => f !== z.invFreq[i])) return false;
  }
  return true;
}
