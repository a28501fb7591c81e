/**
 * Our GGUF in a real llama.cpp: node-llama-cpp 3.21.1's prebuilt CPU binary, offline (build
 * "never", no GPU), with an F32 KV cache and no flash attention (../../shared/docs/gguf.md §8).
 * For stories260K (SentencePiece-style tokenizer) and the demo model (byte-level BPE), each at
 * Q4_0, Q4_1 and Q8_0, a run quantizes the model and writes its GGUF, and llama.cpp must give:
 *  - the same token ids as ours on the whole evaluation text;
 *  - the run's GPTQ perplexity on the run's own evaluation windows within 0.5% (llama.cpp rounds
 *    activations to 8 bits in its quantized matmuls: about 1e-3);
 *  - the same greedy continuation of a prompt as our GPU engine, up to the first step where our two
 *    best logits are within NEAR_TIE of each other (there the 8-bit activations may choose either;
 *    a difference anywhere else fails).
 * Embeddings are written as F32 so that the file holds exactly the values the run measured; the
 * F16 setting is checked too, once per model, with the same bound (its difference is printed).
 * A control file with every linear as F32 copies of the run's weights (no quantized matmuls, so no
 * 8-bit activations) must give the run's perplexity within 1e-4: the layout, metadata, RoPE row
 * order and tokenizer are exact, and what remains in the 0.5% is llama.cpp's activation rounding.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Llama, LlamaModel, Token } from 'node-llama-cpp';
import { nodeRuntime } from '../src/testing/node-gpu';
import { folderSources } from '../src/testing/node-source';
import { readCorpus, sharedModelDir, STORIES_260K } from '../src/testing/shared-models';
import { loadTokenizer } from '../src/core/model/tokenizer';
import { evaluationWindows, textToIds } from '../src/core/model/calibration';
import type { RunSettings } from '../src/core/run';
import type { GpuRuntime } from '../src/gpu/runtime';
import { runModel } from '../src/engine/run-model';
import { exportGguf, exportImatrix, type GgufFloatType } from '../src/engine/export-gguf';
import { GpuGlobals, scoreSequences, type BlockSource } from '../src/engine/model/model-forward';
import { variantModels } from '../src/engine/evaluate';
import { cpuLlama, llamaPerplexity, writeExport } from './llama-helpers';

const here = fileURLToPath(new URL('.', import.meta.url));
const DEMO = join(here, '../public/demo');
const NSAMPLES = 2;
const PROMPT_TOKENS = 16;
const GREEDY_TOKENS = 12;
/** Logit gap below which two tokens count as tied (llama.cpp's Q8_0 activations move logits by a few 1e-2). */
const NEAR_TIE = 0.1;
/** The calibration windows need far less text than the files hold; tokenizing less keeps the test fast. */
const CALIBRATION_CHARS = 30_000;

interface ModelCase {
  name: string;
  /** Window length and evaluation windows: enough tokens that llama.cpp's 8-bit activation noise averages below 0.5%. */
  seqlen: number;
  evalWindows: number;
  dir: string;
  calibration: string;
  evaluation: { name: string; text: string };
}

const models: ModelCase[] = [
  {
    name: 'stories260K',
    seqlen: 128,
    evalWindows: 4,
    dir: sharedModelDir(STORIES_260K),
    calibration: readCorpus('stories260K_generated_200_seed20251122.txt').slice(0, CALIBRATION_CHARS),
    evaluation: { name: 'aesop_fables_body_reflowed.txt', text: readCorpus('aesop_fables_body_reflowed.txt') },
  },
  {
    name: 'demo',
    seqlen: 64,
    evalWindows: 2,
    dir: DEMO,
    calibration: readFileSync(join(DEMO, 'calibration.txt'), 'utf8').slice(0, CALIBRATION_CHARS),
    evaluation: { name: 'eval-kjv.txt', text: readFileSync(join(DEMO, 'eval-kjv.txt'), 'utf8') },
  },
];

