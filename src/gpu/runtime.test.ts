import { describe, it, expect } from 'vitest';
import { nodeGpu } from '../testing/node-gpu';
import { GpuProvider, GpuRuntime } from './runtime';
import { DeviceLostError } from './errors';
import { BufferPool } from './buffer-pool';
import { rowChunks, rowSpans, paddedLd } from './matrix';
import { GptqLayer } from '../engine/gptq-layer';
import { NoWebGpuError } from './device';

describe('GpuRuntime', () => {
  it('reports a lost device as DeviceLostError, and the provider opens a new one', async () => {
    const provider = new GpuProvider(nodeGpu());
    const rt = await provider.runtime();
    expect(await provider.runtime()).toBe(rt);
    const layer = new GptqLayer(rt, 'lost', new Float32Array(16).fill(0.5), 4, 4);
    await layer.addBatch(new Float32Array(32).fill(1), 8);
    rt.device.destroy();
    await rt.device.lost;
    await expect(layer.quantize()).rejects.toBeInstanceOf(DeviceLostError);
    await expect(layer.quantize()).rejects.toThrow(/GPU device was lost.*next run starts a new device/);
    const next = await provider.runtime();
    expect(next).not.toBe(rt);
    const again = new GptqLayer(next, 'again', new Float32Array(16).fill(0.5), 4, 4);
    await again.addBatch(new Float32Array(32).fill(1), 8);
    expect((await again.quantize()).Q.length).toBe(16);
    provider.destroy();
  });

  it('says plainly when there is no WebGPU', async () => {
    await expect(GpuRuntime.create(undefined)).rejects.toBeInstanceOf(NoWebGpuError);
    await expect(GpuRuntime.create(undefined)).rejects.toThrow(/--enable-unsafe-webgpu/);
  });

  it('describes its adapter and keeps bindings within the adapter limit', async () => {
    const rt = await GpuRuntime.create(nodeGpu(), { bindingLimit: 1 << 20 });
    expect(rt.summary.limits.maxStorageBufferBindingSize).toBeGreaterThan(0);
    expect(rt.bindingLimit).toBe(1 << 20);
    rt.destroy();
  });
});

describe('BufferPool', () => {
  it('reuses released buffers and accounts bytes', async () => {
    const rt = await GpuRuntime.create(nodeGpu());
    const pool = new BufferPool(rt.device);
    const usage = GPUBufferUsage.STORAGE;
    const a = pool.acquire(1000, usage, 'a');
    expect(pool.stats.bytesInUse).toBe(1024);
    pool.release(a);
    expect(pool.stats.bytesInUse).toBe(0);
    const b = pool.acquire(1024, usage, 'b');
    expect(b).toBe(a);
    expect(b.label).toBe('b');
    const c = pool.acquire(1024, usage, 'c');
    expect(c).not.toBe(a);
    expect(pool.stats.bytesAllocated).toBe(2048);
    expect(pool.stats.peakBytesInUse).toBe(2048);
    pool.release(b);
    expect(() => pool.release(b)).toThrow(/released twice/);
    pool.destroy();
    rt.destroy();
  });
});

describe('row windows', () => {
  it('cover the rows once, at aligned offsets, within the limit', () => {
    const f32 = { ld: paddedLd(130) }; // 192 floats = 768 bytes a row
    const codes = { ld: f32.ld / 4 }; // 192 bytes a row: windows must start on multiples of 4 rows
    const limit = 10_000;
    const chunks = rowChunks(0, 301, [f32, codes], limit);
    let next = 0;
    for (const c of chunks) {
      expect(c.r0).toBe(next);
      expect(c.r0 % 4).toBe(0);
      expect(c.n * f32.ld * 4).toBeLessThanOrEqual(limit);
      next = c.r0 + c.n;
    }
    expect(next).toBe(301);
    const spans = rowSpans(70, 200, [f32], 60_000, 64);
    expect(spans[0].rowStart).toBe(70);
    expect(spans[0].r0 % 64).toBe(0);
    expect(spans.reduce((s, x) => s + x.rows, 0)).toBe(130);
    expect(() => rowChunks(0, 10, [{ ld: 4096 }], 1000)).toThrow(/does not fit/);
  });
});
