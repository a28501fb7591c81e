/** AdamW (decoupled weight decay) over the flat parameter array, with warmup + cosine learning rate. */
import type { Vec } from './kernels';
import type { Params } from './model';

export interface AdamWOptions {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export class AdamW {
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  private readonly decay: Uint8Array;
  private t = 0;

  constructor(private readonly params: Params, private readonly o: AdamWOptions) {
    const size = params.data.length;
    this.m = new Float32Array(size);
    this.v = new Float32Array(size);
    this.decay = new Uint8Array(size);
    for (const s of params.specs) if (s.decay) this.decay.fill(1, s.offset, s.offset + s.size);
  }

  /** One update with learning rate lr; grads are consumed as given (clip them first). */
  step(grads: Vec, lr: number): void {
    const { beta1, beta2, eps, weightDecay } = this.o;
    this.t++;
    const c1 = 1 / (1 - beta1 ** this.t);
    const c2 = 1 / (1 - beta2 ** this.t);
    const p = this.params.data;
    const { m, v, decay } = this;
    for (let i = 0; i < p.length; i++) {
      const g = grads[i];
      m[i] = beta1 * m[i] + (1 - beta1) * g;
      v[i] = beta2 * v[i] + (1 - beta2) * g * g;
      const update = (m[i] * c1) / (Math.sqrt(v[i] * c2) + eps);
      p[i] -= lr * (update + (decay[i] ? weightDecay * p[i] : 0));
    }
  }
}

/** Linear warmup to peak over `warmup` steps, then cosine decay to minLr at `total`. */
export function learningRate(step: number, total: number, warmup: number, peak: number, minLr: number): number {
  if (step < warmup) return (peak * (step + 1)) / warmup;
  const progress = Math.min(1, (step - warmup) / Math.max(1, total - warmup));
  return minLr + 0.5 * (peak - minLr) * (1 + Math.cos(Math.PI * progress));
}

/** Scales grads so their global L2 norm is at most maxNorm; returns the norm before clipping. */
export function clipGradients(grads: Vec, maxNorm: number): number {
  let ss = 0;
  for (let i = 0; i < grads.length; i++) ss += grads[i] * grads[i];
  const norm = Math.sqrt(ss);
  if (norm > maxNorm) {
    const k = maxNorm / norm;
    for (let i = 0; i < grads.length; i++) grads[i] *= k;
  }
  return norm;
}
