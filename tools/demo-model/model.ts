/**
 * A Llama causal LM (RMSNorm, RoPE rotate_half, grouped-query causal attention, SiLU-gated MLP,
 * tied LM head) with a hand-written backward pass. It computes the same function as
 * src/core/model/forward-reference.ts; storage is f32 for training or f64 for gradient checks,
 * arithmetic is JavaScript's f64 either way. All buffers live in a Workspace allocated once.
 */
import { matmulABt, transposeInto, type Vec } from './kernels';
import type { Rng } from './rng';

export interface ModelShape {
  vocab: number;
  hidden: number;
  inter: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  ropeTheta: number;
  eps: number;
  maxPositions: number;
}

export type Dtype = 'f32' | 'f64';

export interface TensorSpec {
  /** Hugging Face name, e.g. "model.layers.0.self_attn.q_proj.weight". */
  name: string;
  shape: number[];
  offset: number;
  size: number;
  /** AdamW weight decay applies (matrices yes, norm gains no). */
  decay: boolean;
}

/** Every parameter tensor in Hugging Face LlamaForCausalLM naming, packed into one flat array. */
export function paramSpecs(s: ModelShape): TensorSpec[] {
  const specs: TensorSpec[] = [];
  let offset = 0;
  const add = (name: string, shape: number[]) => {
    const size = shape.reduce((a, b) => a * b, 1);
    specs.push({ name, shape, offset, size, decay: shape.length === 2 });
    offset += size;
  };
  const n = s.hidden;
  add('model.embed_tokens.weight', [s.vocab, n]);
  for (let l = 0; l < s.layers; l++) {
    const p = `model.layers.${l}.`;
    add(`${p}input_layernorm.weight`, [n]);
    add(`${p}self_attn.q_proj.weight`, [s.heads * s.headDim, n]);
    add(`${p}self_attn.k_proj.weight`, [s.kvHeads * s.headDim, n]);
    add(`${p}self_attn.v_proj.weight`, [s.kvHeads * s.headDim, n]);
    add(`${p}self_attn.o_proj.weight`, [n, s.heads * s.headDim]);
    add(`${p}post_attention_layernorm.weight`, [n]);
    add(`${p}mlp.gate_proj.weight`, [s.inter, n]);
    add(`${p}mlp.up_proj.weight`, [s.inter, n]);
    add(`${p}mlp.down_proj.weight`, [n, s.inter]);
  }
  add('model.norm.weight', [n]);
  return specs;
}

export function allocate(dtype: Dtype, size: number): Vec {
  return dtype === 'f64' ? new Float64Array(size) : new Float32Array(size);
}

export interface Params {
  shape: ModelShape;
  specs: TensorSpec[];
  dtype: Dtype;
  /** All parameters, in specs order. */
  data: Vec;
}

export function createParams(shape: ModelShape, dtype: Dtype): Params {
  const specs = paramSpecs(shape);
  const last = specs[specs.length - 1];
  return { shape, specs, dtype, data: allocate(dtype, last.offset + last.size) };
}

/** A tensor's values inside a flat array laid out like params (params.data or a gradient). */
export function view(params: Params, flat: Vec, name: string): Vec {
  const spec = params.specs.find((s) => s.name === name);
  if (!spec) throw new Error(`no parameter "${name}"`);
  return flat.subarray(spec.offset, spec.offset + spec.size);
}

/**
 * GPT-2 style init: N(0, std) for matrices, with std / √(2·layers) for the projections that write
 * into the residual stream (o_proj, down_proj); norm gains 1.
 */
export function initParams(params: Params, rng: Rng, std = 0.02): void {
  const residualStd = std / Math.sqrt(2 * params.shape.layers);
  for (const s of params.specs) {
    const v = params.data.subarray(s.offset, s.offset + s.size);
    if (s.shape.length === 1) {
      v.fill(1);
      continue;
    }
    const sd = /o_proj|down_proj/.test(s.name) ? residualStd : std;
    for (let i = 0; i < v.length; i++) v[i] = rng.normal() * sd;
  }
}

