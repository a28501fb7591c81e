/**
 * The GGUF of real runs read back by the independent reader (src/testing/gguf-reader.ts, no code
 * shared with the writer): every quantized linear's codes bit-exact with the run's (after undoing
 * llama's q/k row order), d the run's scale in F16, m = −d·z in F16, every other tensor the run's
 * values, the metadata llama.cpp reads with its types; the read-back model's perplexity equals the
 * run's GPTQ perplexity; imatrix.gguf's Σx² equals sums of squares of block 0's inputs computed
 * independently in f64. (Loading the files in llama.cpp itself: tests-llama/.)
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeRuntime } from '../testing/node-gpu';
import { folderSources } from '../testing/node-source';
import { readCorpus, sharedModelDir, STORIES_260K } from '../testing/shared-models';
import { byteLevelMakemoreSources } from '../testing/byte-level-makemore';
import { blockFields, dequantize, kvArray, kvValue, readGguf, type GgufRead } from '../testing/gguf-reader';
import { floatToHalf, halfToFloat } from '../core/model/float-convert';
import { loadReferenceModel, embed, forwardBlock } from '../core/model/forward-reference';
import type { ByteSource } from '../core/model/byte-source';
import { loadTokenizer } from '../core/model/tokenizer';
import { evaluationWindows, textToIds } from '../core/model/calibration';
import type { RunSettings } from '../core/run';
import type { GpuRuntime } from '../gpu/runtime';
import { runModel, type RunOutput } from './run-model';
import { exportGguf, exportImatrix, ggufFileName } from './export-gguf';
import { weightKey } from './quantize-model';
import { GpuGlobals, readGlobal } from './model/model-forward';
import { withWeights } from './model/load-model';
import { perplexity } from './evaluate';
import { fileBytes } from '../testing/export-files';

const DEMO = join(__dirname, '../../public/demo');
const U32 = 4;
const F32 = 6;
const STRING = 8;

/** HF row of GGUF row i for llama's q/k: GGUF row h·d + 2j + t holds HF row h·d + t·d/2 + j. */
function hfRow(i: number, d: number): number {
  const h = Math.floor(i / d);
  const r = i % d;
  return h * d + (r % 2) * (d / 2) + Math.floor(r / 2);
}

interface Case {
  label: string;
  files: () => Promise<ByteSource[]>;
  calib: string;
  evalText: string;
  settings: Partial<RunSettings>;
  arch: string;
  type: 'Q4_0' | 'Q4_1' | 'Q8_0';
  floatType: 'F16' | 'F32';
}

const cases: Case[] = [
  {
    label: 'stories260K 4-bit asym g64 act-order + static groups → Q4_1, F32 floats',
    files: () => folderSources(sharedModelDir(STORIES_260K)),
    calib: readCorpus('stories260K_generated_200_seed20251122.txt'),
    evalText: readCorpus('aesop_fables_body_reflowed.txt').slice(0, 3000),
    settings: { bits: 4, groupSize: 64, sym: false, actOrder: true, staticGroups: true },
    arch: 'llama',
    type: 'Q4_1',
    floatType: 'F32',
  },
  {
    label: 'the demo model 8-bit sym per row, act-order → Q8_0, F16 floats',
    files: () => folderSources(DEMO),
    calib: readFileSync(join(DEMO, 'calibration.txt'), 'utf8'),
    evalText: readFileSync(join(DEMO, 'eval-kjv.txt'), 'utf8').slice(0, 3000),
    settings: { bits: 8, groupSize: -1, sym: true, actOrder: true },
    arch: 'llama',
    type: 'Q8_0',
    floatType: 'F16',
  },
  {
    label: 'makemore gpt2 (byte-level tokenizer) 4-bit sym g32 → Q4_0, F32 floats',
    files: byteLevelMakemoreSources,
    calib: readCorpus('names_eot.txt').slice(0, 20000),
    evalText: readCorpus('names_eot.txt').slice(20000, 24000),
    settings: { bits: 4, groupSize: 32, sym: true, seqlen: 16 },
    arch: 'gpt2',
    type: 'Q4_0',
    floatType: 'F32',
  },
];

