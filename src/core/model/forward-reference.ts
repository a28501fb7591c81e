/**
 * f64 forward pass of a whole model: the oracle the WGSL forward pass is tested against.
 *   llama / mistral / qwen2: x = E[ids]; per block x += o(attn(rope(q), rope(k), v)(rms(x))),
 *                            x += down(silu(gate(rms(x))) · up(rms(x))); logits = head(rms(x))
 *   gpt2:                    x = wte[ids] + wpe[pos]; per block x += c_proj(attn(c_attn(ln_1(x)))),
 *                            x += c_proj(gelu_new(c_fc(ln_2(x)))); logits = head(ln_f(x))
 * Weights are f32 (as read, or dequantized), arithmetic is f64. Linear weights are held [out, in]
 * whatever the checkpoint's layout, so a caller can swap in a quantized one with setLinearWeight.
 */
import { linearSpec, type ModelLayout } from './architecture';
import type { Checkpoint } from './checkpoint';
import type { ModelConfig } from './config';

export interface ReferenceModel {
  config: ModelConfig;
  layout: ModelLayout;
  /**
   * Tensor name → f32 values. Norms, biases and embeddings as stored; every block linear's
   * "<prefix><name>.weight" as [out, in] (GPT-2 Conv1D transposed on load).
   */
  weights: Map<string, Float32Array>;
}

/** Reads every tensor the forward pass needs. */
export async function loadReferenceModel(checkpoint: Checkpoint): Promise<ReferenceModel> {
  const { config, layout } = checkpoint;
  const weights = new Map<string, Float32Array>();
  const read = async (name: string) => weights.set(name, await checkpoint.readTensor(name));
  await read(layout.embedTokens);
  if (layout.embedPositions) await read(layout.embedPositions);
  const readNorm = async (full: string, bias: boolean) => {
    await read(`${full}.weight`);
    if (bias) await read(`${full}.bias`);
  };
  for (let b = 0; b < layout.numBlocks; b++) {
    const p = layout.blockPrefix(b);
    await readNorm(p + layout.block.attnNorm.name, layout.block.attnNorm.bias);
    await readNorm(p + layout.block.mlpNorm.name, layout.block.mlpNorm.bias);
    for (const l of layout.block.linears) {
      weights.set(`${p}${l.name}.weight`, await checkpoint.readLinearWeight(b, l.name));
      if (l.bias) await read(`${p}${l.name}.bias`);
    }
  }
  await readNorm(layout.finalNorm.name, layout.finalNorm.bias);
  if (!layout.tiedLmHead) await read(layout.lmHead);
  return { config, layout, weights };
}

/** Replaces block b's linear weight W [out, in], e.g. with its dequantized GPTQ result. */
export function setLinearWeight(model: ReferenceModel, block: number, linear: string, W: Float32Array): void {
  const spec = linearSpec(model.layout, linear);
  if (W.length !== spec.out * spec.in) {
    throw new RangeError(`${linear}: expected ${spec.out}×${spec.in} = ${spec.out * spec.in} values, got ${W.length}`);
  }
  model.weights.set(`${model.layout.blockPrefix(block)}${linear}.weight`, W);
}

function tensor(model: ReferenceModel, name: string): Float32Array {
  const t = model.weights.get(name);
  if (!t) throw new Error(`reference model: tensor "${name}" was not loaded`);
  return t;
}

/** Y [T, out] = X [T, in] · Wᵀ (+ bias), W [out, in]. Four outputs per pass share each X load. */
export function linear(X: Float64Array, T: number, W: Float32Array, out: number, inF: number, bias?: Float32Array): Float64Array {
  const Y = new Float64Array(T * out);
  const out4 = out - (out % 4);
  for (let t = 0; t < T; t++) {
    const x = t * inF;
    const y = t * out;
    let o = 0;
    for (; o < out4; o += 4) {
      const w0 = o * inF;
      const w1 = w0 + inF;
      const w2 = w1 + inF;
      const w3 = w2 + inF;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let i = 0; i < inF; i++) {
        const xi = X[x + i];
        s0 += xi * W[w0 + i];
        s1 += xi * W[w1 + i];
        s2 += xi * W[w2 + i];
        s3 += xi * W[w3 + i];
      }
      Y[y + o] = s0;
      Y[y + o + 1] = s1;
      Y[y + o + 2] = s2;
      Y[y + o + 3] = s3;
    }
    for (; o < out; o++) {
      const w = o * inF;
      let s = 0;
      for (let i = 0; i < inF; i++) s += X[x + i] * W[w + i];
      Y[y + o] = s;
    }
    if (bias) for (let j = 0; j < out; j++) Y[y + j] += bias[j];
  }
  return Y;
}

