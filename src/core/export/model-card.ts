/** The exported checkpoint's README.md: what it is, how it was made, how well it does, how to load it. */
import type { RunReport } from '../report';
import type { ExportPlan } from './plan';

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

export function modelCard(report: RunReport, plan: ExportPlan, folder: string, prompt?: string): string {
  const s = report.settings;
  const snippets = loadSnippets(folder, prompt);
  const lines = [
    `# ${report.model.name}, GPTQ ${s.bits}-bit`,
    '',
    `Quantized with GPTQ Studio from \`${report.model.name}\` (${report.model.arch}, ${report.model.blocks} blocks, ` +
      `${report.model.parameters.toLocaleString('en-US')} parameters, ${report.model.dtype}). Every float tensor is ` +
      'stored as float16, the dtype GPTQ loaders run in (`torch_dtype` and `dtype` in config.json).',
    '',
    '## Settings',
    '',
    `| bits | group size | grid | act-order | static groups | damping | true-sequential | MSE search | format |`,
    `|---|---|---|---|---|---|---|---|---|`,
    `| ${s.bits} | ${s.groupSize} | ${s.sym ? 'symmetric' : 'asymmetric'} | ${s.actOrder} | ${s.staticGroups} | ${s.percDamp} | ${s.trueSequential} | ${s.mse} | ${plan.format} |`,
    '',
    `Calibration: ${s.nsamples} windows of ${s.seqlen} tokens from \`${report.calibration.text}\` (seed ${s.seed}).`,
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
    lines.push(`Mixed precision: ${[...count].sort((a, b) => a[0] - b[0]).map(([w, n]) => `${n} linear${n > 1 ? 's' : ''} at ${w} bits`).join(', ')} ` +
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
