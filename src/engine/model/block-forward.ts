/**
 * One transformer block on the GPU, for every token of a set of sequences at once.
 *
 *   llama, mistral, qwen2:  h += o(attn(rope(q(n1(h))), rope(k(n1(h))), v(n1(h))))
 *                           h += down(silu(gate(n2(h))) · up(n2(h)))
 *   gpt2:                   h += c_proj(attn(split(c_attn(ln1(h)))))
 *                           h += mlp.c_proj(gelu_new(c_fc(ln2(h))))
 *
 * The block never writes its input: `out` receives h plus the residuals. A capture hook sees
 * each linear's input as soon as it is computed (the reference's forward hooks); the run can
 * stop right after the linears of one true-sequential group have been captured, leaving their
 * inputs intact in the runner's scratch for the caller to quantize against.
 */
import type { GpuRuntime } from '../../gpu/runtime';
import type { GpuMatrix } from '../../gpu/matrix';
import type { Recorder } from '../../gpu/recorder';
import {
  ELEMENTWISE,
  encodeAttention,
  encodeElementwise,
  encodeLinear,
  encodeNorm,
  encodeRope,
  ropeTable,
  type NormWeights,
} from '../../gpu/kernels/forward';

export type Family = 'llama' | 'gpt2';

/** The shapes a block forward needs. */
export interface BlockShape {
  family: Family;
  hidden: number;
  intermediate: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  ropeTheta: number;
  /** Tokens per sequence; sequences are consecutive in the activations. */
  seqlen: number;
  /** Total tokens (sequences × seqlen). */
  tokens: number;
}

export interface GpuLinear {
  /** [out, in] */
  W: GpuMatrix;
  /** [out] or null */
  bias: GPUBuffer | null;
}

export interface GpuBlock {
  /** By the checkpoint's name inside the block, e.g. "self_attn.q_proj" or "attn.c_attn". */
  linears: Map<string, GpuLinear>;
  norm1: NormWeights;
  norm2: NormWeights;
}

/** The linears of a block in forward order, by family. */
export const BLOCK_LINEARS: Record<Family, readonly string[]> = {
  llama: [
    'self_attn.q_proj',
    'self_attn.k_proj',
    'self_attn.v_proj',
    'self_attn.o_proj',
    'mlp.gate_proj',
    'mlp.up_proj',
    'mlp.down_proj',
  ],
  gpt2: ['attn.c_attn', 'attn.c_proj', 'mlp.c_fc', 'mlp.c_proj'],
};

export interface BlockRunOptions {
  /** Called with a linear's input [tokens, in] right after it is computed. */
  capture?: (linear: string, X: GpuMatrix) => void;
  /** Stop once every linear named here has been captured (out is then incomplete). */
  stopAfter?: ReadonlySet<string>;
}

export class BlockRunner {
  private readonly scratch: GpuMatrix[] = [];
  /** Normed hidden state, and the output of o_proj / c_proj / down before the residual add. */
  private readonly xn: GpuMatrix;
  private readonly q: GpuMatrix | null = null;
  private readonly k: GpuMatrix | null = null;
  private readonly v: GpuMatrix | null = null;
  /** GPT-2's fused q|k|v [tokens, 3·hidden]. */
  private readonly qkv: GpuMatrix | null = null;
  private readonly attn: GpuMatrix;
  private readonly gate: GpuMatrix;
  private readonly up: GpuMatrix | null = null;
  private readonly rope: GPUBuffer | null = null;

  constructor(
    private readonly rt: GpuRuntime,
    readonly shape: BlockShape,
  ) {
    const { tokens: T, hidden, intermediate, heads, kvHeads, headDim } = shape;
    const m = (cols: number, label: string) => {
      const x = rt.matrix(T, cols, `block.${label}`);
      this.scratch.push(x);
      return x;
    };
    this.xn = m(hidden, 'xn');
    this.attn = m(heads * headDim, 'attn');
    this.gate = m(intermediate, 'mlp');
    if (shape.family === 'gpt2') {
      this.qkv = m(3 * hidden, 'qkv');
    } else {
      this.q = m(heads * headDim, 'q');
      this.k = m(kvHeads * headDim, 'k');
      this.v = m(kvHeads * headDim, 'v');
      this.up = m(intermediate, 'up');
      const table = ropeTable(shape.seqlen, headDim, shape.ropeTheta);
      this.rope = rt.storage(table.byteLength, 'block.ropeTable');
      rt.upload(this.rope, 0, table);
    }
  }

  /** The normed hidden state of the last run (the final norm's output after `finalNorm`). */
  get normed(): GpuMatrix {
    return this.xn;
  }

