/**
 * The GGUF of each family beyond llama/qwen2/gpt2 in a real llama.cpp (node-llama-cpp 3.21.1's
 * prebuilt CPU binary, offline, F32 KV cache, no flash attention; ../../shared/docs/gguf.md §8), on
 * the families' test twins (src/testing/family-models.ts: stories260K's trained weights in each
 * layout). For each, a 4-bit symmetric g32 run writes its Q4_0 GGUF, and:
 *  - llama.cpp's token ids equal ours on the evaluation text (every twin keeps stories260K's
 *    SentencePiece-style tokenizer, which llama.cpp's SPM tokenizer handles for any architecture);
 *  - llama.cpp's perplexity on the run's own evaluation windows is the run's GPTQ perplexity within
 *    1% (llama.cpp rounds activations to 8 bits in its quantized matmuls; on these twins' 64-wide
 *    activations that moves the perplexity by −0.2 to +0.6 % depending on which codes GPTQ chose,
 *    which rounding in the inverse chain can change; the F32 control below is the exact check);
 *  - a control file with every linear as F32 copies of the run's Q (no 8-bit activations) gives the
 *    run's perplexity within 1e-4: layout, metadata, RoPE, norms and scales are exact (what is left
 *    is float32 arithmetic, and for gemma3 llama.cpp's CPU GELU, which reads a float16 table:
 *    ggml/src/ggml-cpu/vec.h GGML_GELU_FP16);
 *  - the independent reader (src/testing/gguf-reader.ts) gives back every quantized linear's codes
 *    bit-exact (llama-layout q/k rows put back), and the family's own metadata and tensors, checked
 *    against values computed here from config.json (RoPE factors as conversion/llama.py and
 *    conversion/phi.py compute them, gemma's (1 + w) norms, its score scale carried by q_norm and its
 *    embedding scale's ratio).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Llama } from 'node-llama-cpp';
import { nodeRuntime } from '../src/testing/node-gpu';
import { readCorpus } from '../src/testing/shared-models';
import { randomGemma3, sourcesOf, storiesAsGemma3, storiesAsPhi3, storiesAsQwen3, storiesAsSmolLM3, storiesWithConfig, type ModelFiles } from '../src/testing/family-models';
import { dequantize, blockFields, kvValue, readGguf, type GgufRead } from '../src/testing/gguf-reader';
import { floatToHalf, halfToFloat } from '../src/core/model/float-convert';
import { loadTokenizer } from '../src/core/model/tokenizer';
import { evaluationWindows, textToIds } from '../src/core/model/calibration';
import type { GpuRuntime } from '../src/gpu/runtime';
import { runModel, type RunOutput } from '../src/engine/run-model';
import { exportGguf } from '../src/engine/export-gguf';
import { weightKey } from '../src/engine/quantize-model';
import { cpuLlama, llamaPerplexity, writeExport } from './llama-helpers';
import { fileBytes } from '../src/testing/export-files';

const U32 = 4;
const F32 = 6;
const STRING = 8;
const CALIBRATION = readCorpus('stories260K_generated_200_seed20251122.txt').slice(0, 30_000);
const EVALUATION = { name: 'aesop_fables_body_reflowed.txt', text: readCorpus('aesop_fables_body_reflowed.txt').slice(0, 12_000) };

const LLAMA3 = { factor: 32, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 64 };

/** HF block module → GGUF tensor (src/llama-arch.cpp), written here apart from the exporter's table. */
const LLAMA_NAMES: Record<string, string> = {
  'self_attn.q_proj': 'attn_q', 'self_attn.k_proj': 'attn_k', 'self_attn.v_proj': 'attn_v', 'self_attn.o_proj': 'attn_output',
  'mlp.gate_proj': 'ffn_gate', 'mlp.up_proj': 'ffn_up', 'mlp.down_proj': 'ffn_down',
};
const PHI3_NAMES: Record<string, string> = {
  'self_attn.qkv_proj': 'attn_qkv', 'self_attn.o_proj': 'attn_output', 'mlp.gate_up_proj': 'ffn_up', 'mlp.down_proj': 'ffn_down',
};

interface FamilyCase {
  name: string;
  /** general.architecture. */
  arch: string;
  files: () => Promise<ModelFiles> | ModelFiles;
  seqlen: number;
  evalWindows: number;
  names: Record<string, string>;
  /** q/k rows reordered for llama.cpp's "normal" RoPE (llama layout). */
  normRope: boolean;
  /** The family's own metadata and tensors, read back. */
  check: (read: GgufRead, run: RunOutput) => Promise<void> | void;
}

const f32 = Math.fround;
/**
 * A tensor of the checkpoint as the run measured it: rounded to F16 when the run's export is float16
 * (ExportPlan.f16), the values the GGUF must then hold.
 */
