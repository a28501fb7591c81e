/**
 * The adapter measured as the time model (src/core/time-model.ts) needs it, in the order that
 * makes the figures those of a run: the kernels timed and chosen first (src/gpu/kernels/choices.ts),
 * then the GEMM rate and a sync round trip of the kernel chosen (src/gpu/speed.ts), then the fixed
 * cost of a quantized linear (./linear-cost.ts), which also leaves GPTQ's pipelines compiled.
 */
import type { AdapterSpeed } from '../core/time-model';
import { tuneKernels } from '../gpu/kernels/choices';
import type { GpuRuntime } from '../gpu/runtime';
import { measureSpeed } from '../gpu/speed';
import { measureLinearCost } from './linear-cost';

/** Measures `rt`'s adapter (see the module comment). Throws what the runtime throws (a lost device). */
export async function measureAdapter(rt: GpuRuntime): Promise<AdapterSpeed> {
  const kernels = await tuneKernels(rt);
  const speed = await measureSpeed(rt);
  return { ...speed, kernels, linear: await measureLinearCost(rt, speed.gflops) };
}
