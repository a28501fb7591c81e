/**
 * The GPU GPTQ engine against the f64 reference (src/core) and IST-DASLab's own outputs.
 *
 * Tolerances, and why: the GPU computes in f32, the reference in f64. Where x/scale is exactly
 * k + ½ the two may round to different neighbours, and such ties are common on symmetric grids:
 * a group's most negative weight sits at −(2^(bits−1) − ½)·scale by construction, so a group
 * whose first column (a block start, or a one-column last group) holds that weight is a tie.
 * A flip then feeds back into the rest of its row. So: codes may differ by one grid step, in at
 * most 0.5% of entries (measured: 0 in most cases, 0.09% in the worst); rows where every code
 * agrees must agree in Q to 1e-3 of a grid step (measured ≤ 2e-5); the loss to 0.5% (measured
 * ≤ 1e-5). RTN must differ only at exact ties (checked entry by entry).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { nodeRuntime } from '../testing/node-gpu';
import { GptqLayer } from './gptq-layer';
import { HessianAccumulator } from '../core/hessian';
import { gptqReference } from '../core/gptq-reference';
import { rtnReference } from '../core/rtn';
import { outputMse } from '../core/metrics';
import { gaussian, seededRandom } from '../testing/random';
import { loadIstFixtures } from '../testing/ist-fixtures';
import { compareQuant } from '../testing/compare-quant';
import { GEMM_VARIANTS, useGemmVariant } from '../gpu/kernels/gemm';
import type { GpuRuntime } from '../gpu/runtime';
import type { QuantOptions } from '../core/types';

const MAX_CODE_MISMATCH_RATE = 0.005;
const MAX_Q_ERROR_IN_SCALES = 1e-3;
const MAX_LOSS_REL_ERROR = 5e-3;

/** A layer with Gaussian W and inputs whose columns have varied scales (so act-order matters). */
function makeLayer(rows: number, cols: number, tokens: number, seed: number, deadCols: number[] = []) {
  const rand = seededRandom(seed);
  const W = Float32Array.from({ length: rows * cols }, () => gaussian(rand) * 0.1);
  const colScale = Float64Array.from({ length: cols }, () => Math.exp(0.75 * gaussian(rand)));
  const X = new Float32Array(tokens * cols);
  for (let t = 0; t < tokens; t++) for (let c = 0; c < cols; c++) X[t * cols + c] = gaussian(rand) * colScale[c];
  for (const c of deadCols) for (let t = 0; t < tokens; t++) X[t * cols + c] = 0;
  return { W, X, rows, cols, tokens };
}

interface Case {
  name: string;
  rows: number;
  cols: number;
  tokens: number;
  o: Partial<QuantOptions>;
  dead?: number[];
}

const cases: Case[] = [
  { name: '64×64 4-bit per row sym', rows: 64, cols: 64, tokens: 256, o: { bits: 4 } },
  { name: '172×64 4-bit g32 asym', rows: 172, cols: 64, tokens: 256, o: { bits: 4, groupSize: 32, sym: false } },
  { name: '64×172 4-bit g32 (partial last group)', rows: 64, cols: 172, tokens: 256, o: { bits: 4, groupSize: 32 } },
  { name: '64×172 3-bit g128 asym (group > remaining)', rows: 64, cols: 172, tokens: 256, o: { bits: 3, groupSize: 128, sym: false } },
  { name: '64×172 8-bit per row asym', rows: 64, cols: 172, tokens: 256, o: { bits: 8, sym: false } },
  { name: '64×172 2-bit g32 sym MSE', rows: 64, cols: 172, tokens: 256, o: { bits: 2, groupSize: 32, mse: true } },
  { name: '64×172 3-bit per row asym MSE', rows: 64, cols: 172, tokens: 256, o: { bits: 3, sym: false, mse: true } },
  // Static groups without act-order: grids from W before the updates (differs from the default past column 128).
  { name: '64×172 3-bit g32 static groups without act-order', rows: 64, cols: 172, tokens: 256, o: { bits: 3, groupSize: 32, staticGroups: true } },
  { name: '300×513 4-bit g128 act-order', rows: 300, cols: 513, tokens: 1024, o: { bits: 4, groupSize: 128, actOrder: true } },
  {
    name: '300×513 2-bit g32 asym act-order static groups',
    rows: 300,
    cols: 513,
    tokens: 1024,
    o: { bits: 2, groupSize: 32, sym: false, actOrder: true, staticGroups: true },
  },
  { name: '300×513 3-bit per row act-order', rows: 300, cols: 513, tokens: 1024, o: { bits: 3, actOrder: true } },
  {
    name: '48×96 dead columns 4-bit g32 act-order',
    rows: 48,
    cols: 96,
    tokens: 192,
    o: { bits: 4, groupSize: 32, actOrder: true },
    dead: [0, 5, 31, 32, 95],
  },
  { name: '48×96 dead columns 4-bit per row asym', rows: 48, cols: 96, tokens: 192, o: { bits: 4, sym: false }, dead: [3, 64] },
  { name: '32×128 ill-conditioned (12 tokens) act-order', rows: 32, cols: 128, tokens: 12, o: { bits: 4, actOrder: true } },
  { name: '40×200 g48 with blocks of 32 (groups straddle blocks)', rows: 40, cols: 200, tokens: 256, o: { bits: 4, groupSize: 48, blockSize: 32 } },
  { name: '1×1 layer', rows: 1, cols: 1, tokens: 4, o: { bits: 4 } },
];