async function asRun(run: RunOutput, name: string): Promise<number[]> {
  const v = await run.ckpt.readTensor(name);
  return Array.from(v, (x) => (run.report.export.f16 ? halfToFloat(floatToHalf(x)) : x));
}
// llama.cpp (src/llama-vocab.cpp) keys per-token attributes on general.name: a name with
// "phi3" in it needs Phi-3's own special tokens, so the twins are written under a neutral name.
const closeTo = (actual: Float32Array | number[], expected: number[], rel = 2e-7) => {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(Math.abs(actual[i] - expected[i])).toBeLessThanOrEqual(rel * Math.abs(expected[i]) + 1e-30);
};

/** rope_freqs of llama3 scaling: conversion/llama.py LlamaModel.generate_extra_tensors' formula. */
function llama3Factors(theta: number, dim: number): number[] {
  const { factor, low_freq_factor: low, high_freq_factor: high, original_max_position_embeddings: old } = LLAMA3;
  return Array.from({ length: dim / 2 }, (_, i) => {
    const wavelen = (2 * Math.PI) / theta ** (-(2 * i) / dim);
    if (wavelen < old / high) return 1;
    if (wavelen > old / low) return factor;
    const smooth = (old / wavelen - low) / (high - low);
    return 1 / ((1 - smooth) / factor + smooth);
  });
}

