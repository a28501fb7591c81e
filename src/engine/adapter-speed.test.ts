import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeRuntime } from '../testing/node-gpu';
import type { GpuRuntime } from '../gpu/runtime';
import { CHOL_NB } from '../gpu/kernels/cholesky';
import { INVERSE_STEP } from '../core/time-model';
import { measureAdapter } from './adapter-speed';

let rt: GpuRuntime;
beforeAll(async () => {
  rt = await nodeRuntime();
});
afterAll(() => rt?.destroy());

describe('measuring the adapter for the time model', () => {
  it('tunes the kernels, times the GEMM and a sync, then a linear\'s fixed cost, and frees what it made', async () => {
    const inUse = rt.pool.stats.bytesInUse;
    const s = await measureAdapter(rt);
    expect(s.kernels?.gemm).toBeTruthy();
    expect(s.gflops).toBeGreaterThan(0);
    // The tiny linears' GPTQ, RTN and output errors take time on any adapter (syncs at least).
    expect(s.linear!.seconds).toBeGreaterThan(0);
    expect(s.linear!.seconds).toBeLessThan(10);
    expect(s.linear!.stepSeconds).toBeGreaterThanOrEqual(0);
    expect(Number.isFinite(s.linear!.stepSeconds)).toBe(true);
    expect(rt.pool.stats.bytesInUse).toBe(inUse);
  });

  it('counts inverse steps of the Cholesky\'s block size', () => {
    expect(INVERSE_STEP).toBe(CHOL_NB);
  });
});
