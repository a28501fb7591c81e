/**
 * The export folder's README.md: what it holds, which files, how it was made, how well it does,
 * how to load or run it. One card writer for both exports: modelCard for a GPTQ checkpoint folder
 * (with a GGUF beside it or not), ggufModelCard for a folder holding only the GGUF and its
 * imatrix.gguf (the CLI's --format gguf); they share every section but the title, the first
 * paragraph and how to run it. It names files by their names only, never a path.
 */
import { counted } from '../plural';
import type { GgufFloatType, RunReport } from '../report';
import type { RunSettings } from '../run';
import type { ExportPlan, UnquantizedLinear } from './plan';
import type { GgufQuantType } from './gguf/constants';

/** A file of the export folder and one line on what it is, as the card lists it. */
export interface CardFile {
  name: string;
  what: string;
}

/** What the GGUF block types store per block of 32 weights (llama.cpp's ggml-common.h). */
const GGUF_BLOCKS: Record<GgufQuantType, string> = {
  Q4_0: '4-bit codes with one F16 scale',
  Q4_1: '4-bit codes with an F16 scale and minimum',
  Q8_0: '8-bit codes with one F16 scale',
};

/** What a file of the GPTQ checkpoint is (the names exportCheckpoint writes); throws on a name it does not write. */
export function checkpointFileNote(name: string, settings: Pick<RunSettings, 'bits' | 'moduleBits'>, plan: Pick<ExportPlan, 'format'>): string {
  const mixed = settings.moduleBits && Object.keys(settings.moduleBits).length > 0;
  switch (name) {
    case 'model.safetensors':
      return `the weights: every quantized linear as qweight, qzeros, scales and g_idx (GPTQ ${settings.bits}-bit` +
        `${mixed ? ' base, other widths named in `quantization_config.dynamic`' : ''}, \`${plan.format}\` zero points), every other tensor float16`;
    case 'config.json':
      return "the model's config with its `quantization_config`, and `torch_dtype`/`dtype` float16";
    case 'quantize_config.json':
      return 'the quantization settings alone, for loaders that read this file (AutoGPTQ, GPTQModel)';
    case 'tokenizer.json':
      return 'the tokenizer, as in the source model';
    case 'tokenizer_config.json':
      return "the tokenizer's settings, as in the source model";
    case 'generation_config.json':
      return 'generation defaults, as in the source model';
    case 'README.md':
      return CARD_FILE_NOTE;
    default:
      throw new Error(`the model card has no line for ${name}`);
  }
}

/** README.md, one line. */
export const CARD_FILE_NOTE = 'this card';

/**
 * The GGUF for llama.cpp, one line: its block type and what is stored as floats. `besideCheckpoint`:
 * a GPTQ checkpoint of the same model is in the folder (the GGUF is "the same quantized model").
 */
export function ggufFileNote(type: GgufQuantType, floatType: GgufFloatType, besideCheckpoint = true): string {
  return `${besideCheckpoint ? 'the same quantized model' : 'the quantized model'} as a GGUF for llama.cpp: linears in ${type} blocks (${GGUF_BLOCKS[type]} per 32 weights) ` +
    `made from this run's codes and scales, embeddings and linears kept as floats in ${floatType}, norms and biases F32`;
}

/** imatrix.gguf, one line. */
export function imatrixFileNote(settings: Pick<RunSettings, 'nsamples' | 'seqlen'>): string {
  return `the importance matrix of the calibration (each quantized linear's squared inputs summed per input column over ` +
    `${counted(settings.nsamples, 'window')} of ${counted(settings.seqlen, 'token')}) in llama.cpp's imatrix format, for \`llama-quantize --imatrix\``;
}

/** report.json, one line. */
export const REPORT_FILE_NOTE = "the run's record: settings, calibration windows, every linear's output error, perplexities, " +
  'divergence from the original, timings, and the files written';

/** A perplexity for the card: 3 decimals, or "not measured" (a run cancelled during its evaluation). */
const fmt = (x: number | null) => (x === null ? 'not measured' : Number.isFinite(x) ? x.toFixed(3) : String(x));

/** The load snippets' prompt unless told otherwise. */
export const DEFAULT_SNIPPET_PROMPT = 'Once upon a time';