interface LayerWeights {
  attnNorm: Vec; q: Vec; k: Vec; v: Vec; o: Vec; mlpNorm: Vec; gate: Vec; up: Vec; down: Vec;
}

function layerWeights(params: Params, flat: Vec, l: number): LayerWeights {
  const p = `model.layers.${l}.`;
  const w = (name: string) => view(params, flat, p + name);
  return {
    attnNorm: w('input_layernorm.weight'),
    q: w('self_attn.q_proj.weight'),
    k: w('self_attn.k_proj.weight'),
    v: w('self_attn.v_proj.weight'),
    o: w('self_attn.o_proj.weight'),
    mlpNorm: w('post_attention_layernorm.weight'),
    gate: w('mlp.gate_proj.weight'),
    up: w('mlp.up_proj.weight'),
    down: w('mlp.down_proj.weight'),
  };
}

/** What a layer's forward keeps for its backward. */
interface LayerActs {
  x: Vec; r1: Vec; h1: Vec; q: Vec; k: Vec; v: Vec; P: Vec; att: Vec;
  xm: Vec; r2: Vec; h2: Vec; g: Vec; u: Vec; a: Vec;
}

/**
 * Forward and backward for B sequences of T tokens (rows t = b·T + i, position i). T and every
 * width must be multiples of 4 (the matmul kernel's blocks).
 */
export class Workspace {
  readonly N: number;
  private readonly acts: LayerActs[];
  private readonly xL: Vec; // final residual stream
  private readonly rF: Vec;
  private readonly hF: Vec;
  /** Logits [N, vocab]; after forward, the softmax probabilities. */
  readonly probs: Vec;
  private readonly ids: Int32Array;
  private readonly targets: Int32Array;
  private count = 0;
  // backward scratch
  private readonly dx: Vec; private readonly dxm: Vec; private readonly dh: Vec; private readonly datt: Vec;
  private readonly dq: Vec; private readonly dk: Vec; private readonly dv: Vec;
  private readonly dg: Vec; private readonly du: Vec;
  private readonly tA: Vec; private readonly tB: Vec; private readonly wT: Vec;
  private readonly cos: Float64Array; private readonly sin: Float64Array;
  /** Per-head scratch of attention: [T, d] blocks, their [d, T] transposes, [T, T] blocks. */
  private readonly heads: Record<'Qh' | 'QhT' | 'Kh' | 'KhT' | 'Vh' | 'VhT' | 'Oh' | 'dOh' | 'dOhT' | 'dQh' | 'dKh' | 'dVh'
    | 'dP' | 'dS' | 'dSt' | 'Pt', Vec>;

  constructor(readonly params: Params, readonly B: number, readonly T: number) {
    const s = params.shape;
    const N = (this.N = B * T);
    if (T > s.maxPositions) throw new RangeError(`T ${T} exceeds the context ${s.maxPositions}`);
    const a = (size: number) => allocate(params.dtype, size);
    const n = s.hidden;
    const qd = s.heads * s.headDim;
    const kvd = s.kvHeads * s.headDim;
    this.acts = Array.from({ length: s.layers }, () => ({
      x: a(N * n), r1: a(N), h1: a(N * n), q: a(N * qd), k: a(N * kvd), v: a(N * kvd),
      P: a(B * s.heads * T * T), att: a(N * qd), xm: a(N * n), r2: a(N), h2: a(N * n),
      g: a(N * s.inter), u: a(N * s.inter), a: a(N * s.inter),
    }));
    this.xL = a(N * n);
    this.rF = a(N);
    this.hF = a(N * n);
    this.probs = a(N * s.vocab);
    this.ids = new Int32Array(N);
    this.targets = new Int32Array(N);
    this.dx = a(N * n); this.dxm = a(N * n); this.dh = a(N * n); this.datt = a(N * qd);
    this.dq = a(N * qd); this.dk = a(N * kvd); this.dv = a(N * kvd);
    this.dg = a(N * s.inter); this.du = a(N * s.inter);
    const widest = Math.max(n, qd, s.inter, s.vocab);
    this.tA = a(N * widest); this.tB = a(N * widest); this.wT = a(widest * Math.max(n, qd, s.inter));
    // RoPE table with the reference's exact angle expression: pos · θ^(−2i/d)
    const d = s.headDim;
    const half = d / 2;
    this.cos = new Float64Array(T * half);
    this.sin = new Float64Array(T * half);
    for (let t = 0; t < T; t++) {
      for (let i = 0; i < half; i++) {
        const angle = t * s.ropeTheta ** (-(2 * i) / d);
        this.cos[t * half + i] = Math.cos(angle);
        this.sin[t * half + i] = Math.sin(angle);
      }
    }
    const td = () => a(T * d);
    const tt = () => a(T * T);
    this.heads = {
      Qh: td(), QhT: td(), Kh: td(), KhT: td(), Vh: td(), VhT: td(), Oh: td(), dOh: td(), dOhT: td(),
      dQh: td(), dKh: td(), dVh: td(), dP: tt(), dS: tt(), dSt: tt(), Pt: tt(),
    };
  }

