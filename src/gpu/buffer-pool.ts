/**
 * A pool of GPU buffers keyed by (size bucket, usage), with byte accounting.
 *
 * A released buffer may be handed out again at once: callers release only after the submit
 * that last uses it, and every later use goes through the same queue, so ordering holds.
 */

export interface PoolStats {
  /** Bytes of buffers currently acquired. */
  bytesInUse: number;
  /** Bytes of all buffers the pool holds (in use or free). */
  bytesAllocated: number;
  /** Highest bytesInUse seen. */
  peakBytesInUse: number;
  /** Highest bytesAllocated seen. */
  peakBytesAllocated: number;
  buffersAllocated: number;
}

/** Sizes are rounded up to this many bytes (also the storage offset alignment we rely on). */
export const BUFFER_SIZE_QUANTUM = 256;

export class BufferPool {
  private readonly free = new Map<string, GPUBuffer[]>();
  private readonly sizes = new Map<GPUBuffer, number>();
  private readonly inUse = new Set<GPUBuffer>();
  readonly stats: PoolStats = {
    bytesInUse: 0,
    bytesAllocated: 0,
    peakBytesInUse: 0,
    peakBytesAllocated: 0,
    buffersAllocated: 0,
  };

  constructor(private readonly device: GPUDevice) {}

  acquire(size: number, usage: GPUBufferUsageFlags, label: string): GPUBuffer {
    const bytes = Math.max(BUFFER_SIZE_QUANTUM, Math.ceil(size / BUFFER_SIZE_QUANTUM) * BUFFER_SIZE_QUANTUM);
    const key = `${bytes}_${usage}`;
    let buffer = this.free.get(key)?.pop();
    if (buffer) {
      buffer.label = label;
    } else {
      buffer = this.device.createBuffer({ label, size: bytes, usage });
      this.sizes.set(buffer, bytes);
      this.stats.bytesAllocated += bytes;
      this.stats.buffersAllocated++;
      this.stats.peakBytesAllocated = Math.max(this.stats.peakBytesAllocated, this.stats.bytesAllocated);
    }
    this.inUse.add(buffer);
    this.stats.bytesInUse += bytes;
    this.stats.peakBytesInUse = Math.max(this.stats.peakBytesInUse, this.stats.bytesInUse);
    return buffer;
  }

  release(buffer: GPUBuffer): void {
    if (!this.inUse.delete(buffer)) throw new Error(`BufferPool: ${buffer.label} released twice or not from this pool`);
    const bytes = this.sizes.get(buffer)!;
    this.stats.bytesInUse -= bytes;
    const key = `${bytes}_${buffer.usage}`;
    let list = this.free.get(key);
    if (!list) this.free.set(key, (list = []));
    list.push(buffer);
  }

  /** Starts peak tracking afresh from the current figures (e.g. per benchmark case). */
  resetPeaks(): void {
    this.stats.peakBytesInUse = this.stats.bytesInUse;
    this.stats.peakBytesAllocated = this.stats.bytesAllocated;
  }

  /** Destroys the free buffers (keeps those in use). */
  trim(): void {
    for (const list of this.free.values()) {
      for (const b of list) {
        this.stats.bytesAllocated -= this.sizes.get(b)!;
        this.stats.buffersAllocated--;
        this.sizes.delete(b);
        b.destroy();
      }
    }
    this.free.clear();
  }

  destroy(): void {
    this.trim();
    for (const b of this.inUse) b.destroy();
    this.inUse.clear();
    this.sizes.clear();
    this.stats.bytesInUse = this.stats.bytesAllocated = this.stats.buffersAllocated = 0;
  }
}
