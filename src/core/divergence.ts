/**
 * How far a quantized model's next-token distributions are from the original's: the statistics
 * llama.cpp's perplexity tool prints with --kl-divergence (tools/perplexity/perplexity.cpp,
 * kl_divergence and its log_softmax), with the same definitions:
 *   per token t, with P the original's softmax and Q the quantized model's, both over the vocabulary:
 *     KLD_t   = Σ_v P_v (log P_v − log Q_v)                    (nats)
 *     agree_t = argmax P == argmax Q                           (first index on ties)
 *     Δp_t    = Q(target_t) − P(target_t)                      (probability of the correct next token)
 *   over the scored tokens of a text: mean KLD, its 99th percentile (linear interpolation at
 *   0.99·(n − 1) of the sorted values, llama.cpp's `percentile`) and maximum, the share of tokens
 *   whose top-1 agrees, and RMS Δp = √(mean Δp²).
 * f64 here: the reference the GPU kernel (shaders/divergence.wgsl) is checked against, and the
 * accumulator that turns the kernel's per-token values into the statistics.
 */

/** One scored token. */
export interface TokenDivergence {
  /** KL(P ‖ Q) in nats. */
  kld: number;
  /** The two models' most likely next tokens are the same. */
  agree: boolean;
  /** P(target) of the original model. */
  pOriginal: number;
  /** Q(target) of the quantized model. */
  pQuantized: number;
}

/** The statistics of one quantized model on one text, as report.json writes them. */
export interface DivergenceStats {
  /** Mean KL divergence per token, nats. */
  kld_mean: number;
  /** 99th percentile of the per-token KL divergence. */
  kld_p99: number;
  kld_max: number;
  /** Share of tokens whose top-1 prediction agrees with the original's, 0..1. */
  top1_agree: number;
  /** RMS of Q(target) − P(target), 0..1. */
  dp_rms: number;
}

function argmaxOf(row: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

function logSoftmaxOf(row: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i] > max) max = row[i];
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i] - max);
  const lse = max + Math.log(sum);
  return Float64Array.from(row, (x) => x - lse);
}

/**
 * The divergence of one token in f64, from the two models' logits [vocab] at that position and
 * the correct next token. Throws on a target outside the vocabulary or rows of different lengths.
 */
export function tokenDivergence(original: ArrayLike<number>, quantized: ArrayLike<number>, target: number): TokenDivergence {
  if (original.length !== quantized.length || original.length === 0) {
    throw new RangeError(`logits of ${original.length} and ${quantized.length} entries: the two models must share a non-empty vocabulary`);
  }
  if (!(Number.isInteger(target) && target >= 0 && target < original.length)) {
    throw new RangeError(`target ${target} is outside the vocabulary of ${original.length}`);
  }
  const lp = logSoftmaxOf(original);
  const lq = logSoftmaxOf(quantized);
  let kld = 0;
  for (let v = 0; v < lp.length; v++) kld += Math.exp(lp[v]) * (lp[v] - lq[v]);
  return { kld, agree: argmaxOf(original) === argmaxOf(quantized), pOriginal: Math.exp(lp[target]), pQuantized: Math.exp(lq[target]) };
}

/**
 * Every scored token of windows of `seqlen` ids, from both models' logits [windows·seqlen, vocab]:
 * position t predicts ids[t + 1] within its window (the last position of a window is not scored),
 * as the perplexity is measured.
 */
export function divergenceOfWindows(original: ArrayLike<number>, quantized: ArrayLike<number>, ids: ArrayLike<number>, seqlen: number, vocab: number): TokenDivergence[] {
  const T = ids.length;
  if (T % seqlen !== 0 || original.length !== T * vocab || quantized.length !== T * vocab) {
    throw new RangeError(`expected logits of ${T} tokens × ${vocab} for windows of ${seqlen}, got ${original.length} and ${quantized.length} values`);
  }
  const out: TokenDivergence[] = [];
  const row = (a: ArrayLike<number>, t: number) => Array.prototype.slice.call(a, t * vocab, (t + 1) * vocab) as number[];
  for (let t = 0; t < T; t++) {
    if ((t + 1) % seqlen === 0) continue;
    out.push(tokenDivergence(row(original, t), row(quantized, t), ids[t + 1]));
  }
  return out;
}

/** llama.cpp's percentile of sorted values: linear interpolation at fraction·(n − 1). */
export function percentile(sorted: ArrayLike<number>, fraction: number): number {
  const n = sorted.length;
  if (n === 0) throw new RangeError('percentile of no values');
  if (fraction <= 0) return sorted[0];
  if (fraction >= 1) return sorted[n - 1];
  const p = fraction * (n - 1);
  const i = Math.floor(p);
  const f = p - i;
  return (1 - f) * sorted[i] + f * sorted[Math.min(i + 1, n - 1)];
}

/**
 * Gathers per-token values (in any number of pieces) and gives the statistics. Holds one f32 KLD
 * per token for the percentile (the logits themselves are never kept).
 */
export class DivergenceAccumulator {
  private klds: Float32Array = new Float32Array(1024);
  private n = 0;
  private sumKld = 0;
  private maxKld = -Infinity;
  private agreeing = 0;
  private sumDp2 = 0;

  get count(): number {
    return this.n;
  }

  add(kld: number, agree: boolean, pOriginal: number, pQuantized: number): void {
    if (![kld, pOriginal, pQuantized].every(Number.isFinite)) {
      throw new RangeError(`token ${this.n}: a divergence value is not finite (KLD ${kld}, p ${pOriginal} → ${pQuantized})`);
    }
    if (this.n === this.klds.length) {
      const grown = new Float32Array(this.klds.length * 2);
      grown.set(this.klds);
      this.klds = grown;
    }
    this.klds[this.n++] = kld;
    this.sumKld += kld;
    this.maxKld = Math.max(this.maxKld, kld);
    if (agree) this.agreeing++;
    const dp = pQuantized - pOriginal;
    this.sumDp2 += dp * dp;
  }

  addToken(t: TokenDivergence): void {
    this.add(t.kld, t.agree, t.pOriginal, t.pQuantized);
  }

  /** The statistics over every token added; throws when none was. */
  stats(): DivergenceStats {
    if (this.n === 0) throw new RangeError('no tokens were scored');
    const sorted = this.klds.slice(0, this.n).sort();
    return {
      kld_mean: this.sumKld / this.n,
      kld_p99: percentile(sorted, 0.99),
      kld_max: this.maxKld,
      top1_agree: this.agreeing / this.n,
      dp_rms: Math.sqrt(this.sumDp2 / this.n),
    };
  }
}

/** The statistics of a list of tokens (the f64 reference of what the accumulator gives). */
export function divergenceStats(tokens: readonly TokenDivergence[]): DivergenceStats {
  if (tokens.length === 0) throw new RangeError('no tokens were scored');
  const sorted = tokens.map((t) => t.kld).sort((a, b) => a - b);
  const dp2 = tokens.reduce((s, t) => s + (t.pQuantized - t.pOriginal) ** 2, 0);
  return {
    kld_mean: sorted.reduce((s, v) => s + v, 0) / tokens.length,
    kld_p99: percentile(sorted, 0.99),
    kld_max: sorted[sorted.length - 1],
    top1_agree: tokens.filter((t) => t.agree).length / tokens.length,
    dp_rms: Math.sqrt(dp2 / tokens.length),
  };
}