const grids: { type: string; settings: Partial<RunSettings>; alsoF16: boolean }[] = [
  { type: 'Q4_0', settings: { bits: 4, sym: true, groupSize: 32 }, alsoF16: true },
  { type: 'Q4_1', settings: { bits: 4, sym: false, groupSize: 64, actOrder: true, staticGroups: true }, alsoF16: false },
  { type: 'Q8_0', settings: { bits: 8, sym: true, groupSize: -1, actOrder: true }, alsoF16: false },
];

/** Greedy continuation in llama.cpp: the most probable token, fed back, n times. */
async function llamaGreedy(model: LlamaModel, prompt: readonly number[], n: number): Promise<number[]> {
  const context = await model.createContext({
    contextSize: prompt.length + n, batchSize: prompt.length + n, sequences: 1, threads: 1, flashAttention: false,
    experimentalKvCacheKeyType: 'F32', experimentalKvCacheValueType: 'F32',
  });
  try {
    const sequence = context.getSequence();
    const out: number[] = [];
    let feed = prompt.map((t) => t as Token);
    for (let i = 0; i < n; i++) {
      const items = feed.map((t, j) => (j === feed.length - 1 ? ([t, { generateNext: { probabilities: true } }] as const) : t));
      const results = await sequence.controlledEvaluate(items as Parameters<typeof sequence.controlledEvaluate>[0]);
      const probabilities = results[feed.length - 1]!.next.probabilities!;
      let best = -1;
      let bestP = -1;
      for (const [token, p] of probabilities) {
        if (p > bestP) {
          best = token as number;
          bestP = p;
        }
      }
      out.push(best);
      feed = [best as Token];
    }
    return out;
  } finally {
    await context.dispose();
  }
}

/** Our greedy continuation on the GPU, with the logits of each step. */
async function ourGreedy(rt: GpuRuntime, globals: GpuGlobals, blocks: BlockSource, prompt: readonly number[], n: number) {
  const ids = [...prompt];
  const tokens: number[] = [];
  const logits: Float32Array[] = [];
  for (let i = 0; i < n; i++) {
    const s = await scoreSequences(rt, globals, blocks, Uint32Array.from(ids), ids.length);
    const next = s.argmax[ids.length - 1];
    tokens.push(next);
    logits.push(s.lastLogits);
    ids.push(next);
  }
  return { tokens, logits };
}

/** How many greedy tokens agree; a difference must fall on a near tie of our logits. */
function agreement(ours: { tokens: number[]; logits: Float32Array[] }, theirs: number[]): number {
  for (let i = 0; i < ours.tokens.length; i++) {
    if (theirs[i] === ours.tokens[i]) continue;
    const gap = ours.logits[i][ours.tokens[i]] - ours.logits[i][theirs[i]];
    expect(gap, `greedy step ${i}: ours ${ours.tokens[i]}, llama.cpp ${theirs[i]}, logit gap ${gap}`).toBeLessThan(NEAR_TIE);
    return i;
  }
  return ours.tokens.length;
}

