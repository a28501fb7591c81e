/**
 * The output error Σ ((W − Q)·Xᵀ)² computed through the GEMM (output-error.ts) against the f64
 * reference, token by token: shapes off every tile (rows, cols, tokens), one token, 2- and 8-bit
 * Q (8 bits: W − Q is tiny, what a W·Xᵀ − Q·Xᵀ would lose to cancellation), both GEMM kernels,
 * token chunks forced by a small scratch E and by a 4 KiB binding limit (which also splits W, Q
 * and X into windows).
 *
 * Tolerance, per token t: the GPU's e = Σ_c d·x in f32 (d = W − Q rounded once) is within
 * γ = (cols + 2)·u of Σ_c |d·x| (u = 2⁻²⁴, the standard bound for a sum of products), so e² is
 * within (2γ + γ²)·(Σ_c |d·x|)², and the f32 sum over rows adds rows·u of the sum: the bound is
 * (2γ + γ² + rows·u)·A_t with A_t = Σ_r (Σ_c |d·x|)² ≥ the exact value.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeRuntime } from '../../testing/node-gpu';
import { gaussian, seededRandom } from '../../testing/random';
import { rtnReference } from '../../core/rtn';
import { encodeOutputError, outputErrorChunk } from './output-error';
import { GEMM_VARIANTS, useGemmVariant } from './gemm';
import type { GpuRuntime } from '../runtime';

const U = 2 ** -24;

let rt: GpuRuntime;
let sliced: GpuRuntime;
beforeAll(async () => {
  rt = await nodeRuntime();
  // 4 KiB bindings: W and Q (ld 128 or 192) a few rows at a time, E 16 tokens (ld 64) or 4 (ld 256).
  sliced = await nodeRuntime({ bindingLimit: 4096 });
});
afterAll(() => {
  rt?.destroy();
  sliced?.destroy();
});

function makeCase(rows: number, cols: number, tokens: number, bits: number, seed: number) {
  const rand = seededRandom(seed);
  const W = Float32Array.from({ length: rows * cols }, () => gaussian(rand) * 0.1);
  const X = Float32Array.from({ length: tokens * cols }, (_, i) => gaussian(rand) * (1 + (i % cols) / cols));
  const Q = Float32Array.from(rtnReference(W, rows, cols, { bits, groupSize: 32, sym: false }).Q);
  return { W, Q, X, rows, cols, tokens };
}

/** Per token: the f64 Σ_r e², and A_t = Σ_r (Σ_c |d·x|)² for the bound. */
function reference(c: ReturnType<typeof makeCase>) {
  const { W, Q, X, rows, cols, tokens } = c;
  const exact = new Float64Array(tokens);
  const scale = new Float64Array(tokens);
  for (let r = 0; r < rows; r++) {
    for (let t = 0; t < tokens; t++) {
      let e = 0;
      let a = 0;
      for (let k = 0; k < cols; k++) {
        const p = (W[r * cols + k] - Q[r * cols + k]) * X[t * cols + k];
        e += p;
        a += Math.abs(p);
      }
      exact[t] += e * e;
      scale[t] += a * a;
    }
  }
  return { exact, scale };
}

async function gpuOutputError(r: GpuRuntime, c: ReturnType<typeof makeCase>, chunk?: number) {
  const W = r.matrix(c.rows, c.cols, 'test.W');
  const Q = r.matrix(c.rows, c.cols, 'test.Q');
  const X = r.matrix(c.tokens, c.cols, 'test.X');
  r.uploadMatrix(W, c.W);
  r.uploadMatrix(Q, c.Q);
  r.uploadMatrix(X, c.X);
  const E = r.matrix(chunk ?? outputErrorChunk(c.rows, c.tokens, r.bindingLimit), c.rows, 'test.E');
  const partial = r.storage(c.tokens * 4, 'test.partial');
  const rec = r.recorder('test.outputError');
  encodeOutputError(rec, W, Q, X, E, partial, r.bindingLimit);
  rec.finish();
  const sums = await r.readF32(partial, 0, c.tokens);
  const D = await r.readMatrix(Q);
  r.release(W, Q, X, E, partial);
  return { sums, D };
}

function expectWithinBound(sums: Float32Array, c: ReturnType<typeof makeCase>) {
  const { exact, scale } = reference(c);
  const g = (c.cols + 2) * U;
  const factor = 2 * g + g * g + c.rows * U;
  let total = 0;
  let totalRef = 0;
  for (let t = 0; t < c.tokens; t++) {
    expect(Number.isFinite(sums[t])).toBe(true);
    expect(Math.abs(sums[t] - exact[t])).toBeLessThanOrEqual(factor * scale[t]);
    total += sums[t];
    totalRef += exact[t];
  }
  expect(totalRef).toBeGreaterThan(0);
  // What the engine tests ask of the MSE (gptq-layer.test.ts).
  expect(Math.abs(total - totalRef) / totalRef).toBeLessThan(1e-4);
}

describe('output error through the GEMM', () => {
  const cases: [rows: number, cols: number, tokens: number, bits: number][] = [
    [37, 100, 53, 4], // nothing a multiple of a tile
    [70, 172, 1, 2], // one token
    [65, 129, 33, 8], // 8 bits: W − Q near the rounding of W
    [200, 64, 70, 2], // more rows than one GEMM tile column
  ];
  for (const variant of GEMM_VARIANTS) {
    for (const [rows, cols, tokens, bits] of cases) {
      it(`${rows}×${cols}, ${tokens} tokens, ${bits}-bit, ${variant.name}`, async () => {
        const c = makeCase(rows, cols, tokens, bits, rows * 1000 + tokens);
        for (const r of [rt, sliced]) {
          useGemmVariant(r, variant);
          const { sums, D } = await gpuOutputError(r, c);
          expectWithinBound(sums, c);
          // Q is left holding W − Q (rounded once to f32).
          for (let i = 0; i < D.length; i += 7) expect(D[i]).toBe(Math.fround(c.W[i] - c.Q[i]));
        }
        // Chunks of 7 tokens on the adapter's own limit (53 and 70 tokens: a partial last chunk).
        useGemmVariant(rt, variant);
        expectWithinBound((await gpuOutputError(rt, c, 7)).sums, c);
      });
    }
  }

  it('chunks tokens to fit the binding limit and the scratch cap', () => {
    expect(outputErrorChunk(37, 53, 4096)).toBe(16); // ld 64: 256 bytes a token
    expect(outputErrorChunk(200, 70, 4096)).toBe(4); // ld 256
    expect(outputErrorChunk(37, 10, 4096)).toBe(10);
    expect(outputErrorChunk(576, 1e6, 2 ** 30)).toBe(Math.floor((32 << 20) / (576 * 4)));
    expect(() => outputErrorChunk(2000, 10, 4096)).toThrow(/does not fit/);
  });
});