const CASES: FamilyCase[] = [
  {
    name: 'llama with llama3 rope_scaling (stories260K weights)', arch: 'llama', seqlen: 64, evalWindows: 8, names: LLAMA_NAMES, normRope: true,
    files: () => storiesWithConfig({ rope_scaling: { rope_type: 'llama3', ...LLAMA3 } }),
    check: (read, { ckpt }) => {
      const { headDim, ropeTheta } = ckpt.config;
      closeTo(dequantize(read.tensors.get('rope_freqs.weight')!), llama3Factors(ropeTheta, headDim), 1e-6);
      expect(read.kv.has('llama.rope.scaling.type')).toBe(false);
    },
  },
  {
    name: 'llama with linear rope_scaling 2 (stories260K weights)', arch: 'llama', seqlen: 64, evalWindows: 8, names: LLAMA_NAMES, normRope: true,
    files: () => storiesWithConfig({ rope_scaling: { type: 'linear', factor: 2 } }),
    check: (read) => {
      // llama-model.cpp load_hparams: freq_scale = 1 / rope.scaling.factor.
      expect(kvValue(read, 'llama.rope.scaling.type', STRING)).toBe('linear');
      expect(kvValue(read, 'llama.rope.scaling.factor', F32)).toBe(2);
      expect(read.tensors.has('rope_freqs.weight')).toBe(false);
    },
  },
  {
    name: 'qwen3 (stories260K weights, q/k norms ≠ 1)', arch: 'qwen3', seqlen: 64, evalWindows: 8, names: LLAMA_NAMES, normRope: false,
    files: () => storiesAsQwen3(),
    check: async (read, run) => {
      expect(kvValue(read, 'qwen3.rope.dimension_count', U32)).toBe(8);
      for (const n of ['q_norm', 'k_norm']) {
        expect(Array.from(dequantize(read.tensors.get(`blk.2.attn_${n}.weight`)!))).toEqual(await asRun(run, `model.layers.2.self_attn.${n}.weight`));
      }
    },
  },
  {
    name: 'gemma3_text (stories260K weights, sliding window 16 < 48, pattern 3, query_pre_attn_scalar 12)', arch: 'gemma3', seqlen: 48, evalWindows: 11,
    names: LLAMA_NAMES, normRope: false,
    files: () => storiesAsGemma3(),
    check: async (read, run) => {
      expect(kvValue(read, 'gemma3.attention.sliding_window', U32)).toBe(16);
      expect(kvValue(read, 'gemma3.attention.sliding_window_pattern', U32)).toBe(3);
      expect(kvValue(read, 'gemma3.rope.freq_base_swa', F32)).toBe(5000);
      expect(kvValue(read, 'gemma3.rope.freq_base', F32)).toBe(10000);
      // (1 + w), as conversion/gemma.py stores every norm; q_norm also carries √(head_dim / query_pre_attn_scalar).
      const w = (name: string) => asRun(run, name);
      closeTo(dequantize(read.tensors.get('blk.1.post_ffw_norm.weight')!), (await w('model.layers.1.post_feedforward_layernorm.weight')).map((v) => f32(v + 1)), 0);
      closeTo(dequantize(read.tensors.get('blk.1.attn_k_norm.weight')!), (await w('model.layers.1.self_attn.k_norm.weight')).map((v) => f32(v + 1)), 0);
      closeTo(dequantize(read.tensors.get('blk.1.attn_q_norm.weight')!), (await w('model.layers.1.self_attn.q_norm.weight')).map((v) => (v + 1) * Math.sqrt(8 / 12)), 2e-7);
      // √64 = 8 in every dtype: the embeddings and the final norm are the run's.
      expect(Array.from(dequantize(read.tensors.get('token_embd.weight')!))).toEqual(await w('model.embed_tokens.weight'));
      closeTo(dequantize(read.tensors.get('output_norm.weight')!), (await w('model.norm.weight')).map((v) => f32(v + 1)), 0);
    },
  },
  {
    name: 'gemma3_text random bfloat16 (√96 embedding scale, window 8, linear RoPE on full layers, logit softcap)', arch: 'gemma3', seqlen: 24, evalWindows: 21,
    names: LLAMA_NAMES, normRope: false,
    files: () => randomGemma3(),
    check: async (read, run) => {
      expect(kvValue(read, 'gemma3.attention.sliding_window', U32)).toBe(8);
      expect(kvValue(read, 'gemma3.attention.sliding_window_pattern', U32)).toBe(2);
      expect(kvValue(read, 'gemma3.rope.freq_base', F32)).toBe(1e6);
      expect(kvValue(read, 'gemma3.rope.freq_base_swa', F32)).toBe(1e4);
      expect(kvValue(read, 'gemma3.rope.scaling.type', STRING)).toBe('linear');
      expect(kvValue(read, 'gemma3.rope.scaling.factor', F32)).toBe(4);
      expect(kvValue(read, 'gemma3.final_logit_softcapping', F32)).toBe(5);
      // The run scaled the embeddings by √96 in the dtype of its export (float16: 9.796875; bfloat16
      // would be 9.8125); llama.cpp scales by √96 in f32. The embeddings carry the ratio, the tied
      // head's final norm its inverse.
      expect(run.report.export.f16).toBe(true);
      const ratio = halfToFloat(floatToHalf(Math.sqrt(96))) / f32(Math.sqrt(96));
      expect(ratio).not.toBe(1);
      closeTo(dequantize(read.tensors.get('token_embd.weight')!), (await asRun(run, 'model.embed_tokens.weight')).map((v) => v * ratio), 2e-7);
      closeTo(dequantize(read.tensors.get('output_norm.weight')!), (await asRun(run, 'model.norm.weight')).map((v) => (v + 1) / ratio), 2e-7);
    },
  },
  {
    name: 'phi3 (stories260K weights: fused qkv/gate_up, 4 of 8 dims rotated, longrope past 32)', arch: 'phi3', seqlen: 48, evalWindows: 11,
    names: PHI3_NAMES, normRope: false,
    files: () => storiesAsPhi3({
      partial_rotary_factor: 0.5, original_max_position_embeddings: 32,
      rope_scaling: { type: 'longrope', short_factor: [1.0, 1.5], long_factor: [2.0, 4.0] },
    }),
    check: (read) => {
      expect(kvValue(read, 'phi3.rope.dimension_count', U32)).toBe(4);
      expect(kvValue(read, 'phi3.rope.scaling.type', STRING)).toBe('longrope');
      expect(kvValue(read, 'phi3.rope.scaling.original_context_length', U32)).toBe(32);
      // transformers' _compute_longrope_parameters: √(1 + ln(max_positions / original) / ln(original)).
      expect(kvValue(read, 'phi3.rope.scaling.attn_factor', F32)).toBe(f32(Math.sqrt(1 + Math.log(512 / 32) / Math.log(32))));
      expect(Array.from(dequantize(read.tensors.get('rope_factors_long.weight')!))).toEqual([2, 4]);
      expect(Array.from(dequantize(read.tensors.get('rope_factors_short.weight')!))).toEqual([1, 1.5]);
    },
  },
  {
    name: 'smollm3 (stories260K weights, layer 3 without RoPE: llama.cpp\'s every 4th)', arch: 'smollm3', seqlen: 64, evalWindows: 8,
    names: LLAMA_NAMES, normRope: true,
    files: () => storiesAsSmolLM3([1, 1, 1, 0, 1]),
    check: (read) => {
      expect(kvValue(read, 'smollm3.rope.dimension_count', U32)).toBe(8);
      expect(read.tensors.has('rope_freqs.weight')).toBe(false);
    },
  },
];

/** HF row of GGUF row i for llama-layout q/k: GGUF row h·d + 2j + t holds HF row h·d + t·d/2 + j. */
function hfRow(i: number, d: number): number {
  const h = Math.floor(i / d);
  const r = i % d;
  return h * d + (r % 2) * (d / 2) + Math.floor(r / 2);
}