  /**
   * Runs the model on ids [B·T]; targets[t] is the next token of row t, or −1 for none.
   * Returns Σ −log p(target) over rows with a target, and their count.
   */
  forward(ids: ArrayLike<number>, targets: ArrayLike<number>): { sum: number; count: number } {
    const s = this.params.shape;
    const { N } = this;
    const n = s.hidden;
    const V = s.vocab;
    const data = this.params.data;
    const E = view(this.params, data, 'model.embed_tokens.weight');
    for (let t = 0; t < N; t++) {
      const id = ids[t];
      if (!(id >= 0 && id < V)) throw new RangeError(`token id ${id} outside 0..${V - 1}`);
      this.ids[t] = id;
      this.targets[t] = targets[t];
    }
    const x0 = this.acts[0]?.x ?? this.xL;
    for (let t = 0; t < N; t++) for (let i = 0; i < n; i++) x0[t * n + i] = E[this.ids[t] * n + i];
    for (let l = 0; l < s.layers; l++) {
      const next = l + 1 < s.layers ? this.acts[l + 1].x : this.xL;
      this.layerForward(l, layerWeights(this.params, data, l), next);
    }
    this.rmsForward(this.xL, view(this.params, data, 'model.norm.weight'), this.rF, this.hF);
    const P = this.probs;
    matmulABt(P, this.hF, E, N, V, n, false);
    let sum = 0;
    let count = 0;
    for (let t = 0; t < N; t++) {
      const row = t * V;
      let max = -Infinity;
      for (let j = 0; j < V; j++) if (P[row + j] > max) max = P[row + j];
      let z = 0;
      for (let j = 0; j < V; j++) z += Math.exp(P[row + j] - max);
      const lse = max + Math.log(z);
      const target = this.targets[t];
      if (target >= 0) {
        sum += lse - P[row + target];
        count++;
      }
      for (let j = 0; j < V; j++) P[row + j] = Math.exp(P[row + j] - lse);
    }
    this.count = count;
    return { sum, count };
  }

  /** Adds the gradient of the mean loss of the last forward to grads (laid out like params.data). */
  backward(grads: Vec): void {
    const s = this.params.shape;
    const { N } = this;
    const n = s.hidden;
    const V = s.vocab;
    const data = this.params.data;
    const E = view(this.params, data, 'model.embed_tokens.weight');
    const gE = view(this.params, grads, 'model.embed_tokens.weight');
    // dlogits = (p − onehot) / count, in place; rows without a target contribute nothing
    const D = this.probs;
    const inv = this.count > 0 ? 1 / this.count : 0;
    for (let t = 0; t < N; t++) {
      const row = t * V;
      const target = this.targets[t];
      if (target < 0) {
        D.fill(0, row, row + V);
        continue;
      }
      for (let j = 0; j < V; j++) D[row + j] *= inv;
      D[row + target] -= inv;
    }
    // tied head: logits = hF · Eᵀ
    this.linearBackward(D, this.hF, E, gE, this.dh, V, n, false);
    this.rmsBackward(this.dh, this.xL, this.rF, view(this.params, data, 'model.norm.weight'),
      view(this.params, grads, 'model.norm.weight'), this.dx);
    for (let l = s.layers - 1; l >= 0; l--) {
      this.layerBackward(l, layerWeights(this.params, data, l), layerWeights(this.params, grads, l));
    }
    // embedding rows
    for (let t = 0; t < N; t++) {
      const e = this.ids[t] * n;
      for (let i = 0; i < n; i++) gE[e + i] += this.dx[t * n + i];
    }
  }

