/**
 * A mixed-precision run: the layer-sensitivity map (GPTQ's output error of every linear at 2, 3,
 * 4 and 8 bits on its captured inputs, one pass), a plan for a target bits per weight
 * (src/core/mixed-precision.ts), then an ordinary run with those per-linear widths
 * (RunSettings.moduleBits), whose export writes each linear at its width and names the widths in
 * quantization_config.dynamic.
 */
import type { GpuRuntime } from '../gpu/runtime';
import { calibrationWindows } from '../core/model/calibration';
import { planMixedPrecision, type MixedPrecisionPlan } from '../core/mixed-precision';
import { fusedSets, mlpLinears } from '../core/export/plan';
import type { SensitivityMap } from '../core/sweep';
import { strategyLabel } from '../core/sweep';
import type { RunSettings } from '../core/run';
import { loadModel } from './model/load-model';
import { padMlpWidth } from './model/pad-mlp';
import { planRun } from './run-plan';
import { quantizeModel } from './quantize-model';
import { gpuBudgetOf, readRunInputs, runModel, RunInputError, scanForRun, type RunInputs, type RunModelHooks, type RunOutput } from './run-model';
import { SENSITIVITY_WIDTHS, sensitivityOf } from './sweep';

/** The sensitivity map of a model with these settings (one quantization pass, no evaluation). */
export async function measureSensitivity(rt: GpuRuntime, inputs: RunInputs, hooks: RunModelHooks = {}): Promise<SensitivityMap> {
  const t0 = performance.now();
  const elapsed = () => (performance.now() - t0) / 1000;
  const emit = hooks.onProgress ?? (() => {});
  const { ckpt, settings, calibIds } = inputs.read ?? (await readRunInputs(inputs));
  // The host budget too: the map's pass keeps the same codes a run keeps.
  const pre = planRun(ckpt, settings, rt, gpuBudgetOf(inputs), undefined, inputs.hostMemoryBudget);
  if (pre.fitError) throw new RunInputError(pre.fitError);
  const ranges = await scanForRun(ckpt, emit, elapsed, hooks.signal);
  const plan = planRun(ckpt, settings, rt, gpuBudgetOf(inputs), ranges).export;
  const loaded = await loadModel(ckpt);
  const model = plan.intermediate ? padMlpWidth(loaded, mlpLinears(ckpt.layout), plan.intermediate.to) : loaded;
  const windows = Uint32Array.from(calibrationWindows(calibIds, settings.nsamples, settings.seqlen, settings.seed).flat());
  // settings.bits (the CLI's --bits) is the width the pass quantizes each block at: the next blocks see that model.
  emit({ type: 'stage', stage: 'calibration', detail: `the sensitivity map: every linear at ${SENSITIVITY_WIDTHS.join(', ')} bits, ` +
    `each block then quantized at ${settings.bits} bits for the next (the plan picks the file's widths after)`, elapsed: elapsed() });
  const q = await quantizeModel(rt, model, windows, settings, hooks, {
    skip: new Set(plan.unquantized.map((u) => u.name)),
    halfScales: plan.f16,
    sensitivityBits: SENSITIVITY_WIDTHS,
  });
  const label = strategyLabel({ method: 'gptq', ...settings });
  return sensitivityOf(q, plan, label, ckpt.layout);
}

/**
 * The widths for `targetBpw` from `map`, as RunSettings: the base `bits` is the width most weights
 * get, the others are `moduleBits`. Throws RunInputError when the target is below the narrowest plan.
 */
export function mixedSettings(map: SensitivityMap, settings: RunSettings, targetBpw: number, layout: Parameters<typeof fusedSets>[0]): { settings: RunSettings; plan: MixedPrecisionPlan } {
  const plan = planMixedPrecision(map.linears, map.widths, settings.groupSize, targetBpw, fusedSets(layout));
  if (plan.belowMinimum) {
    throw new RunInputError(`${targetBpw} bits per weight is below the narrowest plan: every linear at ${map.widths[0]} bits already takes ` +
      `${plan.range.min.toFixed(3)} (scales, zeros and g_idx included); give a target of at least that`);
  }
  const moduleBits: Record<string, number> = {};
  for (const [key, bits] of Object.entries(plan.bits)) if (bits !== plan.baseBits) moduleBits[key] = bits;
  return { settings: { ...settings, bits: plan.baseBits, moduleBits }, plan };
}

export interface MixedRunOutput extends RunOutput {
  plan: MixedPrecisionPlan;
  map: SensitivityMap;
}

/**
 * Measures the map (unless given, e.g. by a sweep with the same settings), plans the widths for
 * `targetBpw` and runs the model with them; report.mixedPrecision says what was planned.
 */
export async function runMixedPrecision(rt: GpuRuntime, inputs: RunInputs, targetBpw: number, hooks: RunModelHooks & { map?: SensitivityMap } = {}): Promise<MixedRunOutput> {
  // The texts are read and tokenized once for the map's pass and the run.
  const read = inputs.read ?? (await readRunInputs(inputs));
  const map = hooks.map ?? (await measureSensitivity(rt, { ...inputs, read }, hooks));
  const { settings: mixed, plan } = mixedSettings(map, read.settings, targetBpw, read.ckpt.layout);
  const out = await runModel(rt, { ...inputs, settings: mixed, read: { ...read, settings: mixed } }, hooks);
  out.report.mixedPrecision = { target: plan.target, bpw: plan.bpw, range: plan.range, baseBits: plan.baseBits, weightsPerBits: plan.weightsPerBits, sensitivityFrom: map.label };
  return { ...out, plan, map };
}