/** RMSNorm per row: x / sqrt(mean(x²) + eps) · w. X [T, n]. */
export function rmsNorm(X: Float64Array, T: number, n: number, w: Float32Array, eps: number): Float64Array {
  const Y = new Float64Array(T * n);
  for (let t = 0; t < T; t++) {
    let ss = 0;
    for (let i = 0; i < n; i++) ss += X[t * n + i] ** 2;
    const r = 1 / Math.sqrt(ss / n + eps);
    for (let i = 0; i < n; i++) Y[t * n + i] = X[t * n + i] * r * w[i];
  }
  return Y;
}

/** LayerNorm per row: (x − mean) / sqrt(var + eps) · w + b, biased variance. X [T, n]. */
export function layerNorm(X: Float64Array, T: number, n: number, w: Float32Array, b: Float32Array, eps: number): Float64Array {
  const Y = new Float64Array(T * n);
  for (let t = 0; t < T; t++) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += X[t * n + i];
    mean /= n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (X[t * n + i] - mean) ** 2;
    const r = 1 / Math.sqrt(v / n + eps);
    for (let i = 0; i < n; i++) Y[t * n + i] = (X[t * n + i] - mean) * r * w[i] + b[i];
  }
  return Y;
}

/** GPT-2's gelu_new: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
export function geluNew(x: number): number {
  return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
}

export function silu(x: number): number {
  return x / (1 + Math.exp(-x));
}

/**
 * RoPE in place, Hugging Face's rotate_half convention: within each head of size d, dimension i
 * (i < d/2) pairs with i + d/2 at angle pos · θ^(−2i/d):
 *   x'[i] = x[i]·cos − x[i+d/2]·sin,   x'[i+d/2] = x[i+d/2]·cos + x[i]·sin.
 * X [T, heads·d]; position of row t is t.
 */
export function applyRope(X: Float64Array, T: number, heads: number, d: number, theta: number): void {
  const half = d / 2;
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < half; i++) {
      const angle = t * theta ** (-(2 * i) / d);
      const c = Math.cos(angle);
      const s = Math.sin(angle);
      for (let h = 0; h < heads; h++) {
        const base = t * heads * d + h * d;
        const a = X[base + i];
        const b = X[base + i + half];
        X[base + i] = a * c - b * s;
        X[base + i + half] = b * c + a * s;
      }
    }
  }
}

/**
 * Causal attention with grouped-query heads: query head h reads key/value head ⌊h / (H / Hkv)⌋
 * (transformers' repeat_kv). Q [T, H·d] (row stride qStride), K, V [T, Hkv·d] (strides kvStride),
 * softmax(q·k / √d) over positions ≤ t. Returns [T, H·d].
 */
export function causalAttention(
  Q: Float64Array, qStride: number, qOffset: number,
  K: Float64Array, V: Float64Array, kvStride: number, kOffset: number, vOffset: number,
  T: number, H: number, Hkv: number, d: number,
): Float64Array {
  const out = new Float64Array(T * H * d);
  const group = H / Hkv;
  const scale = 1 / Math.sqrt(d);
  const p = new Float64Array(T);
  for (let h = 0; h < H; h++) {
    const kvh = Math.floor(h / group);
    for (let t = 0; t < T; t++) {
      const q = t * qStride + qOffset + h * d;
      let max = -Infinity;
      for (let s = 0; s <= t; s++) {
        const k = s * kvStride + kOffset + kvh * d;
        let dot = 0;
        for (let i = 0; i < d; i++) dot += Q[q + i] * K[k + i];
        p[s] = dot * scale;
        if (p[s] > max) max = p[s];
      }
      let sum = 0;
      for (let s = 0; s <= t; s++) {
        p[s] = Math.exp(p[s] - max);
        sum += p[s];
      }
      const o = t * H * d + h * d;
      for (let s = 0; s <= t; s++) {
        const v = s * kvStride + vOffset + kvh * d;
        const a = p[s] / sum;
        for (let i = 0; i < d; i++) out[o + i] += a * V[v + i];
      }
    }
  }
  return out;
}

