/**
 * A run's RTN model without its codes: RTN does not depend on the calibration, so instead of each
 * linear's codes and grid the run keeps how it rounded it (the grid and each linear's width), and
 * makes a block's RTN results again from the block's original weights when the evaluation, the
 * generation or a sweep needs them (packedRtn: the same kernels, grid and device as the run's own
 * RTN, GptqLayer.rtn, so the same codes, scales and zeros bit for bit, and the F16 scales an F16
 * export holds). The host keeps a width per linear; a block's RTN results live while the block is
 * used.
 */
import type { GpuRuntime } from '../gpu/runtime';
import type { PackedQuant } from '../core/packed-quant';
import type { HostBlock, HostLinear } from './model/model-forward';
import { packedRtn, type RtnGrid } from './rtn';
import { weightKey } from './weight-key';


/** A quantized model's RTN results by block and linear, as the run keeps them (QuantizedWeights.rtn). */
export interface RtnModel {
  /** Whether the run rounded this linear (`${block}.${linear}`). */
  has(key: string): boolean;
  /**
   * The RTN results of the linears of block `b` the run rounded, made from `host`, the block's
   * original weights (as the run's block source reads them, padded MLP width included).
   */
  block(rt: GpuRuntime, b: number, host: HostBlock): Promise<Map<string, PackedQuant>>;
  /** One linear's RTN result, made from its original weights `l`; undefined when the run did not round it. */
  linear(rt: GpuRuntime, b: number, name: string, l: HostLinear): Promise<PackedQuant | undefined>;
}

/**
 * The RTN model of a run (quantizeModel): the grid every linear shares (groupSize, sym, mse) and
 * each rounded linear's width. RTN reads nothing else of the settings (no act-order, no static
 * groups: g_idx is trivial); `half`: scales rounded to F16 (QuantizeModelOptions.halfScales).
 */
export class RemadeRtn implements RtnModel {
  /** Width of each rounded linear by `${block}.${linear}`. */
  private readonly widths = new Map<string, number>();

  constructor(
    readonly grid: Omit<RtnGrid, 'bits'>,
    readonly half: boolean,
  ) {}

  /** Records that the run rounded linear `key` at `bits`. */
  add(key: string, bits: number): void {
    this.widths.set(key, bits);
  }

  has(key: string): boolean {
    return this.widths.has(key);
  }

  /** The grid linear `key` was rounded on; undefined when the run did not round it. */
  gridOf(key: string): RtnGrid | undefined {
    const bits = this.widths.get(key);
    return bits === undefined ? undefined : { ...this.grid, bits };
  }

  async linear(rt: GpuRuntime, b: number, name: string, l: HostLinear): Promise<PackedQuant | undefined> {
    const grid = this.gridOf(weightKey(b, name));
    return grid && packedRtn(rt, l.W, l.out, l.in, grid, this.half, `rtn.block${b}.${name}`);
  }

  async block(rt: GpuRuntime, b: number, host: HostBlock): Promise<Map<string, PackedQuant>> {
    const out = new Map<string, PackedQuant>();
    for (const [name, l] of host.linears) {
      const p = await this.linear(rt, b, name, l);
      if (p) out.set(name, p);
    }
    return out;
  }
}
