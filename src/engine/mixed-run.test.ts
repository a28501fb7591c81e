/**
 * A mixed-precision run of stories260K end to end: the sensitivity map, a plan for a target bits
 * per weight, the run with per-linear widths, and its export read back by the independent reader
 * (written from the format description alone) and by the studio's own reader: every linear at its
 * width with the run's codes, the read-back model's perplexity the run's, the bits per weight those
 * of the file's tensors, and `dynamic` rules that GPTQModel's and vLLM's names both match.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeRuntime } from '../testing/node-gpu';
import { folderSources } from '../testing/node-source';
import { readCorpus, sharedModelDir, STORIES_260K } from '../testing/shared-models';
import { readGptqCheckpoint, parseSafetensors } from '../testing/gptq-checkpoint-reader';
import { memorySource } from '../core/model/byte-source';
import { openCheckpoint } from '../core/model/checkpoint';
import { loadTokenizer } from '../core/model/tokenizer';
import { evaluationWindows, textToIds } from '../core/model/calibration';
import { moduleQuantConfig } from '../core/export/quant-config';
import type { GpuRuntime } from '../gpu/runtime';
import { exportCheckpoint } from './export-checkpoint';
import { weightKey } from './quantize-model';
import { loadModel } from './model/load-model';
import { GpuGlobals } from './model/model-forward';
import { perplexity } from './evaluate';
import { measureSensitivity, runMixedPrecision } from './mixed-run';
import type { RunInputs } from './run-model';
import { collectFiles } from '../testing/export-files';

let rt: GpuRuntime;
beforeAll(async () => {
  rt = await nodeRuntime();
});
afterAll(() => rt?.destroy());

const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** Index of the first entry where a and b differ (or their lengths), −1 when equal: quicker than a deep equality on long arrays. */
function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