/** Python that loads the folder with transformers (through optimum + gptqmodel) and with vLLM, and continues `prompt`. */
export function loadSnippets(folder: string, prompt = DEFAULT_SNIPPET_PROMPT): { transformers: string; vllm: string } {
  const p = JSON.stringify(prompt);
  return {
    transformers: [
      '# pip install transformers optimum gptqmodel',
      'from transformers import AutoModelForCausalLM, AutoTokenizer',
      `model = AutoModelForCausalLM.from_pretrained("${folder}", device_map="auto")`,
      `tokenizer = AutoTokenizer.from_pretrained("${folder}")`,
      `ids = tokenizer(${p}, return_tensors="pt").to(model.device)`,
      'print(tokenizer.decode(model.generate(**ids, max_new_tokens=32)[0]))',
    ].join('\n'),
    vllm: [
      '# pip install vllm',
      'from vllm import LLM, SamplingParams',
      `llm = LLM(model="${folder}", quantization="gptq", dtype="float16")`,
      `print(llm.generate([${p}], SamplingParams(max_tokens=32))[0].outputs[0].text)`,
    ].join('\n'),
  };
}

/** "Quantized with GPTQ Studio from `name` (arch, N blocks, P parameters, dtype)." */
function sourceSentence(report: RunReport): string {
  return `Quantized with GPTQ Studio from \`${report.model.name}\` (${report.model.arch}, ${counted(report.model.blocks, 'block')}, ` +
    `${report.model.parameters.toLocaleString('en-US')} parameters, ${report.model.dtype}).`;
}

/** "## Files" with one line per file, in the order given; nothing when none. */
function filesSection(files: readonly CardFile[]): string[] {
  return files.length > 0 ? ['## Files', '', ...files.map((f) => `- \`${f.name}\`: ${f.what}`), ''] : [];
}

/** "## Settings": the run's settings as a table whose last column is the file's format (`format`: its header and value), and the calibration. */
function settingsSection(report: RunReport, format: { header: string; value: string }): string[] {
  const s = report.settings;
  return [
    '## Settings',
    '',
    `| bits | group size | grid | act-order | static groups | damping | true-sequential | MSE search | ${format.header} |`,
    `|---|---|---|---|---|---|---|---|---|`,
    `| ${s.bits} | ${s.groupSize} | ${s.sym ? 'symmetric' : 'asymmetric'} | ${s.actOrder} | ${s.staticGroups} | ${s.percDamp} | ${s.trueSequential} | ${s.mse} | ${format.value} |`,
    '',
    `Calibration: ${counted(s.nsamples, 'window')} of ${counted(s.seqlen, 'token')} from \`${report.calibration.text}\` (seed ${s.seed}).`,
    '',
  ];
}

/**
 * "## Perplexity": one row per evaluation text, then what was measured (`note`), and, when a value
 * was not measured, that the evaluation was cancelled (the only way a finished run lacks one).
 */
function perplexitySection(report: RunReport, note: string): string[] {
  const unmeasured = report.evaluations.some((p) => p.original === null || p.rtn === null || p.gptq === null);
  return [
    '## Perplexity',
    '',
    '| text | windows × tokens | original | RTN | GPTQ |',
    '|---|---|---|---|---|',
    ...report.evaluations.map((p) => `| ${p.text} | ${p.windows} × ${p.seqlen} | ${fmt(p.original)} | ${fmt(p.rtn)} | ${fmt(p.gptq)} |`),
    '',
    note,
    '',
    ...(unmeasured ? ['The evaluation was cancelled before it finished: a perplexity marked "not measured" was not measured on its text ' +
      '(null in report.json); the quantized model itself is complete.', ''] : []),
  ];
}

/** A list of linears with why (left in full precision, kept as floats), under `title`; nothing when none. */
function linearsList(title: string, linears: readonly UnquantizedLinear[]): string[] {
  return linears.length > 0 ? [title, '', ...linears.map((u) => `- \`${u.name}\`: ${u.reason}`), ''] : [];
}

/**
 * README.md of a GPTQ checkpoint folder. `files`: every file of the folder (the checkpoint's, and
 * what is written beside it: a GGUF, imatrix.gguf, report.json), each with one line on what it is;
 * listed under "Files" in the order given (none: no list).
 */
