/**
 * The GPU whole-model pipeline (quantizeModel: f32 forward in WGSL, GPU GPTQ) against the f64
 * sequential reference (src/core/model/sequential-reference.ts) on the same windows and settings,
 * on the shared test models. Two comparisons per setting:
 *
 * FORCED: the reference puts the GPU's quantized weights into its model after each linear, so
 *   every layer is compared on the inputs the GPU saw (up to f32-vs-f64 forward rounding).
 *   This isolates one layer at a time: which inputs, which order, which H normalisation, which
 *   weights were replaced when. A layer whose codes all agree must agree in loss to 1e-5.
 * FREE: both pipelines run on their own. Until the first code rounds differently they must agree
 *   as tightly as FORCED; after it, each pipeline's later inputs carry its own rounding and the
 *   losses drift apart (a different, equally valid GPTQ solution on slightly different inputs).
 *
 * Why codes round differently at all: on a symmetric grid a group's most negative weight sits at
 * exactly code −½ (scale = 2·max|w| / maxq, zero = 2^(bits−1)), so when that weight opens the
 * sweep (column 0, W not yet touched by error feedback) or a later block of it (the grid comes
 * from W at the block start, the column is not updated before it is rounded), f32 and f64 pick
 * neighbours by the last ulp. The test checks that every flip at sweep position 0 is such a tie,
 * and that on symmetric grids every flip at a later block start is between codes 0 and 1. A flip feeds back into
 * the rest of its row (GPTQ's error propagation), so one tie can move a 32-row layer's loss by 1%.
 * Elsewhere a code can flip when the f32 sweep puts a weight within ~1e-6 of a half step (rare).
 *
 * The measured agreement and the reasons for each bound are written at BOUND below.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { nodeRuntime } from '../testing/node-gpu';
import { readCorpus, STORIES_260K, MAKEMORE_NAMES, openSharedCheckpoint } from '../testing/shared-models';
import { loadTokenizer } from '../core/model/tokenizer';
import { calibrationWindows, textToIds } from '../core/model/calibration';
import { loadReferenceModel } from '../core/model/forward-reference';
import { sequentialReference, type SequentialReferenceResult } from '../core/model/sequential-reference';
import { outputMse } from '../core/metrics';
import { defaultRunSettings, type LinearReport, type RunSettings } from '../core/run';
import type { GptqResult } from '../core/types';
import { loadModel } from './model/load-model';
import { quantizeModel, weightKey, type QuantizedWeights } from './quantize-model';
import type { GpuRuntime } from '../gpu/runtime';

let rt: GpuRuntime;
beforeAll(async () => {
  rt = await nodeRuntime();
});
afterAll(() => rt?.destroy());

interface LayerAgreement {
  block: number;
  name: string;
  rows: number;
  /** |loss_gpu − loss_ref| / loss_ref */
  lossRel: number;
  /** Fraction of identical integer codes. */
  sameCodes: number;
  /** Rows holding at least one differing code. */
  divergedRows: number;
  /** Diverged rows whose first differing code (in sweep order) is at sweep position 0 and an exact tie. */
  tiesAtStart: number;
  /** Diverged rows whose first differing code is at sweep position 0 but NOT a tie (should never happen). */
  nonTiesAtStart: number;
  /**
   * Diverged rows whose first differing code opens a later block of the sweep (the group's grid
   * comes from W at the block start, so its most negative weight can again be an exact tie).
   */
  flipsAtBlockStart: number;
  /** Of those, the ones between codes 0 and 1 (the bottom of the grid, where a symmetric grid's tie sits). */
  flipsAtBlockStartBottom: number;
  /** Diverged rows whose first differing code is inside a block: f32 near-ties. */
  flipsInsideBlock: number;
  /** Largest |ΔQ| in grid steps over the rows where every code agrees. */
  maxQErrorInScales: number;
  /** Largest relative scale difference over the rows where every code agrees. */
  maxScaleRel: number;
  permEqual: boolean;
}