describe('GGUF export of real runs', () => {
  let rt: GpuRuntime;
  beforeAll(async () => {
    rt = await nodeRuntime();
  });
  afterAll(() => rt?.destroy());

  for (const c of cases) {
    it(`${c.label}: the independent reader gives back the run's codes, scales and tensors; imatrix from the Hessians`, async () => {
      const run = await runModel(rt, {
        files: await c.files(),
        modelName: 'some/folder/model',
        calibration: { name: 'calib.txt', text: c.calib },
        evaluations: [{ name: 'eval.txt', text: c.evalText }],
        evalWindowLimit: 2,
        settings: { nsamples: 4, seqlen: 64, ...c.settings },
        gpuMemoryBudget: 2 ** 30,
      });
      const plan = run.report.gguf!;
      expect(plan.refusal).toBeNull();
      expect(plan.type).toBe(c.type);
      const file = exportGguf({ ckpt: run.ckpt, model: run.model, weights: run.weights, plan, modelName: 'some/folder/model', floatType: c.floatType, half: run.report.export.f16 });
      expect(file.name).toBe(`model-${c.type}.gguf`);
      expect(ggufFileName('a b/ c:d', 'Q8_0')).toBe('c_d-Q8_0.gguf');
      const read = readGguf(await fileBytes(file));
      checkMetadata(read, run, c);
      await checkTensors(read, run, c);
      // Equal up to the F16 rounding of the scales (the run measured f32 scales).
      const readBack = await readBackPerplexity(rt, read, run, c);
      expect(Math.abs(readBack / run.report.perplexity.gptq! - 1)).toBeLessThan(2e-3);

      const imatrix = readGguf(await fileBytes(exportImatrix({ ckpt: run.ckpt, weights: run.weights, settings: run.report.settings, calibrationName: 'calib.txt' })));
      await checkImatrix(imatrix, read, run);
    }, 600_000);
  }
});

function checkMetadata(read: GgufRead, run: RunOutput, c: Case): void {
  const cfg = run.ckpt.config;
  const a = c.arch;
  expect(kvValue(read, 'general.architecture', STRING)).toBe(a);
  expect(kvValue(read, 'general.name', STRING)).toBe('model');
  expect(kvValue(read, 'general.file_type', U32)).toBe({ Q4_0: 2, Q4_1: 3, Q8_0: 7 }[c.type]);
  expect(kvValue(read, 'general.quantization_version', U32)).toBe(2);
  expect(kvValue(read, `${a}.context_length`, U32)).toBe(cfg.maxPositions);
  expect(kvValue(read, `${a}.embedding_length`, U32)).toBe(cfg.hiddenSize);
  expect(kvValue(read, `${a}.block_count`, U32)).toBe(cfg.numLayers);
  expect(kvValue(read, `${a}.feed_forward_length`, U32)).toBe(run.report.export.intermediate?.to ?? cfg.intermediateSize);
  expect(kvValue(read, `${a}.attention.head_count`, U32)).toBe(cfg.numHeads);
  expect(kvValue(read, `${a}.attention.head_count_kv`, U32)).toBe(cfg.numKvHeads);
  const eps = a === 'gpt2' ? 'attention.layer_norm_epsilon' : 'attention.layer_norm_rms_epsilon';
  expect(kvValue(read, `${a}.${eps}`, F32)).toBe(Math.fround(cfg.normEps));
  if (a === 'llama') {
    expect(kvValue(read, 'llama.rope.dimension_count', U32)).toBe(cfg.headDim);
    expect(kvValue(read, 'llama.rope.freq_base', F32)).toBe(Math.fround(cfg.ropeTheta));
    expect(kvValue(read, 'llama.vocab_size', U32)).toBe(cfg.vocabSize);
  }
  expect(kvArray(read, 'tokenizer.ggml.tokens', STRING).length).toBe(cfg.vocabSize);
}