let rt: GpuRuntime;
beforeAll(async () => {
  rt = await nodeRuntime();
});
afterAll(() => rt?.destroy());

async function gpuRun(W: Float32Array, X: Float32Array, rows: number, cols: number, tokens: number, o: Partial<QuantOptions>, runtime = rt) {
  const layer = new GptqLayer(runtime, 'test', W, rows, cols);
  try {
    await layer.addBatch(X, tokens, 1);
    return await layer.quantize(o);
  } finally {
    layer.dispose();
  }
}

describe('GPU GPTQ against the f64 reference', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const { W, X } = makeLayer(c.rows, c.cols, c.tokens, c.rows * 7919 + c.cols, c.dead);
      const H = new HessianAccumulator(c.cols);
      H.addBatch(X, c.tokens, 1);
      const ref = gptqReference(W, H.H, c.rows, c.cols, c.o);
      const gpu = await gpuRun(W, X, c.rows, c.cols, c.tokens, c.o);
      const a = compareQuant(gpu, ref);
      const lossErr = Math.abs(gpu.loss - ref.loss) / Math.max(ref.loss, 1e-12);
      console.log(
        `${c.name}: codes differ ${a.codeMismatches}/${c.rows * c.cols} in ${a.rowsDiverged} rows, ` +
          `max ΔQ ${a.maxQErrorInScales.toExponential(1)} steps, loss rel ${lossErr.toExponential(1)}`,
      );
      expect(a.codeMismatchRate).toBeLessThanOrEqual(MAX_CODE_MISMATCH_RATE);
      expect(a.maxCodeStep).toBeLessThanOrEqual(1);
      expect(a.maxQErrorInScales).toBeLessThanOrEqual(MAX_Q_ERROR_IN_SCALES);
      expect(a.gIdxEqual).toBe(true);
      expect(lossErr).toBeLessThanOrEqual(MAX_LOSS_REL_ERROR);
      expect(gpu.perm ? Array.from(gpu.perm) : null).toEqual(ref.perm ? Array.from(ref.perm) : null);
      expect(gpu.deadColumns).toEqual(ref.deadColumns);
      expect(gpu.damp).toBeCloseTo(ref.damp, 4);
      expect(gpu.fellBackToRtn).toBe(false);
    });
  }
});

// The sweep kernel works in sub-blocks of 8 columns: block sizes that cut them (1, 7, 13, a
// block wider than 128) and a last block shorter than a sub-block, against the f64 reference.
describe('GPU GPTQ sweep sub-blocks against the f64 reference', () => {
  for (const c of [
    { rows: 70, cols: 333, tokens: 300, o: { bits: 4, groupSize: 16, blockSize: 7 } },
    { rows: 9, cols: 130, tokens: 300, o: { bits: 3, groupSize: 32, blockSize: 1 } },
    { rows: 20, cols: 45, tokens: 200, o: { bits: 4, blockSize: 13, actOrder: true } },
    { rows: 70, cols: 333, tokens: 300, o: { bits: 4, groupSize: 64, blockSize: 200, sym: false } },
  ] satisfies Omit<Case, 'name'>[]) {
    it(`${c.rows}×${c.cols} ${JSON.stringify(c.o)}`, async () => {
      const { W, X } = makeLayer(c.rows, c.cols, c.tokens, c.rows * 31 + c.cols);
      const H = new HessianAccumulator(c.cols);
      H.addBatch(X, c.tokens, 1);
      const ref = gptqReference(W, H.H, c.rows, c.cols, c.o);
      const gpu = await gpuRun(W, X, c.rows, c.cols, c.tokens, c.o);
      const a = compareQuant(gpu, ref);
      expect(a.codeMismatchRate).toBeLessThanOrEqual(MAX_CODE_MISMATCH_RATE);
      expect(a.maxCodeStep).toBeLessThanOrEqual(1);
      expect(a.maxQErrorInScales).toBeLessThanOrEqual(MAX_Q_ERROR_IN_SCALES);
      expect(Math.abs(gpu.loss - ref.loss) / ref.loss).toBeLessThanOrEqual(MAX_LOSS_REL_ERROR);
    });
  }
});

