import { describe, expect, it } from 'vitest';
import { exportWarnings, isSoftwareAdapter, runSettingsOf, suggestedSettings } from './run-settings';
import { defaultSettings } from '../store/studio-state';
import type { ModelInfo } from '../../worker/types';
import type { AdapterSummary } from '../../gpu/device';

const info = (hiddenSize: number, defaultSeqlen = 256): ModelInfo => ({
  summary: { arch: 'llama', blocks: 4, hiddenSize, parameters: 1, dtype: 'F32', files: ['model.safetensors'], tokenizer: true, bytes: 4 },
  heads: 4, kvHeads: 2, intermediateSize: 256, vocabSize: 1024, maxPositions: defaultSeqlen, defaultSeqlen,
});
const adapter = (over: Partial<AdapterSummary>) => ({ vendor: 'nvidia', architecture: 'hopper', device: '', description: '', isFallbackAdapter: false, ...over }) as AdapterSummary;

describe('studio settings', () => {
  it('picks the largest group size that divides the hidden size, and a small calibration on software adapters', () => {
    expect(suggestedSettings(info(128), adapter({}))).toEqual({ groupSize: 128, nsamples: 32, seqlen: 256, evalWindows: null });
    expect(suggestedSettings(info(64, 512), adapter({ vendor: 'google', architecture: 'swiftshader' }))).toEqual({ groupSize: 64, nsamples: 8, seqlen: 128, evalWindows: 16 });
    expect(suggestedSettings(info(48), null).groupSize).toBe(-1);
    expect(isSoftwareAdapter(adapter({ isFallbackAdapter: true }))).toBe(true);
    expect(isSoftwareAdapter(adapter({ device: 'llvmpipe (LLVM 15.0.6, 256 bits)' }))).toBe(true);
  });

  it('fills the window length from the model unless set, and warns about exports loaders treat differently', () => {
    expect(runSettingsOf(defaultSettings, info(128, 300)).seqlen).toBe(300);
    expect(runSettingsOf({ ...defaultSettings, seqlen: 64 }, info(128)).seqlen).toBe(64);
    expect(exportWarnings(defaultSettings)).toEqual([]);
    expect(exportWarnings({ ...defaultSettings, sym: false }).join(' ')).toMatch(/gptq_v2/);
    expect(exportWarnings({ ...defaultSettings, bits: 5 }).join(' ')).toMatch(/no GPTQ checkpoint format/);
    expect(exportWarnings({ ...defaultSettings, actOrder: true }).join(' ')).toMatch(/desc_act: true/);
  });
});
