/**
 * An export folder as the CLI's --format gptq|gguf|both and the studio's zip write it, from one
 * real run of stories260K: the files in writing order, report.json saying what was written (the
 * export asked for, the GPTQ plan only with a GPTQ checkpoint, the quantized size of the file
 * written), and the model card (the checkpoint's, or the GGUF's when only a GGUF is written)
 * listing every file of the folder with one line on what it is, and no path of the machine. (The bytes of each file are tested by export-checkpoint and export-gguf.)
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeRuntime } from '../testing/node-gpu';
import { folderSources } from '../testing/node-source';
import { readCorpus, SHARED_MODELS_DIR, sharedModelDir, STORIES_260K } from '../testing/shared-models';
import type { ExportFile } from '../core/export/safetensors-writer';
import type { GpuRuntime } from '../gpu/runtime';
import { runModel, type RunOutput } from './run-model';
import { exportFolder } from './export-folder';
import { estimateExportBytes } from './export-size';

async function text(f: ExportFile | undefined): Promise<string> {
  expect(f).toBeDefined();
  let out = '';
  for await (const c of f!.chunks()) out += new TextDecoder().decode(c);
  return out;
}

const CHECKPOINT = ['model.safetensors', 'config.json', 'quantize_config.json', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json', 'README.md'];
// The folder as a user might give it (--out): only its last segment may reach the card.
const OUT = join(tmpdir(), 'ada', 'runs', 'stories260K-gptq');

describe('export folder', () => {
  let rt: GpuRuntime;
  let run: RunOutput;
  beforeAll(async () => {
    rt = await nodeRuntime();
    run = await runModel(rt, {
      files: await folderSources(sharedModelDir(STORIES_260K)),
      modelName: 'stories260K',
      calibration: { name: 'calib.txt', text: readCorpus('stories260K_generated_200_seed20251122.txt').slice(0, 20_000) },
      evaluations: [{ name: 'eval.txt', text: readCorpus('aesop_fables_body_reflowed.txt').slice(0, 600) }],
      settings: { nsamples: 2, seqlen: 32, bits: 4, groupSize: 32, sym: false },
      gpuMemoryBudget: 2 ** 30,
    });
  });
  afterAll(() => rt?.destroy());

  const noPaths = (content: string, what: string) => {
    for (const path of [tmpdir(), SHARED_MODELS_DIR, OUT]) expect(content, what).not.toContain(path);
  };

  it('--format both: checkpoint, GGUF, imatrix and report.json; the card lists each with what it is; report.json says what was asked', async () => {
    let made = 0;
    const folder = exportFolder({
      run, output: { format: 'both', ggufFloat: 'F32' }, folder: OUT,
      beforeReport: (r) => {
        made++;
        r.resources = { peak_rss_bytes: 7, peak_gpu_bytes: 8 };
      },
    });
    const names = folder.files.map((f) => f.name);
    expect(names).toEqual([...CHECKPOINT, 'stories260K-Q4_1.gguf', 'imatrix.gguf', 'report.json']);
    expect(folder.report.files).toEqual(['report.json', ...names.slice(0, -1)]);
    expect(folder.gptqRefusal).toBeNull();

    const card = await text(folder.files.find((f) => f.name === 'README.md'));
    const listed = card.split('\n').filter((l) => l.startsWith('- `')).map((l) => /^- `([^`]+)`: /.exec(l)![1]);
    expect([...listed].sort()).toEqual([...folder.report.files].sort());
    expect(card).toMatch(/^- `stories260K-Q4_1\.gguf`: the same quantized model as a GGUF for llama\.cpp: linears in Q4_1 blocks .*floats in F32/m);
    expect(card).toMatch(/^- `imatrix\.gguf`: the importance matrix .*2 windows of 32 tokens/m);
    expect(card).toMatch(/^- `report\.json`: the run's record/m);
    expect(card).toContain('from_pretrained("stories260K-gptq"');
    noPaths(card, 'README.md');

    expect(made).toBe(0); // report.json is made when it is written, after the other files
    const json = await text(folder.files.at(-1));
    expect(made).toBe(1);
    const r = JSON.parse(json);
    expect(Object.keys(r).slice(0, 2)).toEqual(['settings', 'output']);
    expect(r.output).toEqual({ format: 'both', ggufFloat: 'F32' });
    expect(r.export).toMatchObject({ refusal: null, format: 'gptq_v2' });
    expect(r.gguf).toMatchObject({ type: 'Q4_1', refusal: null });
    expect(r.size.quantizedBytes).toBe(folder.files[0].size); // model.safetensors
    expect(r.files).toEqual(folder.report.files);
    expect(r.resources).toEqual({ peak_rss_bytes: 7, peak_gpu_bytes: 8 });
    noPaths(json, 'report.json');
  });

  it('--format gguf: the GGUF, imatrix, their card and report.json; no GPTQ plan in the report, the GGUF is the quantized size', async () => {
    const folder = exportFolder({ run, output: { format: 'gguf', ggufFloat: 'F16' }, folder: OUT });
    expect(folder.files.map((f) => f.name)).toEqual(['stories260K-Q4_1.gguf', 'imatrix.gguf', 'README.md', 'report.json']);
    const r = JSON.parse(await text(folder.files[3]));
    expect(r.output).toEqual({ format: 'gguf', ggufFloat: 'F16' });
    expect(r.export).toBeNull();
    expect(r.gguf).toMatchObject({ type: 'Q4_1', refusal: null });
    expect(r.size.quantizedBytes).toBe(folder.files[0].size);
    expect(r.files).toEqual(['report.json', 'stories260K-Q4_1.gguf', 'imatrix.gguf', 'README.md']);

    // The card of a GGUF without a checkpoint: what the file is, its block type, every file of the
    // folder, the run's settings and perplexities, how to run it with llama.cpp; no GPTQ loading.
    const card = await text(folder.files[2]);
    expect(card).toMatch(/^# stories260K, GPTQ 4-bit as GGUF Q4_1$/m);
    expect(card).toContain('`stories260K-Q4_1.gguf` is the model for llama.cpp: its quantized linears hold this GPTQ run\'s own codes and scales as Q4_1 blocks');
    const listed = card.split('\n').filter((l) => l.startsWith('- `')).map((l) => /^- `([^`]+)`: /.exec(l)![1]);
    expect([...listed].sort()).toEqual([...r.files].sort());
    expect(card).toMatch(/^- `stories260K-Q4_1\.gguf`: the quantized model as a GGUF for llama\.cpp: linears in Q4_1 blocks .*floats in F16/m);
    expect(card).not.toContain('the same quantized model'); // no checkpoint here for it to be the same as
    expect(card).toMatch(/^- `imatrix\.gguf`: the importance matrix .*2 windows of 32 tokens/m);
    expect(card).toMatch(/^- `README\.md`: this card$/m);
    expect(card).toMatch(/^\| 4 \| 32 \| asymmetric \| false \| false \| 0\.01 \| true \| false \| Q4_1 \|$/m);
    const ppl = run.report.evaluations[0];
    expect(card).toContain(`| eval.txt | ${ppl.windows} × ${ppl.seqlen} | ${ppl.original!.toFixed(3)} | ${ppl.rtn!.toFixed(3)} | ${ppl.gptq!.toFixed(3)} |`);
    expect(card).toContain('Calibration: 2 windows of 32 tokens from `calib.txt`');
    expect(card).toContain('llama-completion -m stories260K-Q4_1.gguf -p "Once upon a time" -n 32');
    expect(card).toContain('llama-server -m stories260K-Q4_1.gguf');
    expect(card).not.toMatch(/from_pretrained|quantization_config|vllm/i);
    noPaths(card, 'README.md');
  });

  it('--format gptq (the studio\'s zip): the checkpoint and report.json; no GGUF in the card or the output', async () => {
    const folder = exportFolder({ run, output: { format: 'gptq', ggufFloat: 'F16' }, folder: 'stories260K-gptq-4bit-g32' });
    expect(folder.files.map((f) => f.name)).toEqual([...CHECKPOINT, 'report.json']);
    const card = await text(folder.files.find((f) => f.name === 'README.md'));
    expect(card).not.toContain('.gguf');
    expect(card).toMatch(/^- `report\.json`: /m);
    const r = JSON.parse(await text(folder.files.at(-1)));
    expect(r.output).toEqual({ format: 'gptq', ggufFloat: null });
    expect(r.export.format).toBe('gptq_v2');
    // No GGUF asked for: no GGUF plan in report.json, as no GPTQ plan when only a GGUF is.
    expect(r.gguf).toBeNull();
  });

  it('config.json\'s _name_or_path (transformers saves the folder it loaded from) keeps a Hub id and loses a local path', async () => {
    const configOf = async (nameOrPath: string) => {
      const configJson = JSON.stringify({ ...JSON.parse(run.ckpt.configJson), _name_or_path: nameOrPath });
      const folder = exportFolder({ run: { ...run, ckpt: { ...run.ckpt, configJson } }, output: { format: 'gptq', ggufFloat: null }, folder: 'out' });
      return text(folder.files.find((f) => f.name === 'config.json'));
    };
    const local = join(tmpdir(), 'ada', 'secret', 'Qwen2-tiny');
    const config = await configOf(local);
    noPaths(config, 'config.json');
    expect(JSON.parse(config)._name_or_path).toBe('Qwen2-tiny');
    expect(JSON.parse(await configOf('Qwen/Qwen2-0.5B'))._name_or_path).toBe('Qwen/Qwen2-0.5B');
  });

  it('the size estimated before the run is within 10 % above or below the files written, for each format', () => {
    for (const format of ['gptq', 'gguf', 'both'] as const) {
      for (const ggufFloat of ['F16', 'F32'] as const) {
        const folder = exportFolder({ run, output: { format, ggufFloat }, folder: OUT });
        const written = folder.files.reduce((s, f) => s + f.size, 0);
        const estimate = estimateExportBytes({
          ckpt: run.ckpt, settings: run.report.settings, exportPlan: run.report.export, ggufPlan: run.report.gguf ?? null, output: { format, ggufFloat },
        });
        expect(estimate / written, `${format} ${ggufFloat}: ${estimate} estimated, ${written} written`).toBeGreaterThan(0.9);
        expect(estimate / written, `${format} ${ggufFloat}: ${estimate} estimated, ${written} written`).toBeLessThan(1.1);
      }
    }
  });
});