describe('GGUF in a real llama.cpp (CPU, offline)', () => {
  let llama: Llama;
  let rt: GpuRuntime;
  let tmp: string;
  const summary: string[] = [];

  beforeAll(async () => {
    llama = await cpuLlama();
    rt = await nodeRuntime();
    tmp = await mkdtemp(join(tmpdir(), 'gguf-llama-'));
  });
  afterAll(async () => {
    rt?.destroy();
    await llama?.dispose();
    if (tmp) await rm(tmp, { recursive: true, force: true });
    if (summary.length) process.stderr.write(`\nllama.cpp against the run:\n${summary.join('\n')}\n`);
  });

  for (const m of models) {
    let ours: number[] = [];
    for (const grid of grids) {
      it(`${m.name} ${grid.type}: same token ids, perplexity within 0.5%, same greedy tokens`, async () => {
        const run = await runModel(rt, {
          files: await folderSources(m.dir),
          modelName: m.name,
          calibration: { name: 'calibration', text: m.calibration },
          evaluations: [m.evaluation],
          evalWindowLimit: m.evalWindows,
          settings: { nsamples: NSAMPLES, seqlen: m.seqlen, ...grid.settings },
          gpuMemoryBudget: 2 ** 30,
        });
        const plan = run.report.gguf!;
        expect(plan.refusal).toBeNull();
        expect(plan.type).toBe(grid.type);
        if (ours.length === 0) ours = textToIds(loadTokenizer(run.ckpt.tokenizerJson!, run.ckpt.tokenizerConfigJson), m.evaluation.text);
        const windows = evaluationWindows(ours, m.seqlen).slice(0, m.evalWindows);
        const prompt = windows[0].slice(0, PROMPT_TOKENS);

        const half = run.report.export.f16;
        const globals = await GpuGlobals.load(rt, run.model.spec, run.model.globals, { half });
        const greedy = await ourGreedy(rt, globals, variantModels(rt, run.model, run.weights, half).gptq.blocks, prompt, GREEDY_TOKENS).finally(() => globals.release());

        const measure = async (floatType: GgufFloatType, control = false) => {
          // The control keeps every linear as F32 copies of the run's Q (no quantized matmuls).
          const asFloats = control ? { ...plan, floatLinears: run.ckpt.layout.block.linears.map((l) => ({ name: l.name, reason: 'control' })) } : plan;
          const path = await writeExport(exportGguf({ ckpt: run.ckpt, model: run.model, weights: run.weights, plan: asFloats, modelName: `${m.name}-${floatType}${control ? '-control' : ''}`, floatType, half }), tmp);
          const model = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
          try {
            const ids = model.tokenize(m.evaluation.text, true);
            return { ids, ppl: await llamaPerplexity(model, windows), greedy: await llamaGreedy(model, prompt, GREEDY_TOKENS) };
          } finally {
            await model.dispose();
          }
        };
        const f32 = await measure('F32');
        // Token ids on the whole evaluation text (compared as a whole: a first difference is shown).
        const firstDiff = ours.findIndex((id, i) => f32.ids[i] !== id);
        expect({ length: f32.ids.length, firstDiff }).toEqual({ length: ours.length, firstDiff: -1 });
        const gptq = run.report.perplexity.gptq!;
        const rel = f32.ppl / gptq - 1;
        expect(Math.abs(rel)).toBeLessThan(0.005);
        const agreed = agreement(greedy, f32.greedy);
        const control = await measure('F32', true);
        const relControl = control.ppl / gptq - 1;
        expect(Math.abs(relControl)).toBeLessThan(1e-4);
        let line = `  ${m.name} ${grid.type} (${m.evalWindows}×${m.seqlen} tokens): run ${gptq.toFixed(4)}, llama.cpp ${f32.ppl.toFixed(4)} (${(rel * 100).toFixed(3)}%), ` +
          `F32 control ${control.ppl.toFixed(4)} (${relControl.toExponential(1)}), ${ours.length} token ids equal, ` +
          `greedy ${agreed}/${GREEDY_TOKENS} equal${agreed < GREEDY_TOKENS ? ' (then a near tie)' : ''}`;
        if (grid.alsoF16) {
          const f16 = await measure('F16');
          const rel16 = f16.ppl / gptq - 1;
          expect(Math.abs(rel16)).toBeLessThan(0.005);
          line += `; F16 embeddings: ${f16.ppl.toFixed(4)} (${(rel16 * 100).toFixed(3)}%)`;

          // imatrix.gguf of the same run, parsed by node-llama-cpp's own GGUF reader.
          const { readGgufFileInfo } = await import('node-llama-cpp');
          const path = await writeExport(exportImatrix({ ckpt: run.ckpt, weights: run.weights, settings: run.report.settings, calibrationName: 'calibration' }), tmp);
          const info = await readGgufFileInfo(path, { logWarnings: false });
          const meta = info.metadata as unknown as { general: { type: string }; imatrix: { chunk_count: number; chunk_size: number; datasets: string[] } };
          expect(meta.general.type).toBe('imatrix');
          expect(meta.imatrix).toEqual({ chunk_count: NSAMPLES, chunk_size: m.seqlen, datasets: ['calibration'] });
          expect(info.tensorInfo?.length).toBe(2 * run.ckpt.layout.numBlocks * run.ckpt.layout.block.linears.length);
          expect(info.tensorInfo?.find((t) => t.name === 'blk.0.attn_q.weight.in_sum2')?.dimensions.map(Number)).toEqual([run.ckpt.config.hiddenSize, 1]);
        }
        summary.push(line);
      });
    }
  }
});