/** Every quantized linear's Q4_0 codes and d, read back, against the run's codes and F16 scales. */
function checkCodes(read: GgufRead, run: RunOutput, c: FamilyCase): void {
  const { layout, config } = run.ckpt;
  for (let b = 0; b < layout.numBlocks; b++) {
    for (const l of layout.block.linears) {
      const r = run.weights.gptq.get(weightKey(b, l.name))!;
      const t = read.tensors.get(`blk.${b}.${c.names[l.name]}.weight`)!;
      expect(t.type).toBe(2);
      expect(t.ne).toEqual([r.cols, r.rows]);
      const permuted = c.normRope && (l.name === 'self_attn.q_proj' || l.name === 'self_attn.k_proj');
      const { d, q } = blockFields(t);
      const nb = r.cols / 32;
      const wrong = { codes: 0, d: 0 };
      for (let i = 0; i < r.rows; i++) {
        const row = permuted ? hfRow(i, config.headDim) : i;
        for (let k = 0; k < r.cols; k++) {
          if (q[i * r.cols + k] !== r.codes[row * r.cols + k]) wrong.codes++;
          if (k % 32 === 0 && d[i * nb + k / 32] !== halfToFloat(floatToHalf(r.scales[r.gIdx[k] * r.rows + row]))) wrong.d++;
        }
      }
      expect(wrong, `blk.${b}.${c.names[l.name]}`).toEqual({ codes: 0, d: 0 });
    }
  }
}

describe('GGUF of the families in a real llama.cpp (CPU, offline)', () => {
  let llama: Llama;
  let rt: GpuRuntime;
  let tmp: string;

  beforeAll(async () => {
    llama = await cpuLlama();
    rt = await nodeRuntime();
    tmp = await mkdtemp(join(tmpdir(), 'gguf-families-'));
  });
  afterAll(async () => {
    rt?.destroy();
    await llama?.dispose();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  for (const c of CASES) {
    it(`${c.name}: same token ids, perplexity within 1%, F32 control exact, codes read back bit-exact`, async () => {
      const files = await c.files();
      const run = await runModel(rt, {
        files: sourcesOf(files),
        modelName: 'family-twin',
        calibration: { name: 'calibration', text: CALIBRATION },
        evaluations: [EVALUATION],
        evalWindowLimit: c.evalWindows,
        settings: { nsamples: 2, seqlen: c.seqlen, bits: 4, sym: true, groupSize: 32 },
        gpuMemoryBudget: 2 ** 30,
      });
      const plan = run.report.gguf!;
      expect(plan.refusal).toBeNull();
      expect(plan.type).toBe('Q4_0');
      const half = run.report.export.f16;
      const ours = textToIds(loadTokenizer(run.ckpt.tokenizerJson!, run.ckpt.tokenizerConfigJson), EVALUATION.text);
      const windows = evaluationWindows(ours, c.seqlen).slice(0, c.evalWindows);
      expect(windows).toHaveLength(c.evalWindows);

      const file = (control: boolean) => exportGguf({
        ckpt: run.ckpt, model: run.model, weights: run.weights, half, floatType: 'F32', modelName: `family-twin${control ? '-control' : ''}`,
        plan: control ? { ...plan, floatLinears: run.ckpt.layout.block.linears.map((l) => ({ name: l.name, reason: 'control' })) } : plan,
      });
      const read = readGguf(await fileBytes(file(false)));
      expect(kvValue(read, 'general.architecture', STRING)).toBe(c.arch);
      checkCodes(read, run, c);
      await c.check(read, run);

      const measure = async (control: boolean) => {
        const model = await llama.loadModel({ modelPath: await writeExport(file(control), tmp), gpuLayers: 0 });
        try {
          return { ids: model.tokenize(EVALUATION.text, true), ppl: await llamaPerplexity(model, windows) };
        } finally {
          await model.dispose();
        }
      };
      const q = await measure(false);
      const firstDiff = ours.findIndex((id, i) => q.ids[i] !== id);
      expect({ length: q.ids.length, firstDiff }).toEqual({ length: ours.length, firstDiff: -1 });
      const gptq = run.report.perplexity.gptq!;
      const rel = q.ppl / gptq - 1;
      const control = await measure(true);
      const relControl = control.ppl / gptq - 1;
      const line = (`  ${c.name.split(' (')[0]} (${c.evalWindows}×${c.seqlen} tokens): run ${gptq.toFixed(4)}, llama.cpp Q4_0 ${q.ppl.toFixed(4)} (${(rel * 100).toFixed(3)}%), ` +
        `F32 control ${control.ppl.toFixed(4)} (${relControl.toExponential(1)}), ${ours.length} token ids equal`);
      console.log(line);
      expect(Math.abs(rel)).toBeLessThan(0.01);
      expect(Math.abs(relControl)).toBeLessThan(1e-4);
    });
  }
});
