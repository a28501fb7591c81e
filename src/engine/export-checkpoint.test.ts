/**
 * The export's round trip on real runs: the files read back by the independent reader (written
 * from the format description alone) and by the studio's own reader give exactly the run's codes,
 * zero points and g_idx, scales to F16 rounding, and the perplexity of the read-back model equals
 * the run's GPTQ perplexity within F16 rounding. The zip holds the same bytes as the folder.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { nodeRuntime } from '../testing/node-gpu';
import { folderSources } from '../testing/node-source';
import { MAKEMORE_NAMES, readCorpus, sharedModelDir, STORIES_260K } from '../testing/shared-models';
import { readGptqCheckpoint } from '../testing/gptq-checkpoint-reader';
import { memorySource } from '../core/model/byte-source';
import { openCheckpoint } from '../core/model/checkpoint';
import { loadTokenizer } from '../core/model/tokenizer';
import { evaluationWindows, textToIds } from '../core/model/calibration';
import { floatToHalf, halfToFloat } from '../core/model/float-convert';
import { zipFiles } from '../core/export/zip';
import type { ExportFile } from '../core/export/safetensors-writer';
import type { RunSettings } from '../core/run';
import type { GpuRuntime } from '../gpu/runtime';
import { runModel } from './run-model';
import { exportCheckpoint } from './export-checkpoint';
import { weightKey } from './quantize-model';
import { loadModel } from './model/load-model';
import { GpuGlobals } from './model/model-forward';
import { perplexity } from './evaluate';
import { writeAtomically } from '../cli/write-folder';

async function collect(files: ExportFile[]): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for (const f of files) {
    const parts: Uint8Array[] = [];
    for await (const c of f.chunks()) parts.push(c.slice());
    const bytes = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
    let at = 0;
    for (const p of parts) {
      bytes.set(p, at);
      at += p.length;
    }
    expect(bytes.length).toBe(f.size);
    out.set(f.name, bytes);
  }
  return out;
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe('GPTQ checkpoint export', () => {
  let rt: GpuRuntime;
  beforeAll(async () => {
    rt = await nodeRuntime();
  });
  afterAll(() => rt?.destroy());

  const cases: { model: string; calib: string; evalText: string; settings: Partial<RunSettings>; padded: number | null }[] = [
    { model: STORIES_260K, calib: 'stories260K_generated_200_seed20251122.txt', evalText: 'aesop_fables_body_reflowed.txt', settings: { bits: 4, groupSize: 32, sym: true }, padded: 192 },
    { model: STORIES_260K, calib: 'stories260K_generated_200_seed20251122.txt', evalText: 'aesop_fables_body_reflowed.txt', settings: { bits: 3, groupSize: 32, sym: false, actOrder: true }, padded: 192 },
    { model: STORIES_260K, calib: 'stories260K_generated_200_seed20251122.txt', evalText: 'aesop_fables_body_reflowed.txt', settings: { bits: 2, groupSize: 64, sym: false }, padded: 192 },
    { model: MAKEMORE_NAMES, calib: 'names_eot.txt', evalText: 'names_eot.txt', settings: { bits: 8, groupSize: -1, sym: true, actOrder: true, seqlen: 16 }, padded: null },
  ];

  for (const c of cases) {
    const label = `${c.model} ${c.settings.bits}-bit g${c.settings.groupSize} ${c.settings.sym ? 'sym' : 'asym'}${c.settings.actOrder ? ' act-order' : ''}`;
    it(`${label}: both readers give back the run's quantization; the read-back model's perplexity is the run's`, async () => {
      const files = await folderSources(sharedModelDir(c.model));
      const evaluation = { name: c.evalText, text: readCorpus(c.evalText).slice(0, 2500) };
      const { report, weights, ckpt } = await runModel(rt, {
        files,
        modelName: c.model,
        calibration: { name: c.calib, text: readCorpus(c.calib) },
        evaluations: [evaluation],
        settings: { nsamples: 4, seqlen: 64, ...c.settings },
        gpuMemoryBudget: 2 ** 30,
      });
      expect(report.export.refusal).toBeNull();
      expect(report.export.intermediate?.to ?? null).toBe(c.padded);
      const exported = await collect(exportCheckpoint({ ckpt, gptq: weights.gptq, report, plan: report.export, folder: 'out' }));
      expect([...exported.keys()].sort()).toEqual(
        ['README.md', 'config.json', 'model.safetensors', 'quantize_config.json', 'tokenizer.json', 'tokenizer_config.json', ...(c.model === STORIES_260K ? ['generation_config.json'] : [])].sort());

      // The independent reader.
      const read = readGptqCheckpoint({
        'model.safetensors': exported.get('model.safetensors')!,
        'config.json': text(exported.get('config.json')!),
        'quantize_config.json': text(exported.get('quantize_config.json')!),
      });
      expect(read.metadata).toEqual({ format: 'pt' });
      expect(read.quant).toEqual({ bits: c.settings.bits, groupSize: c.settings.groupSize, sym: c.settings.sym, descAct: c.settings.actOrder === true && c.settings.groupSize !== -1, checkpointFormat: c.settings.sym ? 'gptq' : 'gptq_v2' });
      const config = JSON.parse(text(exported.get('config.json')!));
      if (c.padded) expect(config.intermediate_size).toBe(c.padded);
      expect(read.layers.size).toBe(weights.gptq.size);
      let worst = 0;
      for (let b = 0; b < ckpt.config.numLayers; b++) {
        for (const l of ckpt.layout.block.linears) {
          const run = weights.gptq.get(weightKey(b, l.name))!;
          const layer = read.layers.get(`${ckpt.layout.blockPrefix(b)}${l.name}`)!;
          expect([layer.outFeatures, layer.inFeatures]).toEqual([run.rows, run.cols]);
          expect(layer.codes).toEqual(Uint32Array.from(run.codes));
          expect(Array.from(layer.zeros)).toEqual(Array.from(run.zeros));
          expect(Array.from(layer.gIdx)).toEqual(Array.from(run.gIdx));
          for (let i = 0; i < run.scales.length; i++) {
            if (layer.scales[i] !== halfToFloat(floatToHalf(run.scales[i]))) expect.fail(`scale ${i} of ${l.name}`);
          }
          // Dequantized weights differ from the run's Q only by the F16 rounding of the scales.
          const Q = run.Q;
          for (let i = 0; i < Q.length; i++) {
            const n = Math.floor(i / run.cols);
            const g = run.gIdx[i % run.cols];
            const s = run.scales[g * run.rows + n];
            const bound = Math.abs(run.codes[i] - run.zeros[g * run.rows + n]) * Math.abs(s) * 2 ** -11 + 1e-7 * Math.abs(Q[i]);
            const d = Math.abs(layer.W[i] - Q[i]);
            if (d > bound) expect.fail(`${l.name}[${i}]: ${layer.W[i]} vs ${Q[i]}`);
            worst = Math.max(worst, d / (Math.abs(s) || 1));
          }
        }
      }
      for (const [name, t] of read.others) {
        const original = await ckpt.readTensor(name);
        expect(t.values).toEqual(original);
      }

      // The studio's own reader, and the perplexity of the model it reads back.
      const back = await openCheckpoint([...exported].map(([name, bytes]) => memorySource(name, bytes)));
      expect(back.quantization).toMatchObject({ bits: c.settings.bits, format: c.settings.sym ? 'gptq' : 'gptq_v2' });
      expect(back.summary().dtype).toMatch(new RegExp(`^GPTQ ${c.settings.bits}-bit`));
      for (const l of back.layout.block.linears) {
        expect(await back.readLinearWeight(1, l.name)).toEqual(read.layers.get(`${back.layout.blockPrefix(1)}${l.name}`)!.W);
      }
      const model = await loadModel(back);
      const tok = loadTokenizer(back.tokenizerJson!, back.tokenizerConfigJson);
      const windows = Uint32Array.from(evaluationWindows(textToIds(tok, evaluation.text), report.perplexity.seqlen).flat());
      const globals = new GpuGlobals(rt, model.spec, model.globals);
      const ppl = await perplexity(rt, globals, model.block, windows, report.perplexity.seqlen, 64);
      globals.release();
      console.log(`${label}: run GPTQ perplexity ${report.perplexity.gptq.toFixed(5)}, read back ${ppl.toFixed(5)}; worst |ΔW|/scale ${worst.toExponential(2)}`);
      expect(Math.abs(ppl / report.perplexity.gptq - 1)).toBeLessThan(2e-3);

      // The zip holds the same files under the folder name.
      const zip = unzipSync(new Uint8Array(await (await zipFiles(exportCheckpoint({ ckpt, gptq: weights.gptq, report, plan: report.export, folder: 'out' }), 'out')).arrayBuffer()));
      expect(Object.keys(zip).sort()).toEqual([...exported.keys()].map((n) => `out/${n}`).sort());
      for (const [name, bytes] of exported) expect(zip[`out/${name}`]).toEqual(bytes);
    });
  }

  it('a run whose layers cannot be packed leaves them unquantized, named in the config, written as they were', async () => {
    const files = await folderSources(sharedModelDir(STORIES_260K));
    // Group size 128 on 64 inputs: no whole groups anywhere, so nothing is quantized and nothing padded.
    const { report, weights, ckpt } = await runModel(rt, {
      files, modelName: STORIES_260K,
      calibration: { name: 'c', text: readCorpus('stories260K_generated_200_seed20251122.txt') },
      evaluations: [{ name: 'e', text: readCorpus('aesop_fables_body_reflowed.txt').slice(0, 800) }],
      settings: { nsamples: 2, seqlen: 32, bits: 4, groupSize: 128 },
      gpuMemoryBudget: 2 ** 30,
    });
    expect(report.export.unquantized).toHaveLength(7);
    expect(report.layers).toHaveLength(0);
    expect(report.perplexity.gptq).toBe(report.perplexity.original);
    const exported = await collect(exportCheckpoint({ ckpt, gptq: weights.gptq, report, plan: report.export, folder: 'out' }));
    const config = JSON.parse(text(exported.get('config.json')!));
    expect(Object.keys(config.quantization_config.dynamic)).toContain('-:^model\\.layers\\.\\d+\\.self_attn\\.k_proj$');
    expect(config.quantization_config.modules_in_block_to_quantize).toEqual([]);
    const back = await openCheckpoint([...exported].map(([name, bytes]) => memorySource(name, bytes)));
    expect(await back.readLinearWeight(2, 'mlp.down_proj')).toEqual(await ckpt.readLinearWeight(2, 'mlp.down_proj'));
    expect(text(exported.get('README.md')!)).toMatch(/Left in full precision/);
  });

  it('refuses to export settings without a format, and a failed write leaves no folder behind', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'export-'));
    try {
      const broken: ExportFile = {
        name: 'model.safetensors',
        size: 10,
        async *chunks() {
          yield new Uint8Array(4);
          throw new Error('disk full');
        },
      };
      const out = join(dir, 'out');
      await expect(writeAtomically(out, [broken])).rejects.toThrow(/disk full/);
      expect(await readdir(dir)).toEqual([]);
      const short: ExportFile = { name: 'a.txt', size: 3, async *chunks() { yield new Uint8Array(2); } };
      await expect(writeAtomically(out, [short])).rejects.toThrow(/wrote 2 bytes, expected 3/);
      expect(await readdir(dir)).toEqual([]);
      const ok: ExportFile = { name: 'a.txt', size: 2, async *chunks() { yield new TextEncoder().encode('hi'); } };
      await writeAtomically(out, [ok]);
      expect(await readFile(join(out, 'a.txt'), 'utf8')).toBe('hi');
      expect((await stat(out)).isDirectory()).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const ckpt = await openCheckpoint(await folderSources(sharedModelDir(STORIES_260K)));
    const plan = { refusal: '5-bit weights have no GPTQ checkpoint format', format: 'gptq' as const, intermediate: null, unquantized: [], f16: true, warnings: [] };
    expect(() => exportCheckpoint({ ckpt, gptq: new Map(), report: {} as never, plan, folder: 'x' })).toThrow(/5-bit/);
  });
});
