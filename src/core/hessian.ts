/**
 * Running-mean Hessian of a linear layer's inputs, as gptq.py GPTQ.add_batch:
 * H *= n/(n+k); n += k; H += (2/n)·XᵀX, with k the number of SEQUENCES in the batch.
 * After all batches H = (2/N)·Σ_tokens x xᵀ with N counted in sequences.
 */
import { assertFiniteMatrix } from './finite';

export class HessianAccumulator {
  readonly cols: number;
  /** [cols, cols], full symmetric */
  private readonly h: Float64Array;
  private n = 0;

  constructor(cols: number) {
    if (!Number.isInteger(cols) || cols < 1) throw new RangeError(`cols must be a positive integer, got ${cols}`);
    this.cols = cols;
    this.h = new Float64Array(cols * cols);
  }

  /** X: [tokens, cols] row-major, `sequences` sequences of tokens/sequences tokens each. */
  addBatch(X: Float32Array | Float64Array, tokens: number, sequences = 1): void {
    const n = this.cols;
    if (!Number.isInteger(tokens) || tokens < 0) throw new RangeError(`tokens must be an integer ≥ 0, got ${tokens}`);
    if (!Number.isInteger(sequences) || sequences < 1) {
      throw new RangeError(`sequences must be a positive integer, got ${sequences}`);
    }
    assertFiniteMatrix(X, tokens, n, 'X (calibration inputs)', 'token');
    const H = this.h;
    const k = sequences;
    const decay = this.n / (this.n + k);
    for (let i = 0; i < H.length; i++) H[i] *= decay;
    this.n += k;
    const f = 2 / this.n;
    for (let i = 0; i < n; i++) {
      for (let j = i; j < n; j++) {
        // (XᵀX)[i,j] = Σ_t X[t,i]·X[t,j]
        let s = 0;
        for (let t = 0; t < tokens; t++) s += X[t * n + i] * X[t * n + j];
        H[i * n + j] += f * s;
        if (j !== i) H[j * n + i] += f * s;
      }
    }
  }

  /** A copy of H [cols, cols]. */
  get H(): Float64Array {
    return this.h.slice();
  }

  /** Sequences seen so far. */
  get nsamples(): number {
    return this.n;
  }
}
