/**
 * The fixed cost of quantizing one linear on this adapter, measured by quantizing tiny linears
 * the way a run does (GptqLayer: GPTQ, RTN, the output error of both), for the time model
 * (src/core/time-model.ts LinearCost). Their FLOPs are negligible, so what they take is the part
 * of every linear that does not scale with its FLOPs: dispatches, syncs, read-backs, host work,
 * and the inverse's sequential steps (one diagonal block of CHOL_NB columns at a time, a single
 * workgroup each; on a software adapter a few milliseconds per step).
 *
 * Each shape runs once untimed (it compiles the pipelines, which a run then finds compiled) and
 * TIMED_RUNS times timed; the fastest counts. What the time model counts for the probes' own FLOPs (at the measured
 * GEMM rate) is taken off, so that it is not counted twice. About 0.1–0.5 s on a software adapter.
 */
import { seededRandom } from '../core/random';
import { INVERSE_STEP, linearComputeSeconds, type LinearCost } from '../core/time-model';
import type { GpuRuntime } from '../gpu/runtime';
import { GptqLayer } from './gptq-layer';

/** Rows and calibration tokens of the probe linears. */
const PROBE_ROWS = 64;
const PROBE_TOKENS = 64;
/** Timed runs of each probe linear after the first (which compiles); the fastest counts. */
const TIMED_RUNS = 3;
/** Diagonal steps of the wider probe linear (its columns: PROBE_STEPS · INVERSE_STEP). */
const PROBE_STEPS = 4;

/**
 * Seconds of one linear of `cols` columns, from GPTQ to both output errors (the fastest timed
 * run), less the time model's seconds for its FLOPs at `gflops`.
 */
async function timeLinear(rt: GpuRuntime, cols: number, gflops: number): Promise<number> {
  // Deterministic, well-conditioned inputs: uniform weights and activations.
  const rand = seededRandom(12345 + cols);
  const W = Float32Array.from({ length: PROBE_ROWS * cols }, () => 0.05 * (rand() - 0.5));
  const X = Float32Array.from({ length: PROBE_TOKENS * cols }, () => rand() - 0.5);
  let seconds = Infinity;
  for (let run = 0; run <= TIMED_RUNS; run++) {
    const layer = new GptqLayer(rt, `linearCost.${cols}`, W, PROBE_ROWS, cols);
    try {
      await layer.addBatch(X, PROBE_TOKENS);
      const t0 = performance.now();
      await layer.readHessianDiag();
      const g = await layer.quantize({ bits: 4, groupSize: 128 });
      const r = await layer.rtn({ bits: 4, groupSize: 128 });
      await layer.outputMse(g.Q as Float32Array, X, PROBE_TOKENS);
      await layer.outputMse(r.Q as Float32Array, X, PROBE_TOKENS);
      if (run > 0) seconds = Math.min(seconds, (performance.now() - t0) / 1000);
    } finally {
      layer.dispose();
    }
  }
  return seconds - linearComputeSeconds(PROBE_ROWS, cols, PROBE_TOKENS, gflops);
}

/**
 * Measures LinearCost on `rt` (see the module comment), with `gflops` the GEMM rate measured on
 * it (src/gpu/speed.ts): `seconds` from a linear of INVERSE_STEP columns, `stepSeconds` from the
 * difference to one of PROBE_STEPS·INVERSE_STEP columns. Throws what the runtime throws (a lost
 * device).
 */
export async function measureLinearCost(rt: GpuRuntime, gflops: number): Promise<LinearCost> {
  const one = await timeLinear(rt, INVERSE_STEP, gflops);
  const wide = await timeLinear(rt, PROBE_STEPS * INVERSE_STEP, gflops);
  return { seconds: Math.max(0, one), stepSeconds: Math.max(0, (wide - one) / (PROBE_STEPS - 1)) };
}
