/**
 * One transformer block on the GPU, for every token of a set of sequences at once, as the family's
 * description (src/core/model/architecture.ts) lays it out:
 *
 *   attention   pre-norm:  h += o(attn(rope(qn(q(n1(h)))), rope(kn(k(n1(h)))), v(n1(h))))
 *               post-norm: h = n1(h + o(attn(...(h))))
 *               with q/k/v from one fused linear or three, q/k norms per head when the family has
 *               them, RoPE per layer (or none), a sliding window per layer, the family's score
 *               scale, and Gemma's norm on o's output before the residual add; attn is the
 *               device's full-forward kernel (gpu/kernels/attention-choice.ts: per-query unless
 *               timed clearly slower than the tiled one), or the tiled kernel over a KV cache
 *   MLP         pre-norm:  h += down(act(gate(n2(h))) · up(n2(h)))   (gated; Phi-3: gate|up from one gate_up_proj)
 *                          h += down(act(up(n2(h))))                  (plain: gpt2 c_fc/c_proj, opt fc1/fc2)
 *               post-norm: h = n2(h + mlp(h)); Gemma's norm on down's output before the add
 *
 * The block never writes its input: `out` receives h plus the residuals. A capture hook sees
 * each linear's input as soon as it is computed (the reference's forward hooks); the run can
 * stop right after the linears of one true-sequential group have been captured, leaving their
 * inputs intact in the runner's scratch for the caller to quantize against.
 */
import type { GpuRuntime } from '../../gpu/runtime';
import type { GpuMatrix } from '../../gpu/matrix';
import type { Recorder } from '../../gpu/recorder';
import { encodeCachedAttention, type LayerCache } from '../../gpu/kernels/attention-tiled';
import { encodeForwardAttention } from '../../gpu/kernels/attention-choice';
import {
  ELEMENTWISE,
  encodeElementwise,
  encodeLinear,
  encodeNorm,
  encodeRope,
  ropeTableOf,
  type ElementwiseOp,
  type NormWeights,
} from '../../gpu/kernels/forward';
import { ropeInverseFrequencies, type RopeSpec } from '../../core/model/rope';
import type { Activation } from '../../core/model/architecture';
import type { ModelSpec } from './model-forward';

/** The shapes a block forward needs. */
export interface BlockShape {
  spec: ModelSpec;
  /** Tokens per sequence; sequences are consecutive in the activations. */
  seqlen: number;
  /** Total tokens (sequences × seqlen). */
  tokens: number;
  /**
   * Positions the RoPE tables cover and the sequence length their frequencies are computed for
   * (default seqlen): a KV cache's capacity, whose tokens are at positions past seqlen.
   */
  ropePositions?: number;
}

export interface GpuLinear {
  /** [out, in] */
  W: GpuMatrix;
  /** [out] or null */
  bias: GPUBuffer | null;
}

export interface GpuBlock {
  /** Which block of the model (its RoPE and sliding window). */
  index: number;
  /** By the checkpoint's name inside the block, e.g. "self_attn.q_proj" or "attn.c_attn". */
  linears: Map<string, GpuLinear>;
  /** By the norm's module name inside the block, e.g. "input_layernorm", "self_attn.q_norm". */
  norms: Map<string, NormWeights>;
}

export interface BlockRunOptions {
  /** Called with a linear's input [tokens, in] right after it is computed. */
  capture?: (linear: string, X: GpuMatrix) => void;
  /** Stop once every linear named here has been captured (out is then incomplete). */
  stopAfter?: ReadonlySet<string>;
  /**
   * Attend through this block's KV cache: the tokens (one sequence) are at positions cached,
   * cached + 1, …; their keys and values are appended to the cache and they attend to all of it.
   */
  kv?: { cache: LayerCache; cached: number };
}

/** The elementwise op of an MLP's activation: gated y = act(y)·x, or plain y = act(y). */
function activationOp(activation: Activation, gated: boolean): ElementwiseOp {
  if (gated && activation === 'silu') return ELEMENTWISE.siluGate;
  if (gated && activation === 'gelu_tanh') return ELEMENTWISE.geluTanhGate;
  if (!gated && activation === 'gelu_tanh') return ELEMENTWISE.geluNew;
  if (!gated && activation === 'relu') return ELEMENTWISE.relu;
  throw new Error(`no kernel for a ${gated ? 'gated' : 'plain'} ${activation} MLP`);
}