/** Token (+ position) embeddings: [T, hidden]. */
export function embed(model: ReferenceModel, ids: readonly number[]): Float64Array {
  const { config, layout } = model;
  const n = config.hiddenSize;
  const T = ids.length;
  if (T > config.maxPositions) throw new RangeError(`${T} tokens exceed the model's context of ${config.maxPositions}`);
  const E = tensor(model, layout.embedTokens);
  const P = layout.embedPositions ? tensor(model, layout.embedPositions) : null;
  const X = new Float64Array(T * n);
  ids.forEach((id, t) => {
    if (!Number.isInteger(id) || id < 0 || id >= config.vocabSize) {
      throw new RangeError(`token id ${id} at position ${t} is outside the vocabulary (0..${config.vocabSize - 1})`);
    }
    for (let i = 0; i < n; i++) X[t * n + i] = E[id * n + i] + (P ? P[t * n + i] : 0);
  });
  return X;
}

export interface BlockHooks {
  /** Called with each linear's input X [T, in] before it is applied (the GPTQ Hessian's input). */
  onLinearInput?(linear: string, X: Float64Array, T: number): void;
}

/** One transformer block on X [T, hidden]; returns the new hidden states [T, hidden]. */
export function forwardBlock(model: ReferenceModel, b: number, X: Float64Array, T: number, hooks: BlockHooks = {}): Float64Array {
  const { config: c, layout } = model;
  const p = layout.blockPrefix(b);
  const w = (name: string) => tensor(model, p + name);
  const lin = (name: string, input: Float64Array) => {
    hooks.onLinearInput?.(name, input, T);
    const spec = linearSpec(layout, name);
    return linear(input, T, w(`${name}.weight`), spec.out, spec.in, spec.bias ? w(`${name}.bias`) : undefined);
  };
  const norm = (name: string, input: Float64Array) => c.norm === 'rms'
    ? rmsNorm(input, T, c.hiddenSize, w(`${name}.weight`), c.normEps)
    : layerNorm(input, T, c.hiddenSize, w(`${name}.weight`), w(`${name}.bias`), c.normEps);
  const n = c.hiddenSize;
  const H = c.numHeads;
  const d = c.headDim;

  const Y = Float64Array.from(X);
  const addInto = (R: Float64Array) => {
    for (let i = 0; i < Y.length; i++) Y[i] += R[i];
  };

  const h1 = norm(layout.block.attnNorm.name, X);
  if (c.arch === 'gpt2') {
    const qkv = lin('attn.c_attn', h1); // [T, 3n]: q | k | v
    const att = causalAttention(qkv, 3 * n, 0, qkv, qkv, 3 * n, n, 2 * n, T, H, H, d); // [T, n]
    addInto(lin('attn.c_proj', att));
    const h2 = norm(layout.block.mlpNorm.name, Y);
    const f = lin('mlp.c_fc', h2); // [T, inner]
    for (let i = 0; i < f.length; i++) f[i] = geluNew(f[i]);
    addInto(lin('mlp.c_proj', f));
    return Y;
  }

  const Hkv = c.numKvHeads;
  const q = lin('self_attn.q_proj', h1); // [T, H·d]
  const k = lin('self_attn.k_proj', h1); // [T, Hkv·d]
  const v = lin('self_attn.v_proj', h1); // [T, Hkv·d]
  applyRope(q, T, H, d, c.ropeTheta);
  applyRope(k, T, Hkv, d, c.ropeTheta);
  const att = causalAttention(q, H * d, 0, k, v, Hkv * d, 0, 0, T, H, Hkv, d); // [T, H·d]
  addInto(lin('self_attn.o_proj', att));
  const h2 = norm(layout.block.mlpNorm.name, Y);
  const gate = lin('mlp.gate_proj', h2); // [T, inter]
  const up = lin('mlp.up_proj', h2); // [T, inter]
  for (let i = 0; i < gate.length; i++) gate[i] = silu(gate[i]) * up[i];
  addInto(lin('mlp.down_proj', gate));
  return Y;
}