  private layerForward(l: number, w: LayerWeights, next: Vec): void {
    const s = this.params.shape;
    const A = this.acts[l];
    const { N } = this;
    const n = s.hidden;
    const qd = s.heads * s.headDim;
    const kvd = s.kvHeads * s.headDim;
    this.rmsForward(A.x, w.attnNorm, A.r1, A.h1);
    matmulABt(A.q, A.h1, w.q, N, qd, n, false);
    matmulABt(A.k, A.h1, w.k, N, kvd, n, false);
    matmulABt(A.v, A.h1, w.v, N, kvd, n, false);
    this.rope(A.q, s.heads, false);
    this.rope(A.k, s.kvHeads, false);
    this.attentionForward(A);
    matmulABt(A.xm, A.att, w.o, N, n, qd, false);
    for (let i = 0; i < N * n; i++) A.xm[i] += A.x[i];
    this.rmsForward(A.xm, w.mlpNorm, A.r2, A.h2);
    matmulABt(A.g, A.h2, w.gate, N, s.inter, n, false);
    matmulABt(A.u, A.h2, w.up, N, s.inter, n, false);
    for (let i = 0; i < N * s.inter; i++) {
      const g = A.g[i];
      A.a[i] = (g / (1 + Math.exp(-g))) * A.u[i];
    }
    matmulABt(next, A.a, w.down, N, n, s.inter, false);
    for (let i = 0; i < N * n; i++) next[i] += A.xm[i];
  }

  /** Backward through layer l: this.dx holds d(loss)/d(output) on entry, d(loss)/d(input) on exit. */
  private layerBackward(l: number, w: LayerWeights, gw: LayerWeights): void {
    const s = this.params.shape;
    const A = this.acts[l];
    const { N } = this;
    const n = s.hidden;
    const I = s.inter;
    const qd = s.heads * s.headDim;
    const kvd = s.kvHeads * s.headDim;
    // MLP: out = xm + down(silu(g) · u)
    this.linearBackward(this.dx, A.a, w.down, gw.down, this.dg, n, I, false); // dg holds d(a) for now
    for (let i = 0; i < N * I; i++) {
      const g = A.g[i];
      const da = this.dg[i];
      const sig = 1 / (1 + Math.exp(-g));
      this.du[i] = da * g * sig;
      this.dg[i] = da * A.u[i] * sig * (1 + g * (1 - sig));
    }
    this.linearBackward(this.dg, A.h2, w.gate, gw.gate, this.dh, I, n, false);
    this.linearBackward(this.du, A.h2, w.up, gw.up, this.dh, I, n, true);
    this.rmsBackward(this.dh, A.xm, A.r2, w.mlpNorm, gw.mlpNorm, this.dxm);
    for (let i = 0; i < N * n; i++) this.dxm[i] += this.dx[i];
    // attention: xm = x + o(attn(rope(q), rope(k), v))
    this.linearBackward(this.dxm, A.att, w.o, gw.o, this.datt, n, qd, false);
    this.attentionBackward(A);
    this.rope(this.dq, s.heads, true);
    this.rope(this.dk, s.kvHeads, true);
    this.linearBackward(this.dq, A.h1, w.q, gw.q, this.dh, qd, n, false);
    this.linearBackward(this.dk, A.h1, w.k, gw.k, this.dh, kvd, n, true);
    this.linearBackward(this.dv, A.h1, w.v, gw.v, this.dh, kvd, n, true);
    this.rmsBackward(this.dh, A.x, A.r1, w.attnNorm, gw.attnNorm, this.dx);
    for (let i = 0; i < N * n; i++) this.dx[i] += this.dxm[i];
  }

