/**
 * The LM head and log-softmax a chunk of logits at a time, against the f64 log-softmax of the
 * f64 logits: one chunk, chunks of rows, chunks of rows and vocabulary columns (the running
 * log-sum-exp and argmax carried across chunks, ties to the first index), the softcap, the last
 * row's logits gathered from every chunk, and the targets it cannot score.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeRuntime } from '../../testing/node-gpu';
import { gaussian, seededRandom } from '../../testing/random';
import type { GpuRuntime } from '../../gpu/runtime';
import { FORWARD_STATUS, FORWARD_STATUS_SLOTS, NO_TARGET } from '../../gpu/kernels/forward';
import { encodeHeadScores, logitChunk } from './lm-head';

let rt: GpuRuntime;
beforeAll(async () => {
  rt = await nodeRuntime();
});
afterAll(() => rt?.destroy());

const [T, K, VOCAB] = [37, 48, 1000];

function data(seed: number) {
  const rand = seededRandom(seed);
  const X = Float32Array.from({ length: T * K }, () => Math.abs(gaussian(rand)));
  const W = Float32Array.from({ length: VOCAB * K }, () => 0.3 * gaussian(rand));
  // Rows 130 and 870 (in different vocabulary chunks) are equal and the largest logits of every token.
  for (const v of [130, 870]) for (let k = 0; k < K; k++) W[v * K + k] = 1;
  return { X, W };
}

/** f64 logits (softcapped), NLL and argmax. */
function reference(X: Float32Array, W: Float32Array, targets: number[], cap: number | null) {
  const nll: number[] = [];
  const argmax: number[] = [];
  const logits: Float64Array[] = [];
  for (let t = 0; t < T; t++) {
    const z = new Float64Array(VOCAB);
    for (let v = 0; v < VOCAB; v++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += X[t * K + k] * W[v * K + k];
      z[v] = cap === null ? s : cap * Math.tanh(s / cap);
    }
    let m = -Infinity;
    let am = 0;
    z.forEach((x, v) => {
      if (x > m) [m, am] = [x, v];
    });
    let sum = 0;
    for (const x of z) sum += Math.exp(x - m);
    nll.push(targets[t] === NO_TARGET ? 0 : m + Math.log(sum) - z[targets[t]]);
    argmax.push(am);
    logits.push(z);
  }
  return { nll, argmax, logits };
}

async function run(X: Float32Array, W: Float32Array, targets: number[], cap: number | null, chunkBytes: number, lastRow: number) {
  const x = rt.matrix(T, K, 'x');
  rt.uploadMatrix(x, X);
  const w = rt.matrix(VOCAB, K, 'w');
  rt.uploadMatrix(w, W);
  const tb = rt.storage(T * 4, 'targets');
  rt.upload(tb, 0, Uint32Array.from(targets));
  const nll = rt.storage(T * 4, 'nll');
  const argmax = rt.storage(T * 4, 'argmax');
  const status = rt.storage(FORWARD_STATUS_SLOTS * 4, 'status');
  const rec = rt.recorder('head');
  rec.clear(status);
  const head = encodeHeadScores(rt, rec, x, w, cap, { targets: tb, nll, argmax, status: { buffer: status, slot: FORWARD_STATUS.targetOutOfRange } }, lastRow, chunkBytes);
  rec.finish();
  const out = {
    nll: await rt.readF32(nll, 0, T),
    argmax: await rt.readU32(argmax, 0, T),
    last: await rt.readF32(head.lastLogits, 0, VOCAB),
    flag: (await rt.readU32(status, 0, FORWARD_STATUS_SLOTS))[FORWARD_STATUS.targetOutOfRange],
  };
  rt.release(x, w, tb, nll, argmax, status, ...head.temps);
  return out;
}

describe('LM head and log-softmax in chunks', () => {
  const targets = Array.from({ length: T }, (_, t) => (t === 5 ? NO_TARGET : (t * 131 + 7) % VOCAB));
  // [label, chunk bytes]: whole; rows of 16 × whole vocabulary; 16 rows × 64 columns.
  const sizes: [string, number][] = [['one chunk', 1 << 20], ['chunks of rows', 16 * 1024 * 4], ['chunks of rows and vocabulary', 4096]];
  for (const [label, bytes] of sizes) {
    for (const cap of [null, 3]) {
      it(`${label}${cap ? ', softcap 3' : ''}: NLL, argmax (first of a tie) and the last row's logits`, async () => {
        const { X, W } = data(1);
        const ref = reference(X, W, targets, cap);
        const lastRow = 21;
        const out = await run(X, W, targets, cap, bytes, lastRow);
        expect(out.flag).toBe(0);
        for (let t = 0; t < T; t++) {
          expect(Math.abs(out.nll[t] - ref.nll[t])).toBeLessThan(2e-5 * (1 + Math.abs(ref.nll[t])));
          expect(out.argmax[t]).toBe(ref.argmax[t]);
        }
        expect(ref.argmax.every((a) => a === 130)).toBe(true);
        for (let v = 0; v < VOCAB; v++) expect(Math.abs(out.last[v] - ref.logits[lastRow][v])).toBeLessThan(1e-4);
      });
    }
  }

  it('the chunk shapes: whole vocabulary rows while 64 rows fit, else 64 rows of vocabulary columns', () => {
    const m = (cols: number) => ({ ld: Math.ceil(cols / 64) * 64 });
    expect(logitChunk(4096, 512, m(64), m(64), 2 ** 30)).toEqual({ rows: 4096, cols: 512 });
    expect(logitChunk(512, 50257, m(768), m(768), 2 ** 30)).toEqual({ rows: 166, cols: 50257 });
    expect(logitChunk(4096, 151936, m(896), m(896), 2 ** 30)).toEqual({ rows: 64, cols: 131072 });
    expect(logitChunk(1, 151936, m(896), m(896), 2 ** 30)).toEqual({ rows: 1, cols: 151936 });
  });

  it('raises the status word and gives NaN for a target ≥ vocab, in the last vocabulary chunk', async () => {
    const { X, W } = data(2);
    const bad = [...targets];
    bad[3] = VOCAB;
    bad[9] = VOCAB + 77;
    const out = await run(X, W, bad, null, 4096, T - 1);
    expect(out.flag).toBe(1);
    expect(out.nll[3]).toBeNaN();
    expect(out.nll[9]).toBeNaN();
    expect(out.nll[5]).toBe(0);
    expect(Number.isFinite(out.nll[4])).toBe(true);
  });
});