/** Final norm and LM head: X [T, hidden] → logits [T, vocab]. */
export function finalLogits(model: ReferenceModel, X: Float64Array, T: number): Float64Array {
  const { config: c, layout } = model;
  const f = layout.finalNorm.name;
  const h = c.norm === 'rms'
    ? rmsNorm(X, T, c.hiddenSize, tensor(model, `${f}.weight`), c.normEps)
    : layerNorm(X, T, c.hiddenSize, tensor(model, `${f}.weight`), tensor(model, `${f}.bias`), c.normEps);
  return linear(h, T, tensor(model, layout.lmHead), c.vocabSize, c.hiddenSize);
}

/** Logits [T, vocab] for a sequence of ids (T ≤ context). */
export function forwardLogits(model: ReferenceModel, ids: readonly number[]): Float64Array {
  const T = ids.length;
  let X = embed(model, ids);
  for (let b = 0; b < model.layout.numBlocks; b++) X = forwardBlock(model, b, X, T);
  return finalLogits(model, X, T);
}

/** log softmax of row t of logits [T, vocab]. */
export function logSoftmax(logits: Float64Array, vocab: number, t: number): Float64Array {
  const row = logits.subarray(t * vocab, (t + 1) * vocab);
  let max = -Infinity;
  for (const x of row) if (x > max) max = x;
  let sum = 0;
  for (const x of row) sum += Math.exp(x - max);
  const lse = max + Math.log(sum);
  return Float64Array.from(row, (x) => x - lse);
}

/**
 * Σ over positions t < T−1 of −log p(ids[t+1] | ids[..t]) for logits [T, vocab], and the count
 * (T − 1): the shifted next-token loss of transformers' causal LM.
 */
export function nextTokenNll(logits: Float64Array, ids: readonly number[], vocab: number): { sum: number; count: number } {
  let sum = 0;
  for (let t = 0; t + 1 < ids.length; t++) sum -= logSoftmax(logits, vocab, t)[ids[t + 1]];
  return { sum, count: Math.max(0, ids.length - 1) };
}

/**
 * Perplexity over windows (each forwarded on its own, no BOS added): exp of the mean next-token
 * NLL over all predictions. With equal windows this equals the reference's exp(Σ nll·seqlen / (n·seqlen)).
 */
export function perplexity(model: ReferenceModel, windows: readonly (readonly number[])[]): { perplexity: number; meanNll: number; tokens: number } {
  let sum = 0;
  let count = 0;
  for (const w of windows) {
    const r = nextTokenNll(forwardLogits(model, w), w, model.config.vocabSize);
    sum += r.sum;
    count += r.count;
  }
  if (count === 0) throw new RangeError('perplexity needs at least one window of two or more tokens');
  return { perplexity: Math.exp(sum / count), meanNll: sum / count, tokens: count };
}

/** Greedy decoding: appends argmax tokens until maxNew, the context, or a stop id. Returns the new ids. */
export function greedyGenerate(
  model: ReferenceModel,
  prompt: readonly number[],
  maxNew: number,
  stopIds: readonly number[] = [],
): number[] {
  const ids = [...prompt];
  const out: number[] = [];
  const V = model.config.vocabSize;
  while (out.length < maxNew && ids.length < model.config.maxPositions) {
    const logits = forwardLogits(model, ids);
    const last = logits.subarray((ids.length - 1) * V, ids.length * V);
    let best = 0;
    for (let i = 1; i < V; i++) if (last[i] > last[best]) best = i;
    out.push(best);
    ids.push(best);
    if (stopIds.includes(best)) break;
  }
  return out;
}