  /** For Y = X · Wᵀ (X [N, in], W [out, in]): gW += dYᵀ · X, and dX = (or +=) dY · W. */
  private linearBackward(dY: Vec, X: Vec, W: Vec, gW: Vec, dX: Vec, out: number, inF: number, accumulate: boolean): void {
    const { N } = this;
    transposeInto(this.tA, dY, N, out);
    transposeInto(this.tB, X, N, inF);
    matmulABt(gW, this.tA, this.tB, out, inF, N, true);
    transposeInto(this.wT, W, out, inF);
    matmulABt(dX, dY, this.wT, N, inF, out, accumulate);
  }

  /** h = x / √(mean(x²) + eps) · w per row; keeps r = 1/√(…). */
  private rmsForward(X: Vec, w: Vec, r: Vec, H: Vec): void {
    const n = this.params.shape.hidden;
    const eps = this.params.shape.eps;
    for (let t = 0; t < this.N; t++) {
      const o = t * n;
      let ss = 0;
      for (let i = 0; i < n; i++) ss += X[o + i] * X[o + i];
      const rt = 1 / Math.sqrt(ss / n + eps);
      r[t] = rt;
      for (let i = 0; i < n; i++) H[o + i] = X[o + i] * rt * w[i];
    }
  }

  /** dX = r·(dH·w) − x·r³·⟨dH·w, x⟩/n; gw += Σ dH·x·r. */
  private rmsBackward(dH: Vec, X: Vec, r: Vec, w: Vec, gw: Vec, dX: Vec): void {
    const n = this.params.shape.hidden;
    for (let t = 0; t < this.N; t++) {
      const o = t * n;
      const rt = r[t];
      let dot = 0;
      for (let i = 0; i < n; i++) {
        const dh = dH[o + i];
        dot += dh * w[i] * X[o + i];
        gw[i] += dh * X[o + i] * rt;
      }
      const c = (rt * rt * rt * dot) / n;
      for (let i = 0; i < n; i++) dX[o + i] = rt * dH[o + i] * w[i] - X[o + i] * c;
    }
  }

  /** RoPE in place, rotate_half pairs (i, i + d/2); inverse rotates back (the backward of RoPE). */
  private rope(X: Vec, heads: number, inverse: boolean): void {
    const d = this.params.shape.headDim;
    const half = d / 2;
    const sign = inverse ? -1 : 1;
    for (let row = 0; row < this.N; row++) {
      const tab = (row % this.T) * half;
      for (let h = 0; h < heads; h++) {
        const base = (row * heads + h) * d;
        for (let i = 0; i < half; i++) {
          const c = this.cos[tab + i];
          const sn = sign * this.sin[tab + i];
          const a = X[base + i];
          const b = X[base + i + half];
          X[base + i] = a * c - b * sn;
          X[base + i + half] = b * c + a * sn;
        }
      }
    }
  }

  /** Copies head h of X [N, heads·d] for sequence b into out [T, d] and its transpose into outT [d, T]. */
  private gatherHead(X: Vec, heads: number, b: number, h: number, out: Vec, outT: Vec | null): void {
    const { T } = this;
    const d = this.params.shape.headDim;
    for (let t = 0; t < T; t++) {
      const src = ((b * T + t) * heads + h) * d;
      for (let i = 0; i < d; i++) {
        const x = X[src + i];
        out[t * d + i] = x;
        if (outT) outT[i * T + t] = x;
      }
    }
  }

  /** Writes (or adds) head[T, d] into head h of X [N, heads·d] for sequence b. */
  private scatterHead(X: Vec, heads: number, b: number, h: number, head: Vec, add: boolean): void {
    const { T } = this;
    const d = this.params.shape.headDim;
    for (let t = 0; t < T; t++) {
      const dst = ((b * T + t) * heads + h) * d;
      for (let i = 0; i < d; i++) X[dst + i] = (add ? X[dst + i] : 0) + head[t * d + i];
    }
  }