export function modelCard(report: RunReport, plan: ExportPlan, folder: string, prompt?: string, files: readonly CardFile[] = []): string {
  const s = report.settings;
  const snippets = loadSnippets(folder, prompt);
  const lines = [
    `# ${report.model.name}, GPTQ ${s.bits}-bit`,
    '',
    `${sourceSentence(report)} Every float tensor is ` +
      'stored as float16, the dtype GPTQ loaders run in (`torch_dtype` and `dtype` in config.json).',
    '',
    ...filesSection(files),
    ...settingsSection(report, { header: 'format', value: plan.format }),
    ...perplexitySection(report, 'The original model is measured with its values as stored; RTN and GPTQ with the float16 values of this file ' +
      '(GPTQ is this checkpoint).'),
  ];
  if (s.moduleBits && Object.keys(s.moduleBits).length > 0) {
    const count = new Map<number, number>();
    for (const w of Object.values(s.moduleBits)) count.set(w, (count.get(w) ?? 0) + 1);
    lines.push(`Mixed precision: ${[...count].sort((a, b) => a[0] - b[0]).map(([w, n]) => `${counted(n, 'linear')} at ${w} bits`).join(', ')} ` +
      `(the base is ${s.bits} bits; the others are named in \`quantization_config.dynamic\`).`, '');
  }
  if (plan.intermediate) {
    lines.push(`The MLP width was padded with zeros from ${plan.intermediate.from} to ${plan.intermediate.to} so that ` +
      'every linear packs; the model computes the same function.', '');
  }
  lines.push(...linearsList('Left in full precision (listed in `quantization_config.dynamic` and `modules_in_block_to_quantize`):', plan.unquantized));
  if (plan.warnings.length > 0) {
    lines.push('## What the loaders do with it', '');
    for (const w of plan.warnings) lines.push(`- ${w}`);
    lines.push('');
  }
  lines.push('## Loading', '', '```python', snippets.transformers, '```', '', '```python', snippets.vllm, '```', '');
  return lines.join('\n');
}

/** What a GGUF-only card says of its GGUF: the file's name, block type, float type and the linears kept as floats. */
export interface GgufCardFile {
  /** The GGUF's file name (e.g. "stories260K-Q4_1.gguf"), never a path. */
  name: string;
  type: GgufQuantType;
  floatType: GgufFloatType;
  /** Linears written as floats (GgufPlan.floatLinears), with why. */
  floatLinears: readonly UnquantizedLinear[];
}

/** Shell lines that run the GGUF with llama.cpp: a completion of `prompt` and a server. */
export function llamaCppSnippets(file: string, prompt = DEFAULT_SNIPPET_PROMPT): string {
  const p = JSON.stringify(prompt);
  return [
    `# continue a prompt (llama.cpp builds before December 2025: llama-cli -no-cnv -m … instead)`,
    `llama-completion -m ${file} -p ${p} -n 32`,
    '',
    '# or serve it (web page and OpenAI-compatible API on http://localhost:8080)',
    `llama-server -m ${file}`,
    `curl http://localhost:8080/completion -d '${JSON.stringify({ prompt, n_predict: 32 })}'`,
  ].join('\n');
}

/**
 * README.md of a folder holding a run's GGUF without a GPTQ checkpoint (the CLI's --format gguf):
 * what the file is (the run's codes and scales as `gguf.type` blocks, not quantized again), the
 * files, the settings, the perplexities and how to run it with llama.cpp. `files` as modelCard's.
 */
export function ggufModelCard(report: RunReport, gguf: GgufCardFile, prompt?: string, files: readonly CardFile[] = []): string {
  const s = report.settings;
  const lines = [
    `# ${report.model.name}, GPTQ ${s.bits}-bit as GGUF ${gguf.type}`,
    '',
    `${sourceSentence(report)} \`${gguf.name}\` is the model for llama.cpp: its quantized linears hold this GPTQ run's ` +
      `own codes and scales as ${gguf.type} blocks (${GGUF_BLOCKS[gguf.type]} per 32 weights), not quantized again; ` +
      `embeddings and the linears kept as floats are ${gguf.floatType}, norms and biases F32.`,
    '',
    ...filesSection(files),
    ...settingsSection(report, { header: 'GGUF type', value: gguf.type }),
    ...perplexitySection(report, 'The original model is measured with its values as stored; GPTQ with the codes, scales and float ' +
      'values this file holds (GPTQ is this file), RTN with the same floats. llama.cpp computes in its own order and, on CPU, ' +
      'rounds activations to 8 bits in its quantized matrix products, so the perplexity it measures comes out close to the GPTQ ' +
      'column, not equal to it.'),
    ...(report.export.intermediate
      ? [`The MLP width is padded with zeros from ${report.export.intermediate.from} to ${report.export.intermediate.to}, as the run quantized it ` +
        '(the file\'s feed_forward_length says so); the model computes the same function.', '']
      : []),
    ...linearsList(`Kept as floats (${gguf.floatType}):`, gguf.floatLinears),
    '## Running it with llama.cpp',
    '',
    '```sh',
    llamaCppSnippets(gguf.name, prompt),
    '```',
    '',
  ];
  return lines.join('\n');
}
