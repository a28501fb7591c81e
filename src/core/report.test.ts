import { describe, expect, it } from 'vitest';
import { REPORT_ONLY, writtenReport, type RunReport } from './report';
import { defaultRunSettings } from './run';
import type { ExportPlan } from './export/plan';

const plan = (refusal: string | null = null): ExportPlan => ({ refusal, format: 'gptq_v2', intermediate: null, unquantized: [], f16: true, warnings: [] });

function runReport(exportPlan = plan()): RunReport {
  const ppl = { text: 'eval.txt', seqlen: 32, windows: 2, original: 20, rtn: 24, gptq: 22 };
  return {
    settings: { ...defaultRunSettings, bits: 4, groupSize: 32, sym: false, nsamples: 2, seqlen: 32 },
    model: { name: 'stories260K', arch: 'llama', blocks: 5, hiddenSize: 64, parameters: 260_000, dtype: 'F32' },
    adapter: {},
    calibration: { text: 'calib.txt', tokens: 1000, windows: [[1, 2]] },
    layers: [],
    perplexity: ppl,
    evaluations: [ppl],
    size: { originalBytes: 1_000_000, quantizedBytes: 300_000 },
    seconds: { calibration: 1, quantization: 2, evaluation: 3, total: 6 },
    export: exportPlan,
    gguf: { type: 'Q4_1', refusal: null, suggestion: null, floatLinears: [] },
    resources: { peak_rss_bytes: null, peak_gpu_bytes: 1 },
  };
}

describe('report.json of the files written', () => {
  it('records the export asked for beside the settings: --format and --gguf-float', () => {
    const both = writtenReport(runReport(), { format: 'both', ggufFloat: 'F32' }, ['report.json', 'model.safetensors', 'm-Q4_1.gguf', 'imatrix.gguf'], 123);
    expect(Object.keys(both).slice(0, 2)).toEqual(['settings', 'output']);
    expect(both.output).toEqual({ format: 'both', ggufFloat: 'F32' });
    expect(both.export).toEqual(plan());
    expect(both.size.quantizedBytes).toBe(300_000); // model.safetensors' size
    expect(both.files).toEqual(['report.json', 'model.safetensors', 'm-Q4_1.gguf', 'imatrix.gguf']);
    // A GPTQ checkpoint alone has no GGUF float type, whatever the flag's default.
    expect(writtenReport(runReport(), { format: 'gptq', ggufFloat: 'F16' }, ['report.json'], null).output).toEqual({ format: 'gptq', ggufFloat: null });
  });

  it('a GGUF-only export has no GPTQ plan: export is null, the GGUF is the quantized size, gguf keeps its type', () => {
    const r = writtenReport(runReport(), { format: 'gguf', ggufFloat: 'F16' }, ['report.json', 'm-Q4_1.gguf', 'imatrix.gguf'], 456);
    expect(r.export).toBeNull();
    expect(r.output).toEqual({ format: 'gguf', ggufFloat: 'F16' });
    expect(r.size).toEqual({ originalBytes: 1_000_000, quantizedBytes: 456 });
    expect(r.gguf).toMatchObject({ type: 'Q4_1', refusal: null });
    expect(JSON.parse(JSON.stringify(r)).export).toBeNull();
  });

  it('a GGUF not asked for has no plan, as a GPTQ checkpoint not asked for has none: gguf is null for --format gptq and report', () => {
    const gptq = writtenReport(runReport(), { format: 'gptq', ggufFloat: null }, ['report.json', 'model.safetensors'], null);
    expect(gptq.gguf).toBeNull();
    expect(gptq.export).toEqual(plan());
    const alone = writtenReport(runReport(), REPORT_ONLY, ['report.json'], null);
    expect(alone).toMatchObject({ output: { format: 'report', ggufFloat: null }, export: null, gguf: null });
    // Written as null, not left out: the keys of report.json are the same whatever was asked for.
    const json = JSON.parse(JSON.stringify(alone));
    expect(json.gguf).toBeNull();
    expect(Object.keys(json).sort()).toEqual(Object.keys(JSON.parse(JSON.stringify(writtenReport(runReport(), { format: 'both', ggufFloat: 'F16' }, [], 1)))).sort());
  });

  it('a GPTQ checkpoint asked for and refused keeps the plan that says why; the size is the GGUF written, or none', () => {
    const refused = runReport(plan('model.norm.weight holds 1.5e6, beyond float16'));
    const both = writtenReport(refused, { format: 'both', ggufFloat: 'F16' }, ['report.json', 'm-Q4_1.gguf', 'imatrix.gguf'], 789);
    expect(both.export?.refusal).toMatch(/beyond float16/);
    expect(both.size.quantizedBytes).toBe(789);
    expect(writtenReport(refused, { format: 'gptq', ggufFloat: null }, ['report.json'], null).size.quantizedBytes).toBeNull();
  });
});
