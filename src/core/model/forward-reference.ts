/**
 * f64 forward pass of a whole model: the oracle the WGSL forward pass is tested against. It reads
 * the family's description (architecture.ts) and follows transformers' modeling code:
 *   llama / mistral / qwen2 (models/llama/modeling_llama.py: LlamaDecoderLayer):
 *     x = E[ids]; per block x += o(attn(rope(q), rope(k), v)(rms(x))),
 *     x += down(silu(gate(rms(x))) · up(rms(x))); logits = head(rms(x))
 *   qwen3 (models/qwen3/modeling_qwen3.py: Qwen3Attention): as llama, with q_norm / k_norm (RMSNorm
 *     over head_dim, every head on its own) between the projections and RoPE
 *   gemma3_text (models/gemma3/modeling_gemma3.py: Gemma3TextScaledWordEmbedding, Gemma3RMSNorm,
 *     Gemma3Attention, Gemma3DecoderLayer, Gemma3ForCausalLM): x = E[ids] · √hidden (in the
 *     embedding's dtype); RMSNorms times (1 + w); per block
 *     x += post_attention_layernorm(attn(input_layernorm(x))),
 *     x += post_feedforward_layernorm(mlp(pre_feedforward_layernorm(x))), attention with q/k norms,
 *     scale query_pre_attn_scalar^−0.5, sliding-window layers with their own RoPE base, a
 *     gelu_pytorch_tanh-gated MLP; logits softcapped when final_logit_softcapping is set
 *   phi3 (models/phi3/modeling_phi3.py: Phi3Attention, Phi3MLP, apply_rotary_pos_emb): as llama, with
 *     q|k|v from one qkv_proj, gate|up from one gate_up_proj, RoPE on the first
 *     partial_rotary_factor·head_dim dims of each head (longrope past the original context), and
 *     config.sliding_window on every layer
 *   smollm3 (models/smollm3/modeling_smollm3.py: SmolLM3Attention): as llama, without RoPE on the
 *     layers whose no_rope_layers entry is 0
 *   opt (models/opt/modeling_opt.py: OPTDecoder, OPTDecoderLayer, OPTAttention):
 *     x = project_in(E[ids]) + P[pos + 2]; pre-LN blocks x += attn(ln(x)), x += fc2(act(fc1(ln(x))))
 *     or post-LN blocks x = ln(x + attn(x)), x = ln(x + fc2(act(fc1(x)))); logits =
 *     head(project_out(final_layer_norm(x)))
 *   gpt2 (models/gpt2/modeling_gpt2.py): x = wte[ids] + wpe[pos]; per block
 *     x += c_proj(attn(c_attn(ln_1(x)))), x += c_proj(gelu_new(c_fc(ln_2(x)))); logits = head(ln_f(x))
 * Weights are f32 (as read, or dequantized), arithmetic is f64. Linear weights are held [out, in]
 * whatever the checkpoint's layout, so a caller can swap in a quantized one with setLinearWeight.
 */