// The GEMM and the sweep come in a GPU shape and a CPU shape (4 rows per sweep invocation,
// sub-blocks of 16), chosen per adapter by tuneGemm; both must give the same bits.
describe('GPU- and CPU-shaped kernels agree bit for bit', () => {
  for (const c of [
    { rows: 70, cols: 333, tokens: 300, o: { bits: 4, groupSize: 16, blockSize: 7 } },
    { rows: 45, cols: 200, tokens: 256, o: { bits: 3, groupSize: 32, actOrder: true, staticGroups: true, sym: false } },
    { rows: 9, cols: 130, tokens: 300, o: { bits: 4, blockSize: 40 } },
    { rows: 1, cols: 1, tokens: 4, o: { bits: 4 } },
  ] satisfies Omit<Case, 'name'>[]) {
    it(`${c.rows}×${c.cols} ${JSON.stringify(c.o)}`, async () => {
      const { W, X } = makeLayer(c.rows, c.cols, c.tokens, c.rows * 17 + c.cols);
      const results = [];
      for (const variant of GEMM_VARIANTS) {
        const runtime = await nodeRuntime();
        try {
          useGemmVariant(runtime, variant);
          results.push(await gpuRun(W, X, c.rows, c.cols, c.tokens, c.o, runtime));
        } finally {
          runtime.destroy();
        }
      }
      expect(new Set(GEMM_VARIANTS.map((v) => v.forCpu)).size).toBe(2);
      for (const r of results.slice(1)) {
        expect(Array.from(r.Q)).toEqual(Array.from(results[0].Q));
        expect(Array.from(r.codes)).toEqual(Array.from(results[0].codes));
        expect(Array.from(r.scales)).toEqual(Array.from(results[0].scales));
        expect(r.loss).toBe(results[0].loss);
      }
    });
  }
});

describe('GPU GPTQ reproduces IST-DASLab/gptq', () => {
  for (const f of loadIstFixtures()) {
    it(f.name, async () => {
      const gpu = await gpuRun(f.W, f.X, f.rows, f.cols, f.tokens, f.options);
      let mismatches = 0;
      for (let i = 0; i < f.Q.length; i++) if (Math.abs(gpu.Q[i] - f.Q[i]) > 1e-4 * (1 + Math.abs(f.Q[i]))) mismatches++;
      const mse = outputMse(f.W, gpu.Q, f.X, f.rows, f.cols, f.tokens);
      console.log(`${f.name}: Q differs at ${mismatches}/${f.Q.length}, loss ${gpu.loss} vs ${f.loss}`);
      expect(mismatches / f.Q.length).toBeLessThanOrEqual(MAX_CODE_MISMATCH_RATE);
      expect(Math.abs(gpu.loss - f.loss) / f.loss).toBeLessThanOrEqual(MAX_LOSS_REL_ERROR);
      expect(Math.abs(mse - f.outputMse) / f.outputMse).toBeLessThanOrEqual(MAX_LOSS_REL_ERROR);
    });
  }
});

