/**
 * A block of a quantized model on the GPU, made from the run's codes: each quantized linear's
 * weights dequantized on the GPU from its packed codes and grid (src/gpu/kernels/dequant.ts), every
 * other value (norms, biases, linears left unquantized) from the block's original weights, rounded
 * to F16 when the model is evaluated as an F16 export holds it.
 */
import type { GpuRuntime } from '../../gpu/runtime';
import type { Recorder } from '../../gpu/recorder';
import { encodeDequant, type GpuPackedCodes } from '../../gpu/kernels/dequant';
import { roundedToHalf } from '../../core/export/f16';
import type { PackedQuant } from '../../core/packed-quant';
import { releaseBlock, uploadBlock, type HostBlock, type HostLinear, type ModelSpec } from './model-forward';
import type { GpuBlock } from './block-forward';

/** Uploads a linear's packed codes and grid. */
export function uploadCodes(rt: GpuRuntime, p: PackedQuant, label: string): GpuPackedCodes {
  const buffer = (data: Uint32Array | Float32Array, what: string) => {
    const b = rt.storage(data.byteLength, `${label}.${what}`);
    rt.upload(b, 0, data);
    return b;
  };
  return {
    words: buffer(p.words, 'codes'),
    wpr: p.words.length / p.rows,
    bits: p.bits,
    scales: buffer(p.scales, 'scales'),
    zeros: buffer(Float32Array.from(p.zeros), 'zeros'),
    gIdx: buffer(Uint32Array.from(p.gIdx), 'gIdx'),
  };
}

export function releaseCodes(rt: GpuRuntime, c: GpuPackedCodes): void {
  rt.release(c.words, c.scales, c.zeros, c.gIdx);
}

/**
 * The host values of a block a quantized model shares with the original: norms, biases and the
 * linears `quantized` does not list, rounded to F16 when `half` (arrays already F16-exact are
 * kept as they are). The quantized linears keep their shapes and biases but no weights.
 */
export function sharedValues(host: HostBlock, quantized: (name: string) => boolean, half: boolean): HostBlock {
  const round = (a: Float32Array) => (half ? roundedToHalf(a) : a);
  const linears = new Map<string, HostLinear>();
  for (const [name, l] of host.linears) {
    linears.set(name, { out: l.out, in: l.in, W: quantized(name) ? new Float32Array(0) : round(l.W), bias: l.bias && round(l.bias) });
  }
  const norms = new Map([...host.norms].map(([name, n]) => [name, { weight: round(n.weight), bias: n.bias && round(n.bias) }]));
  return { linears, norms };
}

/**
 * Uploads block b of a quantized model: `shared` from sharedValues, and for each linear that
 * `codes` gives, its weights dequantized on the GPU (recorded into `rec`, which must be submitted
 * before the block is used). The packed codes are returned for release after that submit.
 */
export function uploadQuantizedBlock(
  rt: GpuRuntime,
  rec: Recorder,
  spec: ModelSpec,
  shared: HostBlock,
  b: number,
  codes: (name: string) => PackedQuant | undefined,
): { block: GpuBlock; temps: GpuPackedCodes[] } {
  const dense = new Map<string, HostLinear>();
  const packed = new Map<string, PackedQuant>();
  for (const [name, l] of shared.linears) {
    const p = codes(name);
    if (p) packed.set(name, p);
    else dense.set(name, l);
  }
  const block = uploadBlock(rt, spec, { linears: dense, norms: shared.norms }, b);
  const temps: GpuPackedCodes[] = [];
  try {
    for (const [name, p] of packed) {
      const l = shared.linears.get(name)!;
      if (p.rows !== l.out || p.cols !== l.in) throw new RangeError(`block ${b} ${name}: codes are ${p.rows}×${p.cols}, the linear ${l.out}×${l.in}`);
      const label = `block${b}.${name}`;
      const W = rt.matrix(l.out, l.in, label);
      let bias: GPUBuffer | null = null;
      if (l.bias) {
        bias = rt.storage(l.bias.byteLength, `${label}.bias`);
        rt.upload(bias, 0, l.bias);
      }
      block.linears.set(name, { W, bias });
      const c = uploadCodes(rt, p, label);
      temps.push(c);
      encodeDequant(rec, c, W, rt.bindingLimit);
    }
  } catch (e) {
    if (!rt.isLost) {
      releaseBlock(rt, block);
      for (const c of temps) releaseCodes(rt, c);
    }
    throw e;
  }
  return { block, temps };
}