function agreement(
  report: LinearReport,
  gpu: GptqResult,
  ref: SequentialReferenceResult['layers'][number],
  W: Float32Array,
  blockSize: number,
): LayerAgreement {
  const { rows, cols } = ref;
  const r64 = ref.result;
  const order = r64.perm ?? Int32Array.from({ length: cols }, (_, j) => j);
  let same = 0;
  let divergedRows = 0;
  let tiesAtStart = 0;
  let nonTiesAtStart = 0;
  let flipsAtBlockStart = 0;
  let flipsAtBlockStartBottom = 0;
  let flipsInsideBlock = 0;
  let maxQErrorInScales = 0;
  let maxScaleRel = 0;
  for (let r = 0; r < rows; r++) {
    let first = -1;
    for (let j = 0; j < cols; j++) {
      const i = r * cols + order[j];
      if (gpu.codes[i] === ref.codes[i]) same++;
      else if (first < 0) first = j;
    }
    if (first >= 0) {
      divergedRows++;
      if (first === 0) {
        const c = order[0];
        const g = r64.gIdx[c] * rows + r;
        const x = W[r * cols + c] / r64.scales[g] + r64.zeros[g];
        if (Math.abs(x - Math.floor(x) - 0.5) < 1e-6) tiesAtStart++;
        else nonTiesAtStart++;
      } else if (first % blockSize === 0) {
        flipsAtBlockStart++;
        const i = r * cols + order[first];
        if (Math.max(gpu.codes[i], ref.codes[i]) === 1) flipsAtBlockStartBottom++;
      } else flipsInsideBlock++;
      continue;
    }
    for (let c = 0; c < cols; c++) {
      const g = r64.gIdx[c] * rows + r;
      const s = r64.scales[g];
      maxQErrorInScales = Math.max(maxQErrorInScales, Math.abs(gpu.Q[r * cols + c] - ref.Q[r * cols + c]) / Math.abs(s));
      maxScaleRel = Math.max(maxScaleRel, Math.abs(gpu.scales[gpu.gIdx[c] * rows + r] - s) / Math.abs(s));
    }
  }
  return {
    block: ref.block,
    name: ref.name,
    rows,
    lossRel: Math.abs(report.gptq.loss - ref.loss) / ref.loss,
    sameCodes: same / (rows * cols),
    divergedRows,
    tiesAtStart,
    nonTiesAtStart,
    flipsAtBlockStart,
    flipsAtBlockStartBottom,
    flipsInsideBlock,
    maxQErrorInScales,
    maxScaleRel,
    permEqual: (gpu.perm === null) === (r64.perm === null) && (!gpu.perm || gpu.perm.every((p, i) => p === r64.perm![i])),
  };
}