describe('bindings split into windows', () => {
  // 128 KiB holds one block of 128 rows of this layer's inverse factor (the smallest window the
  // sweep accepts) and splits W, X, H and the factor into several windows each.
  it('gives the same result with a 128 KiB binding limit as with the adapter limit', async () => {
    const small = await nodeRuntime({ bindingLimit: 128 << 10 });
    try {
      for (const o of [
        { bits: 4, groupSize: 32, actOrder: true },
        { bits: 3, sym: false, mse: true },
      ] satisfies Partial<QuantOptions>[]) {
        const { W, X, rows, cols, tokens } = makeLayer(150, 200, 300, 42);
        const whole = await gpuRun(W, X, rows, cols, tokens, o);
        const sliced = await gpuRun(W, X, rows, cols, tokens, o, small);
        const a = compareQuant(sliced, whole);
        expect(a.codeMismatchRate).toBeLessThanOrEqual(MAX_CODE_MISMATCH_RATE);
        expect(Math.abs(sliced.loss - whole.loss) / whole.loss).toBeLessThan(1e-3);
        const rtnSmall = new GptqLayer(small, 'rtn', W, rows, cols);
        const rtnWhole = new GptqLayer(rt, 'rtn', W, rows, cols);
        expect(Array.from((await rtnSmall.rtn(o)).codes)).toEqual(Array.from((await rtnWhole.rtn(o)).codes));
        const mseSmall = await rtnSmall.outputMse(whole.Q as Float32Array, X, tokens);
        const mseWhole = await rtnWhole.outputMse(whole.Q as Float32Array, X, tokens);
        expect(Math.abs(mseSmall - mseWhole) / mseWhole).toBeLessThan(1e-4);
        rtnSmall.dispose();
        rtnWhole.dispose();
      }
    } finally {
      small.destroy();
    }
  });
});

describe('RTN and output error on the GPU', () => {
  for (const o of [
    { bits: 4 },
    { bits: 3, groupSize: 32, sym: false },
    { bits: 2, groupSize: 128, mse: true },
    { bits: 8, groupSize: 48, sym: false, mse: true },
  ] satisfies Partial<QuantOptions>[]) {
    it(`RTN ${JSON.stringify(o)} equals the reference`, async () => {
      const { W, X, rows, cols, tokens } = makeLayer(70, 172, 96, 5);
      const layer = new GptqLayer(rt, 'rtn', W, rows, cols);
      const gpu = await layer.rtn(o);
      const ref = rtnReference(W, rows, cols, o);
      const a = compareQuant(gpu, ref);
      expect(a.maxScaleRelError).toBeLessThan(1e-6);
      expect(a.zeroMismatches).toBe(0);
      // Every differing code is an exact tie x/scale = k + ½ (f32 and f64 may round it differently).
      let ties = 0;
      for (let i = 0; i < gpu.codes.length; i++) {
        if (gpu.codes[i] === ref.codes[i]) continue;
        const r = Math.floor(i / cols);
        const v = Math.abs(W[i] / ref.scales[ref.gIdx[i % cols] * rows + r]);
        expect(Math.abs(v - Math.floor(v) - 0.5)).toBeLessThan(1e-6);
        expect(Math.abs(gpu.codes[i] - ref.codes[i])).toBe(1);
        ties++;
      }
      console.log(`RTN ${JSON.stringify(o)}: ${ties} ties rounded differently of ${gpu.codes.length}`);
      const mse = await layer.outputMse(gpu.Q as Float32Array, X, tokens);
      const mseRef = outputMse(W, gpu.Q, X, rows, cols, tokens);
      expect(Math.abs(mse - mseRef) / mseRef).toBeLessThan(1e-4);
      layer.dispose();
    });
  }

  it('GPTQ has a lower output error than RTN on the same grid', async () => {
    const { W, X, rows, cols, tokens } = makeLayer(64, 128, 512, 9);
    const layer = new GptqLayer(rt, 'compare', W, rows, cols);
    await layer.addBatch(X, tokens);
    for (const o of [{ bits: 4, groupSize: 32 }, { bits: 3, groupSize: 32, sym: false }]) {
      const g = await layer.quantize(o);
      const r = await layer.rtn(o);
      const mseG = await layer.outputMse(g.Q as Float32Array, X, tokens);
      const mseR = await layer.outputMse(r.Q as Float32Array, X, tokens);
      expect(mseG).toBeLessThan(0.9 * mseR);
    }
    layer.dispose();
  });
});