async function checkTensors(read: GgufRead, run: RunOutput, c: Case): Promise<void> {
  const { ckpt, weights, model } = run;
  const { layout, config } = ckpt;
  const type = { Q4_0: 2, Q4_1: 3, Q8_0: 8 }[c.type];
  const floatType = c.floatType === 'F16' ? 1 : 0;
  const toHalf = (v: Float32Array) => Float32Array.from(v, (x) => halfToFloat(floatToHalf(x)));
  // The run measured every value outside its quantized weights as its float16 export holds them (ExportPlan.f16).
  const stored = (v: Float32Array) => (run.report.export.f16 ? toHalf(v) : v);
  const rounded = (v: Float32Array) => (c.floatType === 'F16' ? toHalf(v) : stored(v));
  const names = c.arch === 'gpt2'
    ? { 'attn.c_attn': 'attn_qkv', 'attn.c_proj': 'attn_output', 'mlp.c_fc': 'ffn_up', 'mlp.c_proj': 'ffn_down' } as Record<string, string>
    : { 'self_attn.q_proj': 'attn_q', 'self_attn.k_proj': 'attn_k', 'self_attn.v_proj': 'attn_v', 'self_attn.o_proj': 'attn_output', 'mlp.gate_proj': 'ffn_gate', 'mlp.up_proj': 'ffn_up', 'mlp.down_proj': 'ffn_down' } as Record<string, string>;
  const seen = new Set<string>();
  const take = (name: string) => {
    const t = read.tensors.get(name);
    if (!t) throw new Error(`tensor ${name} is missing`);
    seen.add(name);
    return t;
  };

  const embedT = take('token_embd.weight');
  expect(embedT.ne).toEqual([config.hiddenSize, config.vocabSize]);
  expect(embedT.type).toBe(floatType);
  expect(dequantize(embedT)).toEqual(rounded(await readGlobal(model.spec, model.globals, 'embed')));
  if (layout.tiedLmHead) expect(read.tensors.has('output.weight')).toBe(false);
  else expect(dequantize(take('output.weight'))).toEqual(rounded(await readGlobal(model.spec, model.globals, 'lmHead')));
  if (layout.embedPositions) {
    const p = take('position_embd.weight');
    expect(p.type).toBe(0);
    expect(dequantize(p)).toEqual(stored(await readGlobal(model.spec, model.globals, 'positions')));
  }
  const f32 = async (name: string, source: string) => {
    const t = take(name);
    expect(t.type).toBe(0);
    expect(dequantize(t)).toEqual(stored(await ckpt.readTensor(source)));
  };
  await f32('output_norm.weight', `${layout.finalNorm!.name}.weight`);
  if (layout.finalNorm!.bias) await f32('output_norm.bias', `${layout.finalNorm!.name}.bias`);

  for (let b = 0; b < layout.numBlocks; b++) {
    const p = layout.blockPrefix(b);
    const host = await model.block(b);
    for (const [norm, gguf] of [[layout.block.attnNorm, 'attn_norm'], [layout.block.mlpNorm, 'ffn_norm']] as const) {
      await f32(`blk.${b}.${gguf}.weight`, `${p}${norm.name}.weight`);
      if (norm.bias) await f32(`blk.${b}.${gguf}.bias`, `${p}${norm.name}.bias`);
    }
    for (const l of layout.block.linears) {
      const r = weights.gptq.get(weightKey(b, l.name))!;
      const t = take(`blk.${b}.${names[l.name]}.weight`);
      const permuted = c.arch === 'llama' && (l.name === 'self_attn.q_proj' || l.name === 'self_attn.k_proj');
      const src = (i: number) => (permuted ? hfRow(i, config.headDim) : i);
      expect(t.ne).toEqual([r.cols, r.rows]);
      expect(t.type).toBe(type);
      const { d, m, q } = blockFields(t);
      const nb = r.cols / 32;
      const values = dequantize(t);
      let worst = 0;
      const wrong = { codes: 0, d: 0, m: 0 };
      for (let i = 0; i < r.rows; i++) {
        const row = src(i);
        for (let k = 0; k < r.cols; k++) {
          const code = r.codes[row * r.cols + k];
          if (q[i * r.cols + k] !== (c.type === 'Q8_0' ? code - 128 : code)) wrong.codes++;
          const g = r.gIdx[k];
          const blk = i * nb + Math.floor(k / 32);
          const scale = halfToFloat(floatToHalf(r.scales[g * r.rows + row]));
          if (d[blk] !== scale) wrong.d++;
          if (m && m[blk] !== halfToFloat(floatToHalf(-scale * r.zeros[g * r.rows + row]))) wrong.m++;
          worst = Math.max(worst, Math.abs(values[i * r.cols + k] - r.Q[row * r.cols + k]));
        }
      }
      expect(wrong).toEqual({ codes: 0, d: 0, m: 0 });
      // Only the F16 rounding of the scales (and of m) separates the file's weights from the run's Q.
      const maxScale = Math.max(...Array.from(r.scales, Math.abs));
      // |s − d|·|q − z| and m's rounding are each at most s·2^-11·2^bits.
      expect(worst).toBeLessThanOrEqual(maxScale * 2 ** run.report.settings.bits * 2 ** -11);
      if (l.bias) {
        const bt = take(`blk.${b}.${names[l.name]}.bias`);
        expect(bt.type).toBe(0);
        const bias = stored(host.linears.get(l.name)!.bias!);
        expect(dequantize(bt)).toEqual(Float32Array.from({ length: r.rows }, (_, i) => bias[src(i)]));
      }
    }
  }
  expect([...seen].sort()).toEqual([...read.tensors.keys()].sort());
}