async function compare(model: string, corpus: string, settings: RunSettings) {
  const ckpt = await openSharedCheckpoint(model);
  const tok = loadTokenizer(ckpt.tokenizerJson!, ckpt.tokenizerConfigJson);
  const ids = textToIds(tok, readCorpus(corpus));
  const windows = calibrationWindows(ids, settings.nsamples, settings.seqlen, settings.seed);
  const loaded = await loadModel(ckpt);
  const gpu: QuantizedWeights = await quantizeModel(rt, loaded, Uint32Array.from(windows.flat()), settings);
  // RTN's weights as the evaluation makes them again from the original ones.
  const rtnQ = new Map<string, Float32Array>();
  for (let b = 0; b < loaded.spec.layers; b++) {
    for (const [name, p] of await gpu.rtn.block(rt, b, await loaded.block(b))) rtnQ.set(weightKey(b, name), p.Q);
  }
  const refModel = await loadReferenceModel(ckpt); // sequentialReference leaves it untouched
  const original = (b: number, name: string) => refModel.weights.get(`${refModel.layout.blockPrefix(b)}${name}.weight`)!;
  const gpuResult = (b: number, name: string) => gpu.gptq.get(weightKey(b, name))!;

  // The GPU's reported output MSEs, recomputed in f64 on the reference's copy of the same inputs.
  const mseRel: { gptq: number; rtn: number }[] = [];
  const forced = sequentialReference(refModel, windows, settings, {
    replacement: (b, name) => gpuResult(b, name).Q as Float32Array,
    onInputs: (b, name, X, tokens) => {
      const report = gpu.layers[mseRel.length];
      expect([report.block, report.name]).toEqual([b, name]);
      const W = original(b, name);
      const { rows, cols } = report;
      const gptq = outputMse(W, gpuResult(b, name).Q, X, rows, cols, tokens);
      const rtn = outputMse(W, rtnQ.get(weightKey(b, name))!, X, rows, cols, tokens);
      mseRel.push({ gptq: Math.abs(report.gptq.mse - gptq) / gptq, rtn: Math.abs(report.rtn.mse - rtn) / rtn });
    },
  });
  const free = sequentialReference(refModel, windows, settings);
  const compareAll = (ref: SequentialReferenceResult) => {
    expect(ref.layers.map((l) => `${l.block}.${l.name}`)).toEqual(gpu.layers.map((l) => `${l.block}.${l.name}`));
    return ref.layers.map((l, i) => agreement(gpu.layers[i], gpuResult(l.block, l.name), l, original(l.block, l.name), settings.blockSize));
  };
  const result = { forced: compareAll(forced), free: compareAll(free), mseRel, gpu, freeRef: free };

  // Per-block summary for the record.
  const tag = `${model} ${settings.bits}-bit g${settings.groupSize} ${settings.sym ? 'sym' : 'asym'}${settings.actOrder ? ' act-order' : ''}`;
  const blocks = new Set(gpu.layers.map((l) => l.block));
  for (const b of blocks) {
    const f = result.forced.filter((a) => a.block === b);
    const r = result.free.filter((a) => a.block === b);
    const max = (xs: number[]) => Math.max(...xs).toExponential(1);
    const min = (xs: number[]) => (Math.min(...xs) * 100).toFixed(1);
    console.log(
      `${tag} block ${b}: FREE loss rel ≤ ${max(r.map((a) => a.lossRel))}, same codes ≥ ${min(r.map((a) => a.sameCodes))}% | ` +
        `FORCED loss rel ≤ ${max(f.map((a) => a.lossRel))} (agreeing layers ≤ ${max([0, ...f.filter((a) => !a.divergedRows).map((a) => a.lossRel)])}), ` +
        `same codes ≥ ${min(f.map((a) => a.sameCodes))}%, diverged rows ${f.reduce((s, a) => s + a.divergedRows, 0)} ` +
        `(first flip: ${f.reduce((s, a) => s + a.tiesAtStart, 0)} exact ties at column 0, ` +
        `${f.reduce((s, a) => s + a.flipsAtBlockStart, 0)} at a later block start, ${f.reduce((s, a) => s + a.flipsInsideBlock, 0)} inside a block)`,
    );
  }
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const totalRel = Math.abs(sum(gpu.layers.map((l) => l.gptq.loss)) - sum(free.layers.map((l) => l.loss))) / sum(free.layers.map((l) => l.loss));
  const rowsAll = sum(result.forced.map((a) => a.rows));
  const divergedAll = sum(result.forced.map((a) => a.divergedRows));
  console.log(
    `${tag}: FORCED diverged rows ${divergedAll}/${rowsAll} (${((100 * divergedAll) / rowsAll).toFixed(2)}%), ` +
      `at most ${(100 * Math.max(...result.forced.map((a) => a.divergedRows / a.rows))).toFixed(1)}% of a layer's rows, ` +
      `block-start flips at the grid's bottom ${sum(result.forced.map((a) => a.flipsAtBlockStartBottom))}/${sum(result.forced.map((a) => a.flipsAtBlockStart))}; ` +
      `FREE Σ loss rel ${totalRel.toExponential(1)}; ` +
      `max ΔQ ${Math.max(...result.forced.map((a) => a.maxQErrorInScales)).toExponential(1)} steps, ` +
      `max scale rel ${Math.max(...result.forced.map((a) => a.maxScaleRel)).toExponential(1)}, ` +
      `MSE rel gptq ≤ ${Math.max(...mseRel.map((m) => m.gptq)).toExponential(1)} rtn ≤ ${Math.max(...mseRel.map((m) => m.rtn)).toExponential(1)}`,
  );
  return { ...result, totalRel };
}