import { linearSpec, requiredTensors, type ModelLayout, type NormSpec } from './architecture';
import type { Checkpoint } from './checkpoint';
import type { ModelConfig } from './config';
import { ropeInverseFrequencies, type RopeSpec } from './rope';

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
  const linears = new Map<string, [number, string]>();
  for (let b = 0; b < layout.numBlocks; b++) {
    for (const l of layout.block.linears) linears.set(`${layout.blockPrefix(b)}${l.name}.weight`, [b, l.name]);
  }
  for (const { name } of requiredTensors(layout, config)) {
    const linear = linears.get(name);
    weights.set(name, linear ? await checkpoint.readLinearWeight(...linear) : await checkpoint.readTensor(name));
  }
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
export function rmsNorm(X: Float64Array, T: number, n: number, w: ArrayLike<number>, eps: number): Float64Array {
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
 * RoPE of a layer in place (modeling_rope_utils.py for the frequencies; apply_rotary_pos_emb with
 * rotate_half): within each head of size headDim, the first rope.dim dimensions rotate, pair
 * (i, i + dim/2) at angle pos · f_i; cos and sin are scaled by longrope's attention factor.
 * X [T, heads·headDim]; position of row t is t; maxPositions is the model's context (dynamic NTK).
 */
export function applyRopeSpec(X: Float64Array, T: number, heads: number, headDim: number, rope: RopeSpec, maxPositions: number): void {
  if (!rope.scaling && rope.dim === headDim) {
    applyRope(X, T, heads, headDim, rope.theta);
    return;
  }
  const { invFreq, attentionScale } = ropeInverseFrequencies(rope, T, maxPositions);
  const half = rope.dim / 2;
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < half; i++) {
      const angle = t * invFreq[i];
      const c = Math.cos(angle) * attentionScale;
      const s = Math.sin(angle) * attentionScale;
      for (let h = 0; h < heads; h++) {
        const base = t * heads * headDim + h * headDim;
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
 * softmax(q·k · scale) over positions s ≤ t, and with a sliding window only t − window < s
 * (masking_utils.py, sliding_window_overlay: the window counts the query's own position).
 * Returns [T, H·d].
 */
export function causalAttention(
  Q: Float64Array, qStride: number, qOffset: number,
  K: Float64Array, V: Float64Array, kvStride: number, kOffset: number, vOffset: number,
  T: number, H: number, Hkv: number, d: number,
  scale = 1 / Math.sqrt(d), window: number | null = null,
): Float64Array {
  const out = new Float64Array(T * H * d);
  const group = H / Hkv;
  const p = new Float64Array(T);
  for (let h = 0; h < H; h++) {
    const kvh = Math.floor(h / group);
    for (let t = 0; t < T; t++) {
      const q = t * qStride + qOffset + h * d;
      const first = window === null ? 0 : Math.max(0, t - window + 1);
      let max = -Infinity;
      for (let s = first; s <= t; s++) {
        const k = s * kvStride + kOffset + kvh * d;
        let dot = 0;
        for (let i = 0; i < d; i++) dot += Q[q + i] * K[k + i];
        p[s] = dot * scale;
        if (p[s] > max) max = p[s];
      }
      let sum = 0;
      for (let s = first; s <= t; s++) {
        p[s] = Math.exp(p[s] - max);
        sum += p[s];
      }
      const o = t * H * d + h * d;
      for (let s = first; s <= t; s++) {
        const v = s * kvStride + vOffset + kvh * d;
        const a = p[s] / sum;
        for (let i = 0; i < d; i++) out[o + i] += a * V[v + i];
      }
    }
  }
  return out;
}

/**
 * A norm of the family's kind on rows of X [rows, spec.size]: rms (LlamaRMSNorm), rms_plus_one
 * (Gemma3RMSNorm: x/rms(x) · (1 + w)), layer (nn.LayerNorm). q/k norms pass rows = tokens · heads.
 */
export function applyNorm(spec: NormSpec, X: Float64Array, rows: number, w: Float32Array, b?: Float32Array): Float64Array {
  switch (spec.kind) {
    case 'rms':
      return rmsNorm(X, rows, spec.size, w, spec.eps);
    case 'rms_plus_one':
      return rmsNorm(X, rows, spec.size, Float64Array.from(w, (x) => 1 + x), spec.eps);
    case 'layer':
      return layerNorm(X, rows, spec.size, w, b!, spec.eps);
  }
}

/** relu, and the activations of the MLP by the family's name for them. */
export function activation(kind: 'silu' | 'gelu_tanh' | 'relu', x: number): number {
  if (kind === 'silu') return silu(x);
  if (kind === 'relu') return x > 0 ? x : 0;
  return geluNew(x); // gelu_new = gelu_pytorch_tanh: the tanh approximation
}

/**
 * Token (+ position) embeddings: [T, hidden]. E[id] times the layout's embedding scale (Gemma 3),
 * through project_in (OPT with word_embed_proj_dim ≠ hidden), plus the learned position of row
 * t + positionOffset (GPT-2: 0, OPT: 2).
 */
export function embed(model: ReferenceModel, ids: readonly number[]): Float64Array {
  const { config, layout } = model;
  const n = config.hiddenSize;
  const e = layout.embedDim;
  const T = ids.length;
  if (T > config.maxPositions) throw new RangeError(`${T} tokens exceed the model's context of ${config.maxPositions}`);
  const E = tensor(model, layout.embedTokens);
  const P = layout.embedPositions ? tensor(model, layout.embedPositions) : null;
  const scale = layout.embedScale;
  let X: Float64Array = new Float64Array(T * e);
  ids.forEach((id, t) => {
    if (!Number.isInteger(id) || id < 0 || id >= config.vocabSize) {
      throw new RangeError(`token id ${id} at position ${t} is outside the vocabulary (0..${config.vocabSize - 1})`);
    }
    for (let i = 0; i < e; i++) X[t * e + i] = E[id * e + i] * scale;
  });
  if (layout.projectIn) X = linear(X, T, tensor(model, layout.projectIn), n, e);
  if (P) {
    const o = layout.positionOffset;
    for (let t = 0; t < T; t++) for (let i = 0; i < n; i++) X[t * n + i] += P[(t + o) * n + i];
  }
  return X;
}

export interface BlockHooks {
  /** Called with each linear's input X [T, in] before it is applied (the GPTQ Hessian's input). */
  onLinearInput?(linear: string, X: Float64Array, T: number): void;
}

/** Columns [from, from + width) of X [T, stride] as a [T, width] array. */
function columns(X: Float64Array, T: number, stride: number, from: number, width: number): Float64Array {
  const out = new Float64Array(T * width);
  for (let t = 0; t < T; t++) out.set(X.subarray(t * stride + from, t * stride + from + width), t * width);
  return out;
}

/** One transformer block on X [T, hidden]; returns the new hidden states [T, hidden]. */
export function forwardBlock(model: ReferenceModel, b: number, X: Float64Array, T: number, hooks: BlockHooks = {}): Float64Array {
  const { config: c, layout } = model;
  const L = layout.block;
  const p = layout.blockPrefix(b);
  const w = (name: string) => tensor(model, p + name);
  const lin = (name: string, input: Float64Array) => {
    hooks.onLinearInput?.(name, input, T);
    const spec = linearSpec(layout, name);
    return linear(input, T, w(`${name}.weight`), spec.out, spec.in, spec.bias ? w(`${name}.bias`) : undefined);
  };
  const norm = (spec: NormSpec, input: Float64Array, rows = T) =>
    applyNorm(spec, input, rows, w(`${spec.name}.weight`), spec.bias ? w(`${spec.name}.bias`) : undefined);
  const add = (A: Float64Array, B: Float64Array) => {
    for (let i = 0; i < A.length; i++) A[i] += B[i];
    return A;
  };
  const pre = L.normPlacement === 'pre';
  const H = c.numHeads;
  const Hkv = c.numKvHeads;
  const d = c.headDim;
  const { rope, window } = layout.layerAttention(b);
  const A = L.attention;

  // Attention: pre-norm x + f(norm(x)), post-norm norm(x + f(x)); Gemma's post_attention_layernorm on f.
  const h1 = pre ? norm(L.attnNorm, X) : X;
  let q: Float64Array;
  let k: Float64Array;
  let v: Float64Array;
  if (A.qkv.length === 1) {
    const qkv = lin(A.qkv[0], h1); // [T, (H + 2·Hkv)·d]: q | k | v
    const width = (H + 2 * Hkv) * d;
    q = columns(qkv, T, width, 0, H * d);
    k = columns(qkv, T, width, H * d, Hkv * d);
    v = columns(qkv, T, width, (H + Hkv) * d, Hkv * d);
  } else {
    q = lin(A.qkv[0], h1); // [T, H·d]
    k = lin(A.qkv[1], h1); // [T, Hkv·d]
    v = lin(A.qkv[2], h1); // [T, Hkv·d]
  }
  if (A.qNorm) q = norm(A.qNorm, q, T * H); // every head on its own: [T·H, d]
  if (A.kNorm) k = norm(A.kNorm, k, T * Hkv);
  if (rope) {
    applyRopeSpec(q, T, H, d, rope, c.maxPositions);
    applyRopeSpec(k, T, Hkv, d, rope, c.maxPositions);
  }
  const att = causalAttention(q, H * d, 0, k, v, Hkv * d, 0, 0, T, H, Hkv, d, A.scale, window); // [T, H·d]
  let o = lin(A.o, att);
  if (L.attnOutNorm) o = norm(L.attnOutNorm, o);
  let Y = add(Float64Array.from(X), o);
  if (!pre) Y = norm(L.attnNorm, Y);

  // MLP: gated down(act(gate(x)) · up(x)) (gate and up fused in Phi-3), or plain down(act(up(x))).
  const M = L.mlp;
  const h2 = pre ? norm(L.mlpNorm, Y) : Y;
  let f: Float64Array;
  if (M.fused) {
    // Phi3MLP: gate_up_proj's output [T, 2·inter] is [gate | up]; up · act(gate).
    const gateUp = lin(M.up, h2);
    const inter = gateUp.length / T / 2;
    f = new Float64Array(T * inter);
    for (let t = 0; t < T; t++) {
      for (let i = 0; i < inter; i++) f[t * inter + i] = activation(M.activation, gateUp[t * 2 * inter + i]) * gateUp[t * 2 * inter + inter + i];
    }
  } else if (M.gate) {
    f = lin(M.gate, h2); // [T, inter]
    const up = lin(M.up, h2); // [T, inter]
    for (let i = 0; i < f.length; i++) f[i] = activation(M.activation, f[i]) * up[i];
  } else {
    f = lin(M.up, h2); // [T, inter]
    for (let i = 0; i < f.length; i++) f[i] = activation(M.activation, f[i]);
  }
  let down = lin(M.down, f);
  if (L.mlpOutNorm) down = norm(L.mlpOutNorm, down);
  add(Y, down);
  if (!pre) Y = norm(L.mlpNorm, Y);
  return Y;
}

/**
 * Final norm, project_out and LM head: X [T, hidden] → logits [T, vocab], softcapped as
 * Gemma3ForCausalLM does when final_logit_softcapping is set.
 */
export function finalLogits(model: ReferenceModel, X: Float64Array, T: number): Float64Array {
  const { config: c, layout } = model;
  const f = layout.finalNorm;
  let h = f ? applyNorm(f, X, T, tensor(model, `${f.name}.weight`), f.bias ? tensor(model, `${f.name}.bias`) : undefined) : X;
  if (layout.projectOut) h = linear(h, T, tensor(model, layout.projectOut), layout.embedDim, c.hiddenSize);
  const logits = linear(h, T, tensor(model, layout.lmHead), c.vocabSize, layout.embedDim);
  const cap = layout.logitSoftcap;
  if (cap !== null) for (let i = 0; i < logits.length; i++) logits[i] = cap * Math.tanh(logits[i] / cap);
  return logits;
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
  for (let t = 0; t + 1 < ids.length; t++) {
    // −(logSoftmax row t)[next] = lse − x, without making the row.
    const row = t * vocab;
    let max = -Infinity;
    for (let i = row; i < row + vocab; i++) if (logits[i] > max) max = logits[i];
    let s = 0;
    for (let i = row; i < row + vocab; i++) s += Math.exp(logits[i] - max);
    sum += max + Math.log(s) - logits[row + ids[t + 1]];
  }
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
