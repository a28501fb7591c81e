/**
 * What a run with given settings will need and produce, decided before it starts: the export plan
 * (format, padded MLP width, linears left unquantized), the estimated peak GPU memory of the model
 * as it will be quantized, and why the run would be refused, if it would.
 */
import type { GpuRuntime } from '../gpu/runtime';
import type { Checkpoint } from '../core/model/checkpoint';
import { assertSequenceFits } from '../core/model/config';
import type { RunSettings } from '../core/run';
import { planExport, type ExportPlan } from '../core/export/plan';
import { modelSpec } from './model/load-model';
import { assertRunFits, estimateRunMemory } from './memory-estimate';
import { MAX_HEAD_DIM } from '../gpu/kernels/forward';

export interface RunPlan {
  /** What the download will hold (format, padding, unquantized linears) or why there is none. */
  export: ExportPlan;
  /** Estimated peak GPU memory of the run. */
  memoryBytes: number;
  budgetBytes: number;
  /** Why the run would be refused (window length, memory), or null. */
  fitError: string | null;
}

export function planRun(ckpt: Checkpoint, settings: RunSettings, rt: GpuRuntime, budgetBytes: number): RunPlan {
  const plan = planExport(ckpt.config, ckpt.layout, settings);
  const spec = modelSpec(ckpt);
  if (plan.intermediate) spec.intermediate = plan.intermediate.to;
  const estimate = estimateRunMemory(spec, settings.nsamples * settings.seqlen, rt.bindingLimit);
  let fitError: string | null = null;
  try {
    if (spec.headDim > MAX_HEAD_DIM) {
      throw new Error(`head_dim ${spec.headDim} is above the ${MAX_HEAD_DIM} the attention kernel holds per head; this model cannot run here yet`);
    }
    assertSequenceFits(ckpt.config, settings.seqlen);
    assertRunFits(spec, settings.nsamples, settings.seqlen, rt.summary, budgetBytes, rt.bindingLimit);
  } catch (e) {
    fitError = (e as Error).message;
  }
  return { export: plan, memoryBytes: estimate.totalBytes, budgetBytes, fitError };
}