type Comparison = Awaited<ReturnType<typeof compare>>;

/**
 * The bounds, with what was measured on Dawn/llvmpipe (OpenGL ES) over the four settings below
 * (and, in brackets, the worst seen while developing with other windows: the first half of each
 * corpus, 32 names windows):
 *   FORCED, layers whose codes all agree: loss rel ≤ 4.7e-7 [7e-7]; ΔQ ≤ 2.2e-5 grid steps;
 *     scales ≤ 3e-6 rel; GPU-reported output MSE (GPTQ and RTN) vs f64 on the same inputs ≤ 2.1e-7.
 *     Bounds 1e-5, 1e-4, 1e-5, 1e-5: above f32 noise, far below what a pipeline bug gives. Measured
 *     by feeding the reference deliberately wrong semantics against the same GPU run: every linear
 *     on the unquantized block (no true-sequential) moves o_proj/down_proj/c_proj losses by 1e-3 to
 *     7e-2; never replacing weights moves every layer after the first group by 4e-4 to 8e-2;
 *     other calibration windows (seed 1) by 8e-3 to 0.2.
 *   FORCED, layers with diverged rows: loss rel ≤ 7.9e-3 [1.1e-2: two tie flips in 32-row
 *     v_proj]; bound 3e-2. Diverged rows ≤ 6.3% of a layer (v_proj, 2 of 32), bound 10%; overall
 *     0.83% (stories 4-bit sym: about 1/(2·gs) of rows open a group with its most negative weight,
 *     half of those ties round apart), bound 2%. First flips: at column 0 always an exact tie
 *     (asserted); at a later block start (only the 172/256-column down_proj and c_proj) always
 *     between codes 0 and 1 on symmetric grids, where the tie sits (6/6, asserted); inside a block
 *     (f32 near-ties) 0 [1 per setting], bound 3 per setting.
 *   FREE: as FORCED until the first differing code; both asymmetric act-order settings never
 *     diverge here (all layers ≤ 3.9e-7). After the first flip (symmetric settings): loss rel
 *     ≤ 3.2e-2 per layer [4.2e-2], bound 0.1; identical codes ≥ 71.7% [52%: 3-bit act-order
 *     c_proj, where one early flip re-routes the rest of a 256-column row], bound 40%; Σ loss
 *     over the model ≤ 3.3e-3 rel, bound 1e-2. These bounds are loose by nature (the drift is
 *     the size of the bugs above): FORCED is the sharp check, FREE shows the end-to-end picture.
 */
const BOUND = {
  agreeingLossRel: 1e-5,
  agreeingQInSteps: 1e-4,
  agreeingScaleRel: 1e-5,
  mseRel: 1e-5,
  divergedLossRel: 3e-2,
  divergedRowsPerLayer: 0.1,
  divergedRowsOverall: 0.02,
  flipsInsideBlock: 3,
  freeLossRel: 0.1,
  freeSameCodes: 0.4,
  freeTotalRel: 1e-2,
};