/** The model read back from the GGUF (q/k rows put back) on the GPU: perplexity of the run's windows. */
async function readBackPerplexity(rt: GpuRuntime, read: GgufRead, run: RunOutput, c: Case): Promise<number> {
  const { layout, config } = run.ckpt;
  const names = c.arch === 'gpt2'
    ? { 'attn.c_attn': 'attn_qkv', 'attn.c_proj': 'attn_output', 'mlp.c_fc': 'ffn_up', 'mlp.c_proj': 'ffn_down' } as Record<string, string>
    : { 'self_attn.q_proj': 'attn_q', 'self_attn.k_proj': 'attn_k', 'self_attn.v_proj': 'attn_v', 'self_attn.o_proj': 'attn_output', 'mlp.gate_proj': 'ffn_gate', 'mlp.up_proj': 'ffn_up', 'mlp.down_proj': 'ffn_down' } as Record<string, string>;
  const W = new Map<string, Float32Array>();
  for (let b = 0; b < layout.numBlocks; b++) {
    for (const l of layout.block.linears) {
      const t = read.tensors.get(`blk.${b}.${names[l.name]}.weight`)!;
      const [cols, rows] = t.ne;
      const v = dequantize(t);
      const permuted = c.arch === 'llama' && (l.name === 'self_attn.q_proj' || l.name === 'self_attn.k_proj');
      const out = new Float32Array(rows * cols);
      for (let i = 0; i < rows; i++) out.set(v.subarray(i * cols, (i + 1) * cols), (permuted ? hfRow(i, config.headDim) : i) * cols);
      W.set(weightKey(b, l.name), out);
    }
  }
  const { seqlen } = run.report.settings;
  const globals = await GpuGlobals.load(rt, run.model.spec, run.model.globals);
  try {
    const tokenizer = loadTokenizer(run.ckpt.tokenizerJson!, run.ckpt.tokenizerConfigJson);
    const windows = Uint32Array.from(evaluationWindows(textToIds(tokenizer, c.evalText), seqlen).slice(0, 2).flat());
    return await perplexity(rt, globals, withWeights(run.model.block, (b, n) => W.get(weightKey(b, n))), windows, seqlen, 2);
  } finally {
    globals.release();
  }
}

/** in_sum2 of block 0's first linears against Σ x² of their inputs computed in f64 from the calibration windows. */
async function checkImatrix(imatrix: GgufRead, model: GgufRead, run: RunOutput): Promise<void> {
  const { settings, calibration } = run.report;
  expect(kvValue(imatrix, 'general.type', STRING)).toBe('imatrix');
  expect(kvArray(imatrix, 'imatrix.datasets', STRING)).toEqual(['calib.txt']);
  expect(kvValue(imatrix, 'imatrix.chunk_count', U32)).toBe(settings.nsamples);
  expect(kvValue(imatrix, 'imatrix.chunk_size', U32)).toBe(settings.seqlen);
  // One in_sum2 and one counts per quantized weight, named as the model's tensors and as wide as their inputs.
  const quantized = [...model.tensors.values()].filter((t) => t.type >= 2);
  expect(imatrix.tensors.size).toBe(2 * quantized.length);
  for (const t of quantized) {
    expect(imatrix.tensors.get(`${t.name}.in_sum2`)!.ne).toEqual([t.ne[0], 1]);
    expect(Array.from(dequantize(imatrix.tensors.get(`${t.name}.counts`)!))).toEqual([settings.nsamples * settings.seqlen]);
  }
  const ref = await loadReferenceModel(run.ckpt);
  const first = run.ckpt.layout.block.sequentialGroups[0][0];
  const n = run.ckpt.config.hiddenSize;
  const sums = new Float64Array(n);
  for (const w of calibration.windows) {
    forwardBlock(ref, 0, embed(ref, w), w.length, {
      onLinearInput: (name, X) => {
        if (name !== first) return;
        for (let i = 0; i < X.length; i++) sums[i % n] += X[i] ** 2;
      },
    });
  }
  const gguf = run.ckpt.config.arch === 'gpt2' ? 'attn_qkv' : 'attn_k';
  const got = dequantize(imatrix.tensors.get(`blk.0.${gguf}.weight.in_sum2`)!);
  // f32 on the GPU against f64 here; a wrong factor (N/2, tokens) would be off by 2× or more.
  for (let j = 0; j < n; j++) expect(Math.abs(got[j] - sums[j])).toBeLessThanOrEqual(2e-3 * sums[j] + 1e-6);
}
