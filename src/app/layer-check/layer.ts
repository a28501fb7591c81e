/**
 * A seeded random layer for the layer check: weights W and calibration inputs X.
 *
 * X is made with correlated, unevenly scaled columns (like real activations, where a few input
 * features are large and many move together), so that H = 2·XᵀX is far from a multiple of the
 * identity and GPTQ has something to gain over round-to-nearest.
 */
import { gaussian, seededRandom } from '../../core/random';

export interface LayerShape {
  seed: number;
  rows: number;
  cols: number;
  tokens: number;
}

export interface RandomLayer extends LayerShape {
  /** [rows, cols] */
  W: Float32Array;
  /** [tokens, cols] */
  X: Float32Array;
}

/** How many latent factors drive the columns of X (fewer than cols: columns move together). */
const LATENT_FACTORS = 8;

export function makeRandomLayer({ seed, rows, cols, tokens }: LayerShape): RandomLayer {
  const uniform = seededRandom(seed);
  const randn = () => gaussian(uniform);
  const W = new Float32Array(rows * cols);
  for (let i = 0; i < W.length; i++) W[i] = 0.1 * randn();

  // Column c of X = colScale[c] · (Σ_f Z[t, f]·A[f, c] + noise): a low-rank part plus noise.
  const k = Math.min(LATENT_FACTORS, cols);
  const A = new Float64Array(k * cols); // [k, cols]
  for (let i = 0; i < A.length; i++) A[i] = randn() / Math.sqrt(k);
  const colScale = new Float64Array(cols); // [cols]; every 7th column is an outlier feature
  for (let c = 0; c < cols; c++) colScale[c] = (c % 7 === 3 ? 4 : 1) * Math.exp(0.5 * randn());
  const X = new Float32Array(tokens * cols);
  const z = new Float64Array(k);
  for (let t = 0; t < tokens; t++) {
    for (let f = 0; f < k; f++) z[f] = randn();
    for (let c = 0; c < cols; c++) {
      let x = randn();
      for (let f = 0; f < k; f++) x += z[f] * A[f * cols + c];
      X[t * cols + c] = colScale[c] * x;
    }
  }
  return { seed, rows, cols, tokens, W, X };
}