function check(c: Comparison, sym: boolean) {
  for (const a of c.forced) {
    const where = `FORCED block ${a.block} ${a.name}`;
    expect(a.permEqual, where).toBe(true);
    expect(a.maxQErrorInScales, where).toBeLessThanOrEqual(BOUND.agreeingQInSteps);
    expect(a.maxScaleRel, where).toBeLessThanOrEqual(BOUND.agreeingScaleRel);
    expect(a.nonTiesAtStart, where).toBe(0);
    if (sym) expect(a.flipsAtBlockStartBottom, where).toBe(a.flipsAtBlockStart);
    expect(a.divergedRows / a.rows, where).toBeLessThanOrEqual(BOUND.divergedRowsPerLayer);
    expect(a.lossRel, where).toBeLessThanOrEqual(a.divergedRows ? BOUND.divergedLossRel : BOUND.agreeingLossRel);
  }
  const rows = c.forced.reduce((s, a) => s + a.rows, 0);
  const diverged = c.forced.reduce((s, a) => s + a.divergedRows, 0);
  expect(diverged / rows).toBeLessThanOrEqual(BOUND.divergedRowsOverall);
  expect(c.forced.reduce((s, a) => s + a.flipsInsideBlock, 0)).toBeLessThanOrEqual(BOUND.flipsInsideBlock);
  c.mseRel.forEach((m, i) => {
    const where = `MSE block ${c.gpu.layers[i].block} ${c.gpu.layers[i].name}`;
    expect(m.gptq, where).toBeLessThanOrEqual(BOUND.mseRel);
    expect(m.rtn, where).toBeLessThanOrEqual(BOUND.mseRel);
  });

  const firstFlip = c.free.findIndex((a) => a.divergedRows > 0);
  c.free.forEach((a, i) => {
    const where = `FREE block ${a.block} ${a.name}`;
    if (firstFlip < 0 || i < firstFlip) {
      expect(a.sameCodes, where).toBe(1);
      expect(a.lossRel, where).toBeLessThanOrEqual(BOUND.agreeingLossRel);
    } else if (i === firstFlip) {
      // The same history as FORCED up to here, so the same flips in the same layer.
      expect(a.divergedRows, where).toBe(c.forced[i].divergedRows);
      expect(a.lossRel, where).toBeLessThanOrEqual(BOUND.divergedLossRel);
    } else {
      expect(a.lossRel, where).toBeLessThanOrEqual(BOUND.freeLossRel);
      expect(a.sameCodes, where).toBeGreaterThanOrEqual(BOUND.freeSameCodes);
    }
  });
  expect(c.totalRel).toBeLessThanOrEqual(BOUND.freeTotalRel);
  expect(c.gpu.layers.every((l) => !l.gptq.fellBackToRtn && l.gptq.damp === 0.01)).toBe(true);
  expect(c.freeRef.layers.every((l) => !l.fellBackToRtn && l.percDampUsed === 0.01)).toBe(true);
}

const SETTINGS = [
  { bits: 4, groupSize: 32, sym: true },
  { bits: 3, groupSize: 32, sym: false, actOrder: true },
];

describe('the GPU pipeline agrees with the f64 sequential reference, layer by layer', () => {
  it('stories260K (llama, [k, v, q] → [o] → [up, gate] → [down]): 4-bit g32 sym, 3-bit g32 asym act-order; 8 windows of 64', async () => {
    for (const o of SETTINGS) {
      const c = await compare(STORIES_260K, 'stories260K_generated_200_seed20251122.txt', { ...defaultRunSettings, ...o, nsamples: 8, seqlen: 64 });
      expect(c.forced).toHaveLength(35);
      check(c, o.sym);
    }
  });

  it('makemore-names-gpt2 (gpt2, Conv1D, fused c_attn): 4-bit g32 sym, 3-bit g32 asym act-order; 16 windows of 16', async () => {
    for (const o of SETTINGS) {
      const c = await compare(MAKEMORE_NAMES, 'names_eot.txt', { ...defaultRunSettings, ...o, nsamples: 16, seqlen: 16 });
      expect(c.forced).toHaveLength(16);
      check(c, o.sym);
    }
  });
});
