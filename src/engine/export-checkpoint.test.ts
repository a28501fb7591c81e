/**
 * The export's round trip on real runs: the files read back by the independent reader (written
 * from the format description alone) and by the studio's own reader give exactly the run's codes,
 * zero points, g_idx, F16 scales and dequantized weights; every other tensor is the original
 * rounded to F16; and the perplexity of the read-back model is the run's GPTQ perplexity (the run
 * measures the file's values). The zip holds the same bytes as the folder, and no path.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { nodeRuntime } from '../testing/node-gpu';
import { folderSources } from '../testing/node-source';
import { MAKEMORE_NAMES, readCorpus, SHARED_MODELS_DIR, sharedModelDir, STORIES_260K } from '../testing/shared-models';
import { readGptqCheckpoint } from '../testing/gptq-checkpoint-reader';
import { memorySource } from '../core/model/byte-source';
import { openCheckpoint } from '../core/model/checkpoint';
import { loadTokenizer } from '../core/model/tokenizer';
import { evaluationWindows, textToIds } from '../core/model/calibration';
import { roundedToHalf } from '../core/export/f16';
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
import { collectFiles } from '../testing/export-files';

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe('GPTQ checkpoint export', () => {
  let rt: GpuRuntime;
  beforeAll(async () => {
    rt = await nodeRuntime();
  });
  afterAll(() => rt?.destroy());

  const cases: { model: string; calib: string; evalText: string; settings: Partial<RunSettings>; padded: number | null; modelName?: string }[] = [
    // Named by an absolute path, as a careless caller might: no path may reach the card, the report or the zip.
    { model: STORIES_260K, calib: 'stories260K_generated_200_seed20251122.txt', evalText: 'aesop_fables_body_reflowed.txt', settings: { bits: 4, groupSize: 32, sym: true }, padded: 192, modelName: sharedModelDir(STORIES_260K) },
    { model: STORIES_260K, calib: 'stories260K_generated_200_seed20251122.txt', evalText: 'aesop_fables_body_reflowed.txt', settings: { bits: 3, groupSize: 32, sym: false, actOrder: true }, padded: 192 },
    { model: STORIES_260K, calib: 'stories260K_generated_200_seed20251122.txt', evalText: 'aesop_fables_body_reflowed.txt', settings: { bits: 2, groupSize: 64, sym: false }, padded: 192 },
    { model: MAKEMORE_NAMES, calib: 'names_eot.txt', evalText: 'names_eot.txt', settings: { bits: 8, groupSize: -1, sym: true, actOrder: true, seqlen: 16 }, padded: null },
  ];

  for (const c of cases) {
    const label = `${c.model} ${c.settings.bits}-bit g${c.settings.groupSize} ${c.settings.sym ? 'sym' : 'asym'}${c.settings.actOrder ? ' act-order' : ''}`;
    it(`${label}: both readers give back the run's quantization; the read-back model's perplexity is the run's`, async () => {
      const files = await folderSources(sharedModelDir(c.model));
      const evaluation = { name: c.evalText, text: readCorpus(c.evalText).slice(0, 1500) };
      const { report, weights, ckpt } = await runModel(rt, {
        files,
        modelName: c.modelName ?? c.model,
        calibration: { name: c.calib, text: readCorpus(c.calib).slice(0, 30_000) },
        evaluations: [evaluation],
        settings: { nsamples: 4, seqlen: 64, ...c.settings },
        gpuMemoryBudget: 2 ** 30,
      });
      expect(report.export.refusal).toBeNull();
      expect(report.export.intermediate?.to ?? null).toBe(c.padded);
      const exported = await collectFiles(exportCheckpoint({ ckpt, gptq: weights.gptq, report, plan: report.export, folder: 'out' }));
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
      expect([config.torch_dtype, config.dtype]).toEqual(['float16', 'float16']);
      expect(report.export.f16).toBe(true);
      expect(read.layers.size).toBe(weights.gptq.size);
      for (let b = 0; b < ckpt.config.numLayers; b++) {
        for (const l of ckpt.layout.block.linears) {
          const run = weights.gptq.get(weightKey(b, l.name))!;
          const layer = read.layers.get(`${ckpt.layout.blockPrefix(b)}${l.name}`)!;
          expect([layer.outFeatures, layer.inFeatures]).toEqual([run.rows, run.cols]);
          expect(layer.codes).toEqual(Uint32Array.from(run.codes));
          expect(Array.from(layer.zeros)).toEqual(Array.from(run.zeros));
          expect(Array.from(layer.gIdx)).toEqual(Array.from(run.gIdx));
          // The run kept its scales as F16 and its Q as their dequantization: the file holds exactly these.
          expect(layer.scales).toEqual(Float32Array.from(run.scales));
          expect(layer.W).toEqual(run.Q);
        }
      }
      // Every other tensor is F16: the original rounded to nearest.
      for (const [name, t] of read.others) {
        expect(t.dtype, name).toBe('F16');
        expect(t.values).toEqual(roundedToHalf(await ckpt.readTensor(name)));
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
      const globals = await GpuGlobals.load(rt, model.spec, model.globals);
      const ppl = await perplexity(rt, globals, model.block, windows, report.perplexity.seqlen, 64);
      globals.release();
      console.log(`${label}: run GPTQ perplexity ${report.perplexity.gptq}, read back ${ppl}`);
      // The same values through the same kernels, summed in the same order: the same number.
      expect(ppl).toBe(report.perplexity.gptq);

      // Shared files carry no path of the machine.
      for (const [name, bytes] of exported) {
        if (name.endsWith('.json') || name.endsWith('.md')) expect(text(bytes), name).not.toContain(SHARED_MODELS_DIR);
      }
      expect(text(exported.get('README.md')!)).toMatch(new RegExp(`^# ${c.model}, GPTQ ${c.settings.bits}-bit`));

      // The zip holds the same files under the folder name.
      const zip = unzipSync(new Uint8Array(await (await zipFiles(exportCheckpoint({ ckpt, gptq: weights.gptq, report, plan: report.export, folder: 'out' }), 'out')).arrayBuffer()));
      expect(Object.keys(zip).sort()).toEqual([...exported.keys()].map((n) => `out/${n}`).sort());
      for (const [name, bytes] of exported) expect(zip[`out/${name}`]).toEqual(bytes);
    });
  }

  it('a run whose layers cannot be packed leaves them unquantized (as F16), named in the config', async () => {
    const files = await folderSources(sharedModelDir(MAKEMORE_NAMES));
    // Group size 128: only mlp.c_proj (256 inputs) holds whole groups; the other three stay in full precision.
    const names = readCorpus('names_eot.txt').slice(0, 3000);
    const { report, weights, ckpt } = await runModel(rt, {
      files, modelName: MAKEMORE_NAMES,
      calibration: { name: 'c', text: names },
      evaluations: [{ name: 'e', text: names.slice(0, 600) }],
      settings: { nsamples: 2, seqlen: 16, bits: 4, groupSize: 128 },
      gpuMemoryBudget: 2 ** 30,
    });
    expect(report.export.unquantized.map((u) => u.name)).toEqual(['attn.c_attn', 'attn.c_proj', 'mlp.c_fc']);
    expect(report.layers.map((l) => l.name)).toEqual(['mlp.c_proj', 'mlp.c_proj', 'mlp.c_proj', 'mlp.c_proj']);
    const exported = await collectFiles(exportCheckpoint({ ckpt, gptq: weights.gptq, report, plan: report.export, folder: 'out' }));
    const config = JSON.parse(text(exported.get('config.json')!));
    expect(Object.keys(config.quantization_config.dynamic)).toContain('-:^transformer\\.h\\.\\d+\\.attn\\.c_attn$');
    expect(config.quantization_config.modules_in_block_to_quantize).toEqual([['mlp.c_proj']]);
    const back = await openCheckpoint([...exported].map(([name, bytes]) => memorySource(name, bytes)));
    expect(back.tensors.get('transformer.h.2.attn.c_attn.weight')!.dtype).toBe('F16');
    expect(await back.readLinearWeight(2, 'attn.c_attn')).toEqual(roundedToHalf(await ckpt.readLinearWeight(2, 'attn.c_attn')));
    expect(text(exported.get('README.md')!)).toMatch(/Left in full precision/);
    // The read-back model is the run's GPTQ model: same perplexity.
    const model = await loadModel(back);
    const ids = Uint32Array.from(evaluationWindows(textToIds(loadTokenizer(back.tokenizerJson!, null), names.slice(0, 600)), 16).flat());
    const globals = await GpuGlobals.load(rt, model.spec, model.globals);
    const ppl = await perplexity(rt, globals, model.block, ids, 16, 2);
    globals.release();
    expect(ppl).toBe(report.perplexity.gptq);
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
      // An empty folder given as out (a mount point, the folder the user is in) is written into, never
      // replaced: the same folder before and after, and left empty by a failed write.
      const given = join(dir, 'given');
      await mkdir(given);
      const ino = (await stat(given)).ino;
      await expect(writeAtomically(given, [broken])).rejects.toThrow(/disk full/);
      expect(await readdir(given)).toEqual([]);
      await writeAtomically(given, [ok]);
      expect(await readdir(given)).toEqual(['a.txt']);
      expect((await stat(given)).ino).toBe(ino);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const ckpt = await openCheckpoint(await folderSources(sharedModelDir(STORIES_260K)));
    const plan = { refusal: '5-bit weights have no GPTQ checkpoint format', format: 'gptq' as const, intermediate: null, unquantized: [], f16: true, warnings: [] };
    expect(() => exportCheckpoint({ ckpt, gptq: new Map(), report: {} as never, plan, folder: 'x' })).toThrow(/5-bit/);
  });
});
