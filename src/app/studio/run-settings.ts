/** From the studio's settings and the loaded model to the engine's RunSettings, and sensible defaults. */
import type { AdapterSummary } from '../../gpu/device';
import type { RunSettings } from '../../core/run';
import type { ModelInfo } from '../../worker/types';
import type { SettingsSlice } from '../store/studio-state';

export function runSettingsOf(s: SettingsSlice, info: ModelInfo): RunSettings {
  return {
    bits: s.bits,
    groupSize: s.groupSize,
    sym: s.sym,
    actOrder: s.actOrder,
    staticGroups: s.staticGroups,
    percDamp: s.percDamp,
    trueSequential: s.trueSequential,
    mse: s.mse,
    blockSize: 128,
    nsamples: s.nsamples,
    seqlen: s.seqlen ?? info.defaultSeqlen,
    seed: s.seed,
  };
}

/** A software adapter (SwiftShader, llvmpipe, lavapipe) runs everything on the CPU. */
export function isSoftwareAdapter(a: AdapterSummary | null): boolean {
  if (!a) return false;
  return a.isFallbackAdapter || /swiftshader|llvmpipe|lavapipe|software/i.test(`${a.vendor} ${a.architecture} ${a.device}`);
}

/**
 * Settings suited to a model and an adapter: the largest of groups 128/64/32 that divides the
 * hidden size (so every linear holds whole groups), and a calibration a software adapter can
 * finish in a minute or two (8 windows of up to 128 tokens, perplexity on 16 windows per text) or
 * the usual 32 windows of up to 512 and whole evaluation texts.
 */
export function suggestedSettings(info: ModelInfo, adapter: AdapterSummary | null): Partial<SettingsSlice> {
  const hidden = info.summary.hiddenSize;
  const groupSize = [128, 64, 32].find((g) => hidden % g === 0) ?? -1;
  const software = isSoftwareAdapter(adapter);
  return {
    groupSize,
    nsamples: software ? 8 : 32,
    seqlen: Math.min(info.defaultSeqlen, software ? 128 : 512),
    evalWindows: software ? 16 : null,
  };
}

/** Warnings about settings that will not export to the common loaders. */
export function exportWarnings(s: SettingsSlice): string[] {
  const out: string[] = [];
  if (![2, 3, 4, 8].includes(s.bits)) out.push(`${s.bits}-bit weights have no GPTQ checkpoint format: the run compares, but there is no download.`);
  if (!s.sym) out.push('Asymmetric grids export as gptq_v2 (true zero points): GPTQModel and vLLM load it, AutoGPTQ does not, and transformers may read it as v1.');
  if (s.bits !== 4 && s.bits !== 8) out.push('vLLM\'s fast Marlin kernels take 4 and 8 bits only; other widths use its slower gptq kernel.');
  if (s.actOrder && !s.staticGroups && s.groupSize !== -1) out.push('Act-order with groups writes desc_act: true (a non-trivial g_idx), which some fast kernels reorder or refuse.');
  return out;
}