describe('Hessian accumulation', () => {
  it('is the running mean over batches, as the reference', async () => {
    const { W, X, rows, cols } = makeLayer(8, 70, 100, 11);
    const layer = new GptqLayer(rt, 'hessian', W, rows, cols);
    const ref = new HessianAccumulator(cols);
    await layer.addBatch(X.subarray(0, 30 * cols), 30, 1);
    ref.addBatch(X.subarray(0, 30 * cols), 30, 1);
    await layer.addBatch(X.subarray(30 * cols), 70, 3);
    ref.addBatch(X.subarray(30 * cols), 70, 3);
    const H = await layer.readHessian();
    let maxErr = 0;
    let maxAbs = 0;
    ref.H.forEach((h, i) => {
      maxErr = Math.max(maxErr, Math.abs(H[i] - h));
      maxAbs = Math.max(maxAbs, Math.abs(h));
    });
    expect(maxErr / maxAbs).toBeLessThan(1e-5);
    expect(layer.samples).toBe(4);
    layer.dispose();
  });

  it('keeps diag(H) as accumulated, before damping and the dead-column fix, after quantizing too', async () => {
    const { W, X, rows, cols, tokens } = makeLayer(8, 40, 50, 12, [3]);
    const layer = new GptqLayer(rt, 'hessian-diag', W, rows, cols);
    await layer.addBatch(X, tokens, 2);
    const ref = new HessianAccumulator(cols);
    ref.addBatch(X, tokens, 2);
    const expected = Array.from({ length: cols }, (_, i) => ref.H[i * cols + i]);
    const before = await layer.readHessianDiag();
    await layer.quantize({ bits: 4, actOrder: true, percDamp: 0.1 });
    const after = await layer.readHessianDiag();
    for (const diag of [before, after]) {
      expect(diag[3]).toBe(0); // the dead column stays 0 (the fix sets 1 only in GPTQ's working copy)
      diag.forEach((d, i) => expect(Math.abs(d - expected[i])).toBeLessThanOrEqual(1e-5 * expected[i]));
    }
    layer.dispose();
  });
});

describe('linears that read one input share H and its factor', () => {
  it('gives, bit for bit, what separate layers give, over damping retries and a requantization', async () => {
    // Three linears on one input [tokens, 96] (q/k/v-like: different rows), one dead column, act-order.
    const cols = 96;
    const shapes = [[24, 1], [8, 2], [40, 3]] as const;
    const { X, tokens } = makeLayer(1, cols, 60, 21, [5]);
    const Ws = shapes.map(([rows, seed]) => makeLayer(rows, cols, 1, seed).W);
    const runs = [
      { bits: 4, groupSize: 32, actOrder: true, percDamp: 0.01 },
      { bits: 3, groupSize: 32, actOrder: true, percDamp: 0.01 }, // the same factor, another grid
      { bits: 4, groupSize: -1, actOrder: false, percDamp: 0.05 }, // another factor
    ];
    const alone = [];
    for (let i = 0; i < shapes.length; i++) {
      const layer = new GptqLayer(rt, `alone${i}`, Ws[i], shapes[i][0], cols);
      await layer.addBatch(X, tokens, 3);
      const results = [];
      for (const o of runs) results.push(await layer.quantize(o));
      alone.push(results);
      layer.dispose();
    }
    const before = rt.pool.stats.bytesInUse;
    const owner = new GptqLayer(rt, 'shared0', Ws[0], shapes[0][0], cols);
    const layers = [owner, ...[1, 2].map((i) => new GptqLayer(rt, `shared${i}`, Ws[i], shapes[i][0], cols, { hessianOf: owner }))];
    await owner.addBatch(X, tokens, 3);
    expect(layers.map((l) => l.samples)).toEqual([3, 3, 3]);
    for (const o of runs) {
      for (let i = 0; i < layers.length; i++) {
        const r = await layers[i].quantize(o);
        const a = alone[i][runs.indexOf(o)];
        for (const k of ['codes', 'scales', 'zeros', 'Q', 'perm', 'deadColumns'] as const) expect(r[k], `${k} of ${i}`).toEqual(a[k]);
        expect([r.loss, r.percDampUsed, r.damp, r.dampAttempts]).toEqual([a.loss, a.percDampUsed, a.damp, a.dampAttempts]);
      }
    }
    layers.forEach((l) => l.dispose());
    expect(rt.pool.stats.bytesInUse).toBe(before);
  });

  it('shares the damping retries too, and refuses an H of another width', async () => {
    const rows = 4;
    const cols = 64;
    const X = new Float32Array(8 * cols).fill(0.5);
    const W = (k: number) => Float32Array.from({ length: rows * cols }, (_, i) => Math.sin(k * i));
    const owner = new GptqLayer(rt, 'retry0', W(1), rows, cols);
    const other = new GptqLayer(rt, 'retry1', W(2), rows, cols, { hessianOf: owner });
    await owner.addBatch(X, 8);
    for (const layer of [owner, other]) {
      const r = await layer.quantize({ bits: 4, percDamp: 0 });
      expect([r.dampAttempts, r.fellBackToRtn]).toEqual([2, false]);
      expect(r.percDampUsed).toBeCloseTo(0.01, 12);
    }
    expect(() => new GptqLayer(rt, 'narrow', W(3).subarray(0, rows * 32), rows, 32, { hessianOf: owner })).toThrow(/cannot share the H of "retry0"/);
    owner.dispose();
    // The H outlives the layer that made it while another uses it.
    expect((await other.quantize({ bits: 4, percDamp: 0 })).dampAttempts).toBe(2);
    other.dispose();
  });
});