/** The scratch matrices a BlockRunner holds, as [label, columns]: the memory estimate counts the same. */
export function blockScratch(spec: ModelSpec): [string, number][] {
  const { layout, hidden, intermediate, heads, kvHeads, headDim } = spec;
  const A = layout.block.attention;
  const q = heads * headDim;
  const kv = kvHeads * headDim;
  const out: [string, number][] = [['xn', hidden], ['attn', q], ['mlp', intermediate]];
  if (A.qkv.length === 1) out.push(['qkv', q + 2 * kv]);
  else out.push(['q', q], ['k', kv], ['v', kv]);
  if (A.kNorm) out.push(['kRaw', kv]);
  if (layout.block.mlp.gate) out.push(['up', intermediate]);
  if (layout.block.mlp.fused) out.push(['gateUp', 2 * intermediate]);
  if (layout.block.attnOutNorm || layout.block.mlpOutNorm) out.push(['post', hidden]);
  return out;
}

export class BlockRunner {
  private readonly scratch = new Map<string, GpuMatrix>();
  /** RoPE cos/sin tables by layer ([seqlen, dim/2, 2]); layers with the same RoPE share one. */
  private readonly ropeTables: (GPUBuffer | null)[] = [];
  private readonly tables: GPUBuffer[] = [];

  constructor(
    private readonly rt: GpuRuntime,
    readonly shape: BlockShape,
  ) {
    const { spec, tokens: T, seqlen } = shape;
    for (const [label, cols] of blockScratch(spec)) this.scratch.set(label, rt.matrix(T, cols, `block.${label}`));
    const byKey = new Map<string, GPUBuffer>();
    for (let b = 0; b < spec.layers; b++) {
      const rope = spec.layout.layerAttention(b).rope;
      if (!rope) {
        this.ropeTables.push(null);
        continue;
      }
      const key = JSON.stringify(rope);
      let table = byKey.get(key);
      if (!table) {
        table = this.makeTable(rope, shape.ropePositions ?? seqlen, spec.maxPositions);
        byKey.set(key, table);
        this.tables.push(table);
      }
      this.ropeTables.push(table);
    }
  }

  private makeTable(rope: RopeSpec, seqlen: number, maxPositions: number): GPUBuffer {
    const { invFreq, attentionScale } = ropeInverseFrequencies(rope, seqlen, maxPositions);
    const data = ropeTableOf(seqlen, invFreq, attentionScale);
    const buffer = this.rt.storage(data.byteLength, 'block.ropeTable');
    this.rt.upload(buffer, 0, data);
    return buffer;
  }

  private m(label: string): GpuMatrix {
    return this.scratch.get(label)!;
  }

  /** The normed hidden state of the last run (the final norm's output after `finalNorm`). */
  get normed(): GpuMatrix {
    return this.m('xn');
  }

