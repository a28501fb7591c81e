/**
 * What a run with given settings will need and produce, decided before it starts: the export plan
 * (format, padding, linears left unquantized, the float16 range check, loader warnings), the GGUF
 * plan (block type or why none), the estimated peak GPU and host memory of the model as it will be
 * quantized, and why the run would be refused, if it would. The CLI and the worker's preview call
 * this same function.
 */
import type { GpuRuntime } from '../gpu/runtime';
import type { Checkpoint } from '../core/model/checkpoint';
import type { TensorStats } from '../core/model/tensor-scan';
import { assertSequenceFits } from '../core/model/config';
import { calibrationRankWarning } from '../core/model/calibration';
import type { RunSettings } from '../core/run';
import { nothingToQuantize, planExport, type ExportPlan } from '../core/export/plan';
import { planGguf, type GgufPlan } from '../core/export/gguf/plan';
import { modelSpec } from './model/load-model';
import { assertRunFits, estimateRunMemory, globalsHeldOf } from './memory-estimate';
import { assertHostFits, estimateHostMemory } from './host-memory';
import { MAX_HEAD_DIM } from '../gpu/kernels/forward';

export interface RunPlan {
  /** What the download will hold (format, padding, unquantized linears) or why there is none. */
  export: ExportPlan;
  /** What the GGUF download will hold (block type, F16 linears) or why there is none. */
  gguf: GgufPlan;
  /** Estimated peak GPU memory of the run. */
  memoryBytes: number;
  budgetBytes: number;
  /** Estimated peak host memory of the run (src/engine/host-memory.ts). */
  hostBytes: number;
  /** The host budget the run is checked against; null when there is none. */
  hostBudgetBytes: number | null;
  /** Why the run would be refused (nothing to quantize, window length, memory), or null. */
  fitError: string | null;
  /**
   * What the user should know before the run whatever is written (the export's loader warnings are
   * in `export.warnings`): what config.json says two ways (ModelConfig.warnings), and a calibration
   * with fewer tokens than the widest quantized linear has input columns (calibrationRankWarning).
   */
  warnings: string[];
}

/** A memory budget a run is checked against, and how the caller's user raises it (for the message). */
export interface MemoryBudget {
  bytes: number;
  /** e.g. "give --host-memory MIB". */
  raise: string;
}

/** The host memory budget (MemoryBudget). */
export type HostBudget = MemoryBudget;

/** The part of a run's plan that needs no GPU (RunPlan less the GPU memory estimate and its budget). */
export type HostSidePlan = Omit<RunPlan, 'memoryBytes' | 'budgetBytes'>;

/**
 * The plan of a run as far as it can be made without a GPU device: the export and GGUF plans, the
 * host memory estimate and the refusals that need no adapter (nothing to quantize, head_dim, the
 * window length, host memory within `host`), and the warnings. The CLI makes it before it creates
 * the adapter, so that bad input is refused before the driver says anything; planRun adds the GPU
 * memory estimate and its check.
 */
export function planBeforeGpu(ckpt: Checkpoint, settings: RunSettings, ranges?: ReadonlyMap<string, TensorStats>, host?: HostBudget): HostSidePlan {
  const parts = planParts(ckpt, settings, ranges, host);
  return { export: parts.plan, gguf: parts.gguf, hostBytes: parts.hostBytes, hostBudgetBytes: host?.bytes ?? null, fitError: parts.shapeError ?? parts.hostError, warnings: parts.warnings };
}

/** planBeforeGpu's pieces, its two refusals apart (planRun puts the GPU's between them). */
function planParts(ckpt: Checkpoint, settings: RunSettings, ranges: ReadonlyMap<string, TensorStats> | undefined, host: HostBudget | undefined) {
  const plan = planExport(ckpt.config, ckpt.layout, settings, ranges);
  const spec = modelSpec(ckpt);
  if (plan.intermediate) spec.intermediate = plan.intermediate.to;
  const hostEstimate = estimateHostMemory(ckpt, spec, settings, new Set(plan.unquantized.map((u) => u.name)));
  let shapeError: string | null = nothingToQuantize(ckpt.config, ckpt.layout, settings, plan);
  let hostError: string | null = null;
  if (shapeError === null) {
    try {
      if (spec.headDim > MAX_HEAD_DIM) {
        throw new Error(`head_dim ${spec.headDim} is above the ${MAX_HEAD_DIM} the attention kernel holds per head; this model cannot run here yet`);
      }
      assertSequenceFits(ckpt.config, settings.seqlen);
    } catch (e) {
      shapeError = (e as Error).message;
    }
  }
  if (shapeError === null && host) {
    try {
      assertHostFits(hostEstimate, settings, host.bytes, host.raise);
    } catch (e) {
      hostError = (e as Error).message;
    }
  }
  const quantized = ckpt.layout.block.linears.filter((l) => !plan.unquantized.some((u) => u.name === l.name));
  const rank = calibrationRankWarning(quantized, settings, ckpt.config.maxPositions);
  const warnings = [...(ckpt.config.warnings ?? []), ...(rank === null ? [] : [rank])];
  return { plan, spec, gguf: planGguf(ckpt, settings, plan), hostBytes: hostEstimate.totalBytes, shapeError, hostError, warnings };
}

/**
 * `gpuBudget` is the GPU budget in bytes, or with how to raise it (the refusal then says so).
 * `ranges` (each used tensor's largest magnitude, from scanTensors) adds the float16 range check to
 * the export plan; a preview without it assumes the values fit. `host` adds the host memory check.
 * planBeforeGpu, plus the GPU memory estimate and its check on `rt`'s adapter (checked after the
 * shape's refusals and before the host's).
 */
export function planRun(
  ckpt: Checkpoint,
  settings: RunSettings,
  rt: Pick<GpuRuntime, 'bindingLimit' | 'summary'>,
  gpuBudget: number | MemoryBudget,
  ranges?: ReadonlyMap<string, TensorStats>,
  host?: HostBudget,
): RunPlan {
  const budgetBytes = typeof gpuBudget === 'number' ? gpuBudget : gpuBudget.bytes;
  const { plan, spec, gguf, hostBytes, shapeError, hostError, warnings } = planParts(ckpt, settings, ranges, host);
  const held = globalsHeldOf(ckpt, plan.f16);
  const estimate = estimateRunMemory(spec, settings, rt.bindingLimit, held);
  let fitError = shapeError;
  if (fitError === null) {
    try {
      assertRunFits(spec, settings, rt.summary, budgetBytes, rt.bindingLimit, held, typeof gpuBudget === 'number' ? undefined : gpuBudget.raise);
    } catch (e) {
      fitError = (e as Error).message;
    }
  }
  return { export: plan, gguf, memoryBytes: estimate.totalBytes, budgetBytes, hostBytes, hostBudgetBytes: host?.bytes ?? null, fitError: fitError ?? hostError, warnings };
}
