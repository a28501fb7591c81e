/**
 * The exported checkpoint's README.md: what it is, which files the folder holds, how it was made,
 * how well it does, how to load it. It names files by their names only, never a path.
 */
import { counted } from '../plural';
import type { GgufFloatType, RunReport } from '../report';
import type { RunSettings } from '../run';
import type { ExportPlan } from './plan';
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
      return 'this card';
    default:
      throw new Error(`the model card has no line for ${name}`);
  }
}

/** The GGUF for llama.cpp, one line: its block type and what is stored as floats. */
export function ggufFileNote(type: GgufQuantType, floatType: GgufFloatType): string {
  return `the same quantized model as a GGUF for llama.cpp: linears in ${type} blocks (${GGUF_BLOCKS[type]} per 32 weights) ` +
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
    `Quantized with GPTQ Studio from \`${report.model.name}\` (${report.model.arch}, ${counted(report.model.blocks, 'block')}, ` +
      `${report.model.parameters.toLocaleString('en-US')} parameters, ${report.model.dtype}). Every float tensor is ` +
      'stored as float16, the dtype GPTQ loaders run in (`torch_dtype` and `dtype` in config.json).',
    '',
    ...(files.length > 0 ? ['## Files', '', ...files.map((f) => `- \`${f.name}\`: ${f.what}`), ''] : []),
    '## Settings',
    '',
    `| bits | group size | grid | act-order | static groups | damping | true-sequential | MSE search | format |`,
    `|---|---|---|---|---|---|---|---|---|`,
    `| ${s.bits} | ${s.groupSize} | ${s.sym ? 'symmetric' : 'asymmetric'} | ${s.actOrder} | ${s.staticGroups} | ${s.percDamp} | ${s.trueSequential} | ${s.mse} | ${plan.format} |`,
    '',
    `Calibration: ${counted(s.nsamples, 'window')} of ${counted(s.seqlen, 'token')} from \`${report.calibration.text}\` (seed ${s.seed}).`,
    '',
    '## Perplexity',
    '',
    '| text | windows × tokens | original | RTN | GPTQ |',
    '|---|---|---|---|---|',
    ...report.evaluations.map((p) => `| ${p.text} | ${p.windows} × ${p.seqlen} | ${fmt(p.original)} | ${fmt(p.rtn)} | ${fmt(p.gptq)} |`),
    '',
    'The original model is measured with its values as stored; RTN and GPTQ with the float16 values of this file ' +
      '(GPTQ is this checkpoint).',
    '',
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
  if (plan.unquantized.length > 0) {
    lines.push('Left in full precision (listed in `quantization_config.dynamic` and `modules_in_block_to_quantize`):', '');
    for (const u of plan.unquantized) lines.push(`- \`${u.name}\`: ${u.reason}`);
    lines.push('');
  }
  if (plan.warnings.length > 0) {
    lines.push('## What the loaders do with it', '');
    for (const w of plan.warnings) lines.push(`- ${w}`);
    lines.push('');
  }
  lines.push('## Loading', '', '```python', snippets.transformers, '```', '', '```python', snippets.vllm, '```', '');
  return lines.join('\n');
}
