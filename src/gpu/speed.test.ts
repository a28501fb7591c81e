import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeRuntime } from '../testing/node-gpu';
import { measureSpeed } from './speed';
import type { GpuRuntime } from './runtime';

let rt: GpuRuntime;
beforeAll(async () => {
  rt = await nodeRuntime();
});
afterAll(() => rt?.destroy());

describe('the adapter speed probe', () => {
  it('times the GEMM kernel on a product big enough to measure, and the sync round trip, and frees its buffers', async () => {
    const inUse = rt.pool.stats.bytesInUse;
    const s = await measureSpeed(rt, { minSeconds: 0.01, maxN: 512 });
    expect(s.gflops).toBeGreaterThan(0);
    expect(Number.isFinite(s.gflops)).toBe(true);
    expect(s.syncSeconds).toBeGreaterThanOrEqual(0);
    expect(s.probe!.n).toBeGreaterThanOrEqual(128);
    expect(s.probe!.n).toBeLessThanOrEqual(512);
    expect([128, 256, 512]).toContain(s.probe!.n);
    expect(rt.pool.stats.bytesInUse).toBe(inUse);
  });
});
