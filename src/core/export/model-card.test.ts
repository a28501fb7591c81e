import { describe, expect, it } from 'vitest';
import { checkpointFileNote, ggufFileNote, imatrixFileNote, modelCard, REPORT_FILE_NOTE } from './model-card';
import type { RunReport } from '../report';
import { defaultRunSettings } from '../run';
import type { ExportPlan } from './plan';

const plan: ExportPlan = { refusal: null, format: 'gptq', intermediate: null, unquantized: [], f16: true, warnings: [] };
const ppl = { text: 'eval.txt', seqlen: 32, windows: 2, original: 20, rtn: 24, gptq: 22 };
const report = {
  settings: { ...defaultRunSettings, bits: 4, groupSize: 32, nsamples: 2, seqlen: 32 },
  model: { name: 'stories260K', arch: 'llama', blocks: 5, hiddenSize: 64, parameters: 260_000, dtype: 'F32' },
  calibration: { text: 'calib.txt', tokens: 1000, windows: [[1, 2]] },
  evaluations: [ppl],
} as unknown as RunReport;

describe('model card', () => {
  it('lists every file given, each with what it is: the GGUF with its block type and floats, imatrix, report.json', () => {
    const files = [
      ...['model.safetensors', 'config.json', 'README.md'].map((name) => ({ name, what: checkpointFileNote(name, report.settings, plan) })),
      { name: 'stories260K-Q4_0.gguf', what: ggufFileNote('Q4_0', 'F32') },
      { name: 'imatrix.gguf', what: imatrixFileNote(report.settings) },
      { name: 'report.json', what: REPORT_FILE_NOTE },
    ];
    const card = modelCard(report, plan, 'stories260K-gptq', undefined, files);
    const listed = card.split('\n').filter((l) => l.startsWith('- `'));
    expect(listed.map((l) => /^- `([^`]+)`: /.exec(l)?.[1])).toEqual(files.map((f) => f.name));
    expect(card).toContain('## Files');
    expect(card).toMatch(/^- `stories260K-Q4_0\.gguf`: the same quantized model as a GGUF for llama\.cpp: linears in Q4_0 blocks \(4-bit codes with one F16 scale per 32 weights\).*floats in F32, norms and biases F32$/m);
    expect(card).toMatch(/^- `imatrix\.gguf`: the importance matrix .*2 windows of 32 tokens.*`llama-quantize --imatrix`$/m);
    expect(card).toMatch(/^- `model\.safetensors`: .*GPTQ 4-bit, `gptq` zero points/m);
    expect(card).toMatch(/^- `README\.md`: this card$/m);
    expect(ggufFileNote('Q4_1', 'F16')).toMatch(/Q4_1 blocks \(4-bit codes with an F16 scale and minimum per 32 weights\).*floats in F16/);
    expect(ggufFileNote('Q8_0', 'F16')).toMatch(/Q8_0 blocks \(8-bit codes/);
    // Without files there is no list (callers that list nothing get the card as before).
    expect(modelCard(report, plan, 'x')).not.toContain('## Files');
  });

  it('has a line for every file a GPTQ checkpoint writes, and refuses to invent one', () => {
    for (const name of ['model.safetensors', 'config.json', 'quantize_config.json', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json', 'README.md']) {
      expect(checkpointFileNote(name, report.settings, plan).length, name).toBeGreaterThan(8);
    }
    expect(checkpointFileNote('model.safetensors', { bits: 3, moduleBits: { '0.mlp.down_proj': 4 } }, plan)).toContain('GPTQ 3-bit base, other widths named in `quantization_config.dynamic`');
    expect(() => checkpointFileNote('weights.bin', report.settings, plan)).toThrow(/no line for weights\.bin/);
  });

  it('counts in the singular when there is one: one block, one calibration window, one linear at a width', () => {
    const one = { ...report, settings: { ...report.settings, nsamples: 1, seqlen: 32, moduleBits: { '0.mlp.down_proj': 8 } }, model: { ...report.model, blocks: 1 } } as RunReport;
    const card = modelCard(one, plan, 'x');
    expect(card).toContain('(llama, 1 block, 260,000 parameters');
    expect(card).toContain('Calibration: 1 window of 32 tokens from `calib.txt`');
    expect(card).toContain('Mixed precision: 1 linear at 8 bits');
    expect(imatrixFileNote({ nsamples: 1, seqlen: 32 })).toContain('over 1 window of 32 tokens');
    expect(imatrixFileNote({ nsamples: 4, seqlen: 1 })).toContain('over 4 windows of 1 token');
  });
});