describe('failures', () => {
  it('raises the damping when H is not positive definite, as the reference', async () => {
    // 64 identical input columns of 0.5 over 8 tokens: H = 2·XᵀX is all 4s and the second pivot is exactly 0.
    const rows = 4;
    const cols = 64;
    const tokens = 8;
    const W = Float32Array.from({ length: rows * cols }, (_, i) => Math.sin(i));
    const X = new Float32Array(tokens * cols).fill(0.5);
    const gpu = await gpuRun(W, X, rows, cols, tokens, { bits: 4, percDamp: 0 });
    const H = new HessianAccumulator(cols);
    H.addBatch(X, tokens, 1);
    const ref = gptqReference(W, H.H, rows, cols, { bits: 4, percDamp: 0 });
    expect(ref.percDampUsed).toBeCloseTo(0.01, 12);
    expect(gpu.percDampUsed).toBeCloseTo(0.01, 12);
    expect(gpu.dampAttempts).toBe(2);
    expect(gpu.fellBackToRtn).toBe(false);
    expect(compareQuant(gpu, ref).codeMismatchRate).toBeLessThanOrEqual(MAX_CODE_MISMATCH_RATE);
  });

  it('falls back to RTN when every damping attempt fails, and says so', async () => {
    const rows = 4;
    const cols = 64;
    const W = Float32Array.from({ length: rows * cols }, (_, i) => Math.cos(i));
    const X = new Float32Array(8 * cols).fill(0.5);
    const layer = new GptqLayer(rt, 'fallback', W, rows, cols);
    await layer.addBatch(X, 8);
    const res = await layer.quantize({ bits: 4, percDamp: 0, maxDampRetries: 0 });
    expect(res.fellBackToRtn).toBe(true);
    expect(res.dampAttempts).toBe(1);
    expect(Array.from(res.codes)).toEqual(Array.from((await layer.rtn({ bits: 4 })).codes));
    layer.dispose();
  });

  it('names the layer when W holds NaN', async () => {
    const { W, X, rows, cols, tokens } = makeLayer(8, 32, 16, 3);
    W[17] = Number.NaN;
    const layer = new GptqLayer(rt, 'block3.mlp.down_proj', W, rows, cols);
    await layer.addBatch(X, tokens);
    await expect(layer.quantize()).rejects.toThrow(/block3\.mlp\.down_proj.*weights contain NaN or Inf/);
    layer.dispose();
  });

  it('names the layer when X holds Inf', async () => {
    const { W, X, rows, cols, tokens } = makeLayer(8, 32, 16, 4);
    X[40] = Number.POSITIVE_INFINITY;
    const layer = new GptqLayer(rt, 'q_proj', W, rows, cols);
    await layer.addBatch(X, tokens);
    await expect(layer.quantize()).rejects.toThrow(/q_proj.*calibration inputs contain NaN or Inf/);
    layer.dispose();
  });

  it('refuses to quantize without calibration inputs', async () => {
    const { W, rows, cols } = makeLayer(4, 16, 1, 5);
    const layer = new GptqLayer(rt, 'empty', W, rows, cols);
    await expect(layer.quantize()).rejects.toThrow(/no calibration inputs/);
    layer.dispose();
  });
});

describe('runtime resources', () => {
  it('reuses pipelines and returns every buffer to the pool', async () => {
    const { W, X, rows, cols, tokens } = makeLayer(20, 40, 64, 8);
    const o = { bits: 4, groupSize: 16, actOrder: true };
    await gpuRun(W, X, rows, cols, tokens, o);
    const compiled = rt.pipelines.compiled;
    const inUse = rt.pool.stats.bytesInUse;
    await gpuRun(W, X, rows, cols, tokens, o);
    expect(rt.pipelines.compiled).toBe(compiled);
    expect(rt.pool.stats.bytesInUse).toBe(inUse);
    expect(rt.pool.stats.peakBytesInUse).toBeGreaterThan(inUse);
  });
});
