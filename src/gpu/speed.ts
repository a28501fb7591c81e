/**
 * How fast this adapter computes, measured rather than guessed from its name: the GFLOP/s of the
 * GEMM kernel encodeGemm uses on the device (the one the Hessian, the inverse, GPTQ's lazy updates
 * and the forward use; measure after tuneGemm, so that it is the kernel tuned for the device) on
 * an n×n×n product, and the seconds of one submit-and-wait round trip (the fixed cost each
 * GPU→host sync adds). The time model (src/core/time-model.ts) turns a run's FLOPs and syncs into
 * seconds with these two numbers.
 *
 * n starts at 128 and doubles until one product takes `minSeconds` (or n reaches `maxN`), so a
 * software adapter stops near 512 and a real GPU goes to 2048–4096; the whole probe takes a few
 * hundred milliseconds at most on either.
 */
import type { AdapterSpeed } from '../core/time-model';
import { encodeGemm, squareProduct } from './kernels/gemm';
import type { GpuRuntime } from './runtime';

export interface SpeedProbeOptions {
  /** Stop growing n once one product takes this long (seconds). */
  minSeconds?: number;
  /** Largest n tried. */
  maxN?: number;
  /** Timed repetitions at the final n, while the probe has taken under 250 ms (the fastest counts). */
  reps?: number;
}

/** Times one C = A·B of n×n f32 matrices (contents irrelevant), submit to completion, in seconds. */
async function timeGemm(rt: GpuRuntime, n: number, bufs: { A: GPUBuffer; B: GPUBuffer; C: GPUBuffer }): Promise<number> {
  const t0 = performance.now();
  const rec = rt.recorder('speed.gemm');
  encodeGemm(rec, squareProduct(n, bufs.A, bufs.B, bufs.C));
  rec.finish();
  await rt.idle();
  return (performance.now() - t0) / 1000;
}

function buffers(rt: GpuRuntime, n: number) {
  const bytes = n * n * 4;
  return { A: rt.storage(bytes, 'speed.A'), B: rt.storage(bytes, 'speed.B'), C: rt.storage(bytes, 'speed.C') };
}

function release(rt: GpuRuntime, b: { A: GPUBuffer; B: GPUBuffer; C: GPUBuffer }): void {
  if (!rt.isLost) rt.release(b.A, b.B, b.C);
}

/** Seconds of one empty submit-and-wait round trip (the fastest of `reps`). */
async function timeSync(rt: GpuRuntime, reps: number): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    rt.device.queue.submit([rt.device.createCommandEncoder({ label: `${rt.label}.speed.sync` }).finish()]);
    await rt.idle();
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  return best;
}

/**
 * Measures the adapter (see the module comment). Throws only what the runtime throws (a lost
 * device); the buffers are released either way.
 */
export async function measureSpeed(rt: GpuRuntime, opts: SpeedProbeOptions = {}): Promise<AdapterSpeed> {
  const minSeconds = opts.minSeconds ?? 0.04;
  const reps = opts.reps ?? 2;
  const limit = Math.min(rt.bindingLimit, rt.summary.limits.maxBufferSize);
  let maxN = opts.maxN ?? 4096;
  while (maxN > 128 && maxN * maxN * 4 > limit) maxN /= 2;
  const t0 = performance.now();
  const syncSeconds = await timeSync(rt, 4);
  let n = 128;
  let bufs = buffers(rt, n);
  try {
    await timeGemm(rt, n, bufs); // compiles the pipeline
    let seconds = await timeGemm(rt, n, bufs);
    while (seconds < minSeconds && n < maxN) {
      n *= 2;
      release(rt, bufs);
      bufs = buffers(rt, n);
      seconds = await timeGemm(rt, n, bufs);
    }
    // Repeat while the probe is still short (a slow adapter's single timing is long enough to trust).
    for (let i = 1; i < reps && performance.now() - t0 < 250; i++) seconds = Math.min(seconds, await timeGemm(rt, n, bufs));
    const compute = Math.max(seconds - syncSeconds, seconds / 2);
    return { gflops: (2 * n ** 3) / compute / 1e9, syncSeconds, probe: { n, seconds: (performance.now() - t0) / 1000 } };
  } finally {
    release(rt, bufs);
  }
}