  /**
   * Records the block on input h [tokens, hidden] into out (a different matrix). Returns false
   * when it stopped early after the `stopAfter` captures.
   */
  encode(rec: Recorder, h: GpuMatrix, out: GpuMatrix, block: GpuBlock, opts: BlockRunOptions = {}): boolean {
    const rt = this.rt;
    const limit = rt.bindingLimit;
    const placeholder = rt.placeholder;
    const pending = new Set(opts.stopAfter ?? []);
    /** Captures the inputs of `names`; true when the run should stop here. */
    const capture = (X: GpuMatrix, ...names: string[]) => {
      for (const n of names) {
        opts.capture?.(n, X);
        pending.delete(n);
      }
      return opts.stopAfter !== undefined && pending.size === 0;
    };
    const linear = (X: GpuMatrix, name: string, Y: GpuMatrix) => {
      const l = block.linears.get(name);
      if (!l) throw new Error(`block weights have no ${name}`);
      encodeLinear(rec, X, l.W, Y, limit);
      if (l.bias) encodeElementwise(rec, { op: ELEMENTWISE.bias, y: Y, bias: l.bias, placeholder }, limit);
    };
    const residual = () => encodeElementwise(rec, { op: ELEMENTWISE.add, y: out, x: this.xn, placeholder }, limit);
    const s = this.shape;

    encodeElementwise(rec, { op: ELEMENTWISE.copy, y: out, x: h, placeholder }, limit);
    encodeNorm(rec, out, this.xn, block.norm1, limit);
    if (s.family === 'llama') {
      const [q, k, v, up] = [this.q!, this.k!, this.v!, this.up!];
      if (capture(this.xn, 'self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj')) return false;
      linear(this.xn, 'self_attn.q_proj', q);
      linear(this.xn, 'self_attn.k_proj', k);
      linear(this.xn, 'self_attn.v_proj', v);
      encodeRope(rec, q, 0, s.heads, s.headDim, s.seqlen, this.rope!, limit);
      encodeRope(rec, k, 0, s.kvHeads, s.headDim, s.seqlen, this.rope!, limit);
      this.attention(rec, q, 0, k, 0, v, 0);
      if (capture(this.attn, 'self_attn.o_proj')) return false;
      linear(this.attn, 'self_attn.o_proj', this.xn);
      residual();
      encodeNorm(rec, out, this.xn, block.norm2, limit);
      if (capture(this.xn, 'mlp.gate_proj', 'mlp.up_proj')) return false;
      linear(this.xn, 'mlp.gate_proj', this.gate);
      linear(this.xn, 'mlp.up_proj', up);
      encodeElementwise(rec, { op: ELEMENTWISE.siluGate, y: this.gate, x: up, placeholder }, limit);
      if (capture(this.gate, 'mlp.down_proj')) return false;
      linear(this.gate, 'mlp.down_proj', this.xn);
      residual();
    } else {
      const qkv = this.qkv!;
      if (capture(this.xn, 'attn.c_attn')) return false;
      linear(this.xn, 'attn.c_attn', qkv);
      this.attention(rec, qkv, 0, qkv, s.hidden, qkv, 2 * s.hidden);
      if (capture(this.attn, 'attn.c_proj')) return false;
      linear(this.attn, 'attn.c_proj', this.xn);
      residual();
      encodeNorm(rec, out, this.xn, block.norm2, limit);
      if (capture(this.xn, 'mlp.c_fc')) return false;
      linear(this.xn, 'mlp.c_fc', this.gate);
      encodeElementwise(rec, { op: ELEMENTWISE.geluNew, y: this.gate, placeholder }, limit);
      if (capture(this.gate, 'mlp.c_proj')) return false;
      linear(this.gate, 'mlp.c_proj', this.xn);
      residual();
    }
    return true;
  }

  /** xn = the final norm of h (before the LM head). */
  encodeFinalNorm(rec: Recorder, h: GpuMatrix, norm: NormWeights): void {
    encodeNorm(rec, h, this.xn, norm, this.rt.bindingLimit);
  }

  release(): void {
    this.rt.release(...this.scratch, this.rope);
  }

  private attention(rec: Recorder, Q: GpuMatrix, qOff: number, K: GpuMatrix, kOff: number, V: GpuMatrix, vOff: number): void {
    const s = this.shape;
    encodeAttention(
      rec,
      { Q, qOff, K, kOff, V, vOff, heads: s.heads, kvHeads: s.kvHeads, headDim: s.headDim, seqlen: s.seqlen },
      this.attn,
      this.rt.bindingLimit,
    );
  }
}