  /**
   * Causal GQA attention: query head h reads key/value head ⌊h / (H / Hkv)⌋ (transformers'
   * repeat_kv); P = softmax(q·k/√d) over positions ≤ t is kept for the backward.
   */
  private attentionForward(A: LayerActs): void {
    const s = this.params.shape;
    const { B, T } = this;
    const H = s.heads;
    const d = s.headDim;
    const group = H / s.kvHeads;
    const scale = 1 / Math.sqrt(d);
    const { Qh, Kh, VhT, Oh } = this.heads;
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < H; h++) {
        const kvh = Math.floor(h / group);
        this.gatherHead(A.q, H, b, h, Qh, null);
        if (h % group === 0) {
          this.gatherHead(A.k, s.kvHeads, b, kvh, Kh, null);
          this.gatherHead(A.v, s.kvHeads, b, kvh, this.heads.Vh, VhT);
        }
        const P = A.P.subarray((b * H + h) * T * T, (b * H + h + 1) * T * T);
        matmulABt(P, Qh, Kh, T, T, d, false, 'cols≤row');
        for (let t = 0; t < T; t++) {
          const row = t * T;
          let max = -Infinity;
          for (let u = 0; u <= t; u++) if (P[row + u] > max) max = P[row + u];
          let sum = 0;
          for (let u = 0; u <= t; u++) sum += Math.exp((P[row + u] - max) * scale);
          for (let u = 0; u <= t; u++) P[row + u] = Math.exp((P[row + u] - max) * scale) / sum;
          P.fill(0, row + t + 1, row + T);
        }
        matmulABt(Oh, P, VhT, T, d, T, false, 'k≤row');
        this.scatterHead(A.att, H, b, h, Oh, false);
      }
    }
  }

  /** From this.datt: dq, dk, dv (dk, dv summed over the query heads that share a key/value head). */
  private attentionBackward(A: LayerActs): void {
    const s = this.params.shape;
    const { B, T } = this;
    const H = s.heads;
    const d = s.headDim;
    const group = H / s.kvHeads;
    const scale = 1 / Math.sqrt(d);
    const { Qh, QhT, Kh, KhT, Vh, dOh, dOhT, dQh, dKh, dVh, dP, dS, dSt, Pt } = this.heads;
    this.dk.fill(0);
    this.dv.fill(0);
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < H; h++) {
        const kvh = Math.floor(h / group);
        this.gatherHead(A.q, H, b, h, Qh, QhT);
        this.gatherHead(A.k, s.kvHeads, b, kvh, Kh, KhT);
        this.gatherHead(A.v, s.kvHeads, b, kvh, Vh, null);
        this.gatherHead(this.datt, H, b, h, dOh, dOhT);
        const P = A.P.subarray((b * H + h) * T * T, (b * H + h + 1) * T * T);
        matmulABt(dP, dOh, Vh, T, T, d, false, 'cols≤row'); // dP = dO · Vᵀ
        for (let t = 0; t < T; t++) {
          const row = t * T;
          let dot = 0;
          for (let u = 0; u <= t; u++) dot += P[row + u] * dP[row + u];
          for (let u = 0; u <= t; u++) dS[row + u] = P[row + u] * (dP[row + u] - dot) * scale;
          dS.fill(0, row + t + 1, row + T);
        }
        matmulABt(dQh, dS, KhT, T, d, T, false, 'k≤row'); // dQ = dS · K
        this.scatterHead(this.dq, H, b, h, dQh, false);
        transposeInto(dSt, dS, T, T);
        matmulABt(dKh, dSt, QhT, T, d, T, false, 'k≥row'); // dK = dSᵀ · Q
        this.scatterHead(this.dk, s.kvHeads, b, kvh, dKh, true);
        transposeInto(Pt, P, T, T);
        matmulABt(dVh, Pt, dOhT, T, d, T, false, 'k≥row'); // dV = Pᵀ · dO
        this.scatterHead(this.dv, s.kvHeads, b, kvh, dVh, true);
      }
    }
  }
}