  /**
   * Records the block on input h [tokens, hidden] into out (a different matrix). Returns false
   * when it stopped early after the `stopAfter` captures.
   */
  encode(rec: Recorder, h: GpuMatrix, out: GpuMatrix, block: GpuBlock, opts: BlockRunOptions = {}): boolean {
    const rt = this.rt;
    const limit = rt.bindingLimit;
    const placeholder = rt.placeholder;
    const { spec, seqlen } = this.shape;
    const L = spec.layout.block;
    const A = L.attention;
    const { rope, window } = spec.layout.layerAttention(block.index);
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
    const norm = (name: string, x: GpuMatrix, y: GpuMatrix, width?: number) => {
      const w = block.norms.get(name);
      if (!w) throw new Error(`block weights have no ${name}`);
      encodeNorm(rec, x, y, w, limit, width);
    };
    const add = (x: GpuMatrix) => encodeElementwise(rec, { op: ELEMENTWISE.add, y: out, x, placeholder }, limit);
    const copy = (y: GpuMatrix, x: GpuMatrix) => encodeElementwise(rec, { op: ELEMENTWISE.copy, y, x, placeholder }, limit);
    /** The sublayer output f (in xn) into the residual: Gemma's out-norm, the add, a post-norm. */
    const residual = (outNorm: string | null, postNorm: string | null) => {
      let f = this.m('xn');
      if (outNorm) {
        norm(outNorm, f, this.m('post'));
        f = this.m('post');
      }
      add(f);
      if (postNorm) {
        norm(postNorm, out, this.m('xn'));
        copy(out, this.m('xn'));
      }
    };
    const pre = L.normPlacement === 'pre';
    const xn = this.m('xn');
    const attn = this.m('attn');
    const hd = spec.headDim;

    copy(out, h);
    // Attention.
    let input = out;
    if (pre) {
      norm(L.attnNorm.name, out, xn);
      input = xn;
    }
    if (capture(input, ...A.qkv)) return false;
    let q: GpuMatrix;
    let k: GpuMatrix;
    let v: GpuMatrix;
    const qOff = 0;
    let kOff = 0;
    let vOff = 0;
    if (A.qkv.length === 1) {
      const qkv = this.m('qkv');
      linear(input, A.qkv[0], qkv);
      [q, k, v] = [qkv, qkv, qkv];
      kOff = spec.heads * hd;
      vOff = kOff + spec.kvHeads * hd;
    } else {
      [q, k, v] = [this.m('q'), this.m('k'), this.m('v')];
      // With q/k norms the projections land in attn (free until the attention) and kRaw first.
      linear(input, A.qkv[0], A.qNorm ? attn : q);
      linear(input, A.qkv[1], A.kNorm ? this.m('kRaw') : k);
      linear(input, A.qkv[2], v);
      if (A.qNorm) norm(A.qNorm.name, attn, q, hd);
      if (A.kNorm) norm(A.kNorm.name, this.m('kRaw'), k, hd);
    }
    const table = this.ropeTables[block.index];
    const posBase = opts.kv?.cached ?? 0;
    if (rope && table) {
      encodeRope(rec, q, qOff, spec.heads, hd, seqlen, table, limit, rope.dim, posBase);
      encodeRope(rec, k, kOff, spec.kvHeads, hd, seqlen, table, limit, rope.dim, posBase);
    }
    const heads = { heads: spec.heads, kvHeads: spec.kvHeads, headDim: hd, scale: A.scale, window };
    if (opts.kv) encodeCachedAttention(rec, { Q: q, qOff, K: k, kOff, V: v, vOff, ...heads, cached: opts.kv.cached }, opts.kv.cache, attn, limit);
    else encodeForwardAttention(rec, { Q: q, qOff, K: k, kOff, V: v, vOff, ...heads, seqlen }, attn, limit);
    if (capture(attn, A.o)) return false;
    linear(attn, A.o, xn);
    residual(L.attnOutNorm?.name ?? null, pre ? null : L.attnNorm.name);

    // MLP.
    const M = L.mlp;
    const f = this.m('mlp');
    input = out;
    if (pre) {
      norm(L.mlpNorm.name, out, xn);
      input = xn;
    }
    if (M.fused) {
      // Phi-3's gate_up_proj: [gate | up] of 2·inter columns; f = gate, then f = act(f) · up.
      if (capture(input, M.up)) return false;
      const gateUp = this.m('gateUp');
      linear(input, M.up, gateUp);
      encodeElementwise(rec, { op: ELEMENTWISE.copy, y: f, x: gateUp, placeholder }, limit);
      encodeElementwise(rec, { op: activationOp(M.activation, true), y: f, x: gateUp, xColOff: spec.intermediate, placeholder }, limit);
    } else if (M.gate) {
      if (capture(input, M.gate, M.up)) return false;
      const up = this.m('up');
      linear(input, M.gate, f);
      linear(input, M.up, up);
      encodeElementwise(rec, { op: activationOp(M.activation, true), y: f, x: up, placeholder }, limit);
    } else {
      if (capture(input, M.up)) return false;
      linear(input, M.up, f);
      encodeElementwise(rec, { op: activationOp(M.activation, false), y: f, placeholder }, limit);
    }
    if (capture(f, M.down)) return false;
    linear(f, M.down, xn);
    residual(L.mlpOutNorm?.name ?? null, pre ? null : L.mlpNorm.name);
    return true;
  }

  /** xn = the final norm of h (before the LM head). */
  encodeFinalNorm(rec: Recorder, h: GpuMatrix, norm: NormWeights): void {
    encodeNorm(rec, h, this.m('xn'), norm, this.rt.bindingLimit);
  }

  release(): void {
    this.rt.release(...this.scratch.values(), ...this.tables);
  }
}
