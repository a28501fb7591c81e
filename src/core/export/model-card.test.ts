import { describe, expect, it } from 'vitest';
import { CARD_FILE_NOTE, checkpointFileNote, ggufFileNote, ggufModelCard, imatrixFileNote, modelCard, REPORT_FILE_NOTE } from './model-card';
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
  export: plan,
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

  it('a GGUF without a checkpoint gets its own card from the same sections: the file, its type, the floats kept, how to run it', () => {
    const gguf = { name: 'stories260K-Q8_0.gguf', type: 'Q8_0' as const, floatType: 'F32' as const, floatLinears: [{ name: 'mlp.down_proj', reason: 'in-features 172 are not a multiple of 32' }] };
    const files = [
      { name: gguf.name, what: ggufFileNote('Q8_0', 'F32', false) },
      { name: 'imatrix.gguf', what: imatrixFileNote(report.settings) },
      { name: 'README.md', what: CARD_FILE_NOTE },
      { name: 'report.json', what: REPORT_FILE_NOTE },
    ];
    const unmeasured = { ...report, evaluations: [{ ...ppl, gptq: null }] } as RunReport;
    const card = ggufModelCard(unmeasured, gguf, 'The king said', files);
    expect(card.split('\n')[0]).toBe('# stories260K, GPTQ 4-bit as GGUF Q8_0');
    expect(card).toContain('(llama, 5 blocks, 260,000 parameters, F32). `stories260K-Q8_0.gguf` is the model for llama.cpp');
    expect(card).toContain('as Q8_0 blocks (8-bit codes with one F16 scale per 32 weights), not quantized again; embeddings and the linears kept as floats are F32');
    expect(card.split('\n').filter((l) => l.startsWith('- `')).map((l) => /^- `([^`]+)`: /.exec(l)?.[1])).toEqual([...files.map((f) => f.name), 'mlp.down_proj']);
    expect(card).toMatch(/^- `stories260K-Q8_0\.gguf`: the quantized model as a GGUF for llama\.cpp/m);
    expect(card).toContain('| GGUF type |');
    expect(card).toContain('| eval.txt | 2 × 32 | 20.000 | 24.000 | not measured |');
    // Why a value is missing, said once; a card whose perplexities were all measured does not say it.
    expect(card.match(/The evaluation was cancelled before it finished/g)).toHaveLength(1);
    expect(ggufModelCard(report, gguf, 'The king said', files)).not.toContain('cancelled');
    expect(card).toMatch(/^Kept as floats \(F32\):\n\n- `mlp\.down_proj`: in-features 172/m);
    expect(card).toContain('llama-completion -m stories260K-Q8_0.gguf -p "The king said" -n 32');
    expect(card).toContain(`curl http://localhost:8080/completion -d '{"prompt":"The king said","n_predict":32}'`);
    expect(card).not.toContain('## Loading');
    expect(card).not.toContain('padded');
    // A padded MLP is said, as the checkpoint's card says it.
    const padded = ggufModelCard({ ...unmeasured, export: { ...unmeasured.export, intermediate: { from: 172, to: 192 } } }, gguf, 'The king said', files);
    expect(padded).toContain('The MLP width is padded with zeros from 172 to 192, as the run quantized it (the file\'s feed_forward_length says so)');
    // The checkpoint's card is the one that calls a GGUF beside it "the same quantized model".
    expect(ggufFileNote('Q8_0', 'F32')).toMatch(/^the same quantized model as a GGUF/);
  });
});