describe('mixed precision', () => {
  it('plans widths for a target bpw, runs them, and the export reads back through both readers to the run\'s perplexity', async () => {
    const evaluation = { name: 'aesop', text: readCorpus('aesop_fables_body_reflowed.txt').slice(0, 1000) };
    const inputs: RunInputs = {
      files: await folderSources(sharedModelDir(STORIES_260K)),
      modelName: 'stories260K',
      calibration: { name: 'calib', text: readCorpus('stories260K_generated_200_seed20251122.txt').slice(0, 20_000) },
      evaluations: [evaluation],
      settings: { bits: 4, groupSize: 32, nsamples: 2, seqlen: 32 },
      gpuMemoryBudget: 2 ** 30,
    };
    const map = await measureSensitivity(rt, inputs);
    expect(map.linears).toHaveLength(35);
    const target = 4.6;
    const { report, weights, ckpt, plan } = await runMixedPrecision(rt, inputs, target, { map });
    const widths = report.settings.moduleBits!;
    console.log(`target ${target}: ${plan.bpw.toFixed(4)} bpw, base ${plan.baseBits} bits, weights per width ${JSON.stringify(plan.weightsPerBits)}`);
    expect(plan.bpw).toBeLessThanOrEqual(target);
    expect(plan.bpw).toBeGreaterThan(plan.range.min);
    expect(Object.keys(plan.weightsPerBits).length).toBeGreaterThan(1);
    expect(Object.keys(widths).length).toBeGreaterThan(0);
    expect(report.mixedPrecision).toMatchObject({ target, baseBits: plan.baseBits, sensitivityFrom: 'gptq:4g32' });
    const widthOf = (b: number, n: string) => widths[`${b}.${n}`] ?? report.settings.bits;
    for (let b = 0; b < 5; b++) {
      // vLLM's fused layers share a width.
      expect(new Set(['q_proj', 'k_proj', 'v_proj'].map((n) => widthOf(b, `self_attn.${n}`))).size).toBe(1);
      expect(widthOf(b, 'mlp.gate_proj')).toBe(widthOf(b, 'mlp.up_proj'));
    }
    expect(report.layers.map((l) => l.bits)).toEqual(report.layers.map((l) => widthOf(l.block, l.name)));
    expect(report.gguf!.refusal).toMatch(/mixed-precision/);
    expect(report.export.warnings.join(' ')).toMatch(/transformers and optimum drop `dynamic`/);

    const exported = await collectFiles(exportCheckpoint({ ckpt, gptq: weights.gptq, report, plan: report.export, folder: 'out' }));
    const config = JSON.parse(text(exported.get('config.json')!));
    const q = config.quantization_config;
    expect(q.bits).toBe(plan.baseBits);
    const rules = Object.keys(q.dynamic);
    expect(rules.every((r) => r.startsWith('+:'))).toBe(true);
    // The rules match GPTQModel's unfused names and vLLM's fused ones, and nothing at the base width.
    const info = { bits: q.bits, groupSize: 32, sym: true, descAct: false, format: 'gptq' as const, dynamic: rules.map((k) => ({ pattern: k.slice(2), negative: false, bits: q.dynamic[k].bits })) };
    for (let b = 0; b < 5; b++) {
      for (const n of ['self_attn.q_proj', 'self_attn.v_proj', 'self_attn.o_proj', 'mlp.up_proj', 'mlp.down_proj']) {
        expect(moduleQuantConfig(info, `model.layers.${b}.${n}`)!.bits, `${b}.${n}`).toBe(widthOf(b, n));
      }
      expect(moduleQuantConfig(info, `model.layers.${b}.self_attn.qkv_proj`)!.bits).toBe(widthOf(b, 'self_attn.q_proj'));
      expect(moduleQuantConfig(info, `model.layers.${b}.mlp.gate_up_proj`)!.bits).toBe(widthOf(b, 'mlp.up_proj'));
    }
    expect(JSON.parse(text(exported.get('quantize_config.json')!))).toEqual(q);
    expect(text(exported.get('README.md')!)).toMatch(/Mixed precision: .* at \d bits/);

    // The independent reader: every linear at its width, the run's codes, zeros, scales and weights.
    const read = readGptqCheckpoint({
      'model.safetensors': exported.get('model.safetensors')!,
      'config.json': text(exported.get('config.json')!),
      'quantize_config.json': text(exported.get('quantize_config.json')!),
    });
    expect(read.layers.size).toBe(35);
    for (let b = 0; b < 5; b++) {
      for (const l of ckpt.layout.block.linears) {
        const run = weights.gptq.get(weightKey(b, l.name))!;
        const layer = read.layers.get(`model.layers.${b}.${l.name}`)!;
        expect(layer.bits, `${b}.${l.name}`).toBe(widthOf(b, l.name));
        expect(firstDifference(layer.codes, run.codes), `${b}.${l.name} codes`).toBe(-1);
        expect(firstDifference(layer.scales, Float32Array.from(run.scales)), `${b}.${l.name} scales`).toBe(-1);
        expect(firstDifference(layer.W, run.Q), `${b}.${l.name} W`).toBe(-1);
      }
    }
    // Bits per weight: the file's qweight, qzeros, scales and g_idx bytes over the model's weights.
    const tensors = parseSafetensors(exported.get('model.safetensors')!);
    let bits = 0;
    for (const [name, t] of tensors) if (/\.(qweight|qzeros|scales|g_idx)$/.test(name)) bits += t.data.length * 8;
    const modelWeights = 5 * ckpt.layout.block.linears.reduce((s, l) => s + l.out * l.in, 0);
    expect(bits / modelWeights).toBeCloseTo(plan.bpw, 12);

    // The studio's own reader, and the read-back model's perplexity: the run's.
    const back = await openCheckpoint([...exported].map(([name, bytes]) => memorySource(name, bytes)));
    expect(back.summary().dtype).toMatch(new RegExp(`^GPTQ ${plan.baseBits}-bit, some linears [0-9/]+-bit`));
    for (const l of back.layout.block.linears) {
      expect(firstDifference(await back.readLinearWeight(3, l.name), read.layers.get(`model.layers.3.${l.name}`)!.W)).toBe(-1);
    }
    const model = await loadModel(back);
    const windows = Uint32Array.from(evaluationWindows(textToIds(loadTokenizer(back.tokenizerJson!, back.tokenizerConfigJson), evaluation.text), 32).flat());
    const globals = await GpuGlobals.load(rt, model.spec, model.globals);
    const ppl = await perplexity(rt, globals, model.block, windows, 32, 2);
    globals.release();
    expect(ppl).toBe(report.perplexity.gptq);
  });

  it('refuses a target below every linear at 2 bits, before any work', async () => {
    const inputs: RunInputs = {
      files: await folderSources(sharedModelDir(STORIES_260K)),
      modelName: 'stories260K',
      calibration: { name: 'calib', text: readCorpus('stories260K_generated_200_seed20251122.txt').slice(0, 20_000) },
      evaluations: [{ name: 'aesop', text: readCorpus('aesop_fables_body_reflowed.txt').slice(0, 2000) }],
      settings: { bits: 4, groupSize: 32, nsamples: 2, seqlen: 32 },
      gpuMemoryBudget: 2 ** 30,
    };
    // A map of the model's shapes (the errors do not matter for the narrowest plan).
    const ckpt = await openCheckpoint(inputs.files);
    const linears = Array.from({ length: 5 }, (_, b) => ckpt.layout.block.linears.map((l) => ({
      block: b, name: l.name, rows: l.out, cols: l.in, N: l.name.startsWith('mlp.') && l.name !== 'mlp.down_proj' ? 192 : l.out,
      K: l.name === 'mlp.down_proj' ? 192 : l.in, mse: { 2: 4, 3: 3, 4: 2, 8: 1 },
    }))).flat();
    await expect(runMixedPrecision(rt, inputs, 2.1, { map: { label: 'gptq:4g32', widths: [2, 3, 4, 8], linears } })).rejects.toThrow(/2\.1 bits per weight is below the narrowest plan: every linear at 2 bits already takes \d\.\d{3} \(scales, zeros and g_idx included\)/);
  });
});
