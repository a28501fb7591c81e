/**
 * The WebGPU runtime: one device with its pipeline cache, buffer pool, uploads and the one
 * readback path. A lost device turns every later call into a DeviceLostError; GpuProvider
 * then opens a new runtime on the next request.
 */
import { acquireDevice, type AdapterSummary } from './device';
import { BufferPool } from './buffer-pool';
import { PipelineCache } from './pipeline-cache';
import { Recorder } from './recorder';
import { DeviceLostError, GpuOutOfMemoryError, GpuValidationError } from './errors';
import { bfloat16BytesToFloat32, halfBytesToFloat32 } from '../core/model/float-convert';
import { elementBytes, formatLd, matrixBytes, type ElementFormat, type GpuMatrix } from './matrix';

export interface RuntimeOptions {
  label?: string;
  /**
   * Upper bound on one storage binding, below the adapter's maxStorageBufferBindingSize.
   * Tests set it small to exercise the windowed (sliced) paths on small shapes.
   */
  bindingLimit?: number;
}

/** Staging buffers for readback are at most this large; bigger reads go in chunks. */
export const READBACK_CHUNK = 64 << 20;
/** Uploads of padded matrices are staged in host chunks of about this many bytes. */
const UPLOAD_CHUNK = 16 << 20;

export class GpuRuntime {
  readonly pool: BufferPool;
  readonly pipelines: PipelineCache;
  /** Largest byte size a single storage binding may have on this runtime. */
  readonly bindingLimit: number;
  /** A small buffer bound where a kernel declares an operand it does not read for this call. */
  readonly placeholder: GPUBuffer;
  private lostInfo: { reason: string; message: string } | null = null;
  private destroyed = false;

  private constructor(
    readonly device: GPUDevice,
    readonly summary: AdapterSummary,
    readonly label: string,
    bindingLimit: number | undefined,
  ) {
    this.pool = new BufferPool(device);
    this.pipelines = new PipelineCache(device);
    this.placeholder = device.createBuffer({ label: `${label}.placeholder`, size: 256, usage: GPUBufferUsage.STORAGE });
    const adapterLimit = Math.min(summary.limits.maxStorageBufferBindingSize, summary.limits.maxBufferSize);
    this.bindingLimit = Math.floor(Math.min(adapterLimit, bindingLimit ?? Infinity) / 256) * 256;
    void device.lost.then((info) => {
      this.lostInfo = { reason: info.reason ?? 'unknown', message: info.message ?? '' };
    });
  }

  static async create(gpu: GPU | undefined, opts: RuntimeOptions = {}): Promise<GpuRuntime> {
    const label = opts.label ?? 'gptq-studio';
    const { device, summary } = await acquireDevice(gpu, label);
    return new GpuRuntime(device, summary, label, opts.bindingLimit);
  }

  get isLost(): boolean {
    return this.lostInfo !== null || this.destroyed;
  }

  /** Throws DeviceLostError when the device is gone. */
  check(): void {
    if (this.lostInfo) throw new DeviceLostError(this.lostInfo.reason, this.lostInfo.message);
    if (this.destroyed) throw new DeviceLostError('destroyed', 'the runtime was shut down');
  }

  recorder(label: string): Recorder {
    this.check();
    return new Recorder(this.device, this.pipelines, this.pool, `${this.label}.${label}`);
  }

  /** A pooled storage buffer (copy source and destination too). */
  storage(bytes: number, label: string): GPUBuffer {
    this.check();
    return this.pool.acquire(
      bytes,
      GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      `${this.label}.${label}`,
    );
  }

  /**
   * A pooled matrix [rows, cols] of `format` (f32 by default) with rows padded to 256 bytes
   * (contents undefined).
   */
  matrix(rows: number, cols: number, label: string, format: ElementFormat = 'f32'): GpuMatrix {
    const ld = formatLd(cols, format);
    const buffer = this.storage(matrixBytes(rows, ld, format), label);
    return format === 'f32' ? { buffer, rows, cols, ld } : { buffer, rows, cols, ld, format };
  }

  release(...items: (GPUBuffer | GpuMatrix | null | undefined)[]): void {
    if (this.destroyed) return;
    for (const it of items) if (it) this.pool.release('buffer' in it ? it.buffer : it);
  }

  upload(buffer: GPUBuffer, byteOffset: number, data: ArrayBufferView): void {
    this.check();
    this.device.queue.writeBuffer(buffer, byteOffset, data.buffer, data.byteOffset, data.byteLength);
  }

  /** Writes a dense row-major [rows, cols] array into a padded matrix. */
  uploadMatrix(m: GpuMatrix, data: Float32Array): void {
    if (elementBytes(m) !== 4) throw new TypeError(`${m.buffer.label}: uploadMatrix writes f32 matrices, not ${m.format}`);
    if (data.length !== m.rows * m.cols) throw new RangeError(`${m.buffer.label}: expected ${m.rows}×${m.cols} values, got ${data.length}`);
    if (m.ld === m.cols) return this.upload(m.buffer, 0, data);
    const rowsPerChunk = Math.max(1, Math.floor(UPLOAD_CHUNK / (m.ld * 4)));
    const staging = new Float32Array(Math.min(rowsPerChunk, m.rows) * m.ld);
    for (let r0 = 0; r0 < m.rows; r0 += rowsPerChunk) {
      const n = Math.min(rowsPerChunk, m.rows - r0);
      for (let r = 0; r < n; r++) staging.set(data.subarray((r0 + r) * m.cols, (r0 + r + 1) * m.cols), r * m.ld);
      this.upload(m.buffer, r0 * m.ld * 4, staging.subarray(0, n * m.ld));
    }
  }

  /** The one readback path: copies [byteOffset, +byteLength) of `buffer` to the host. */
  async readback(buffer: GPUBuffer, byteOffset: number, byteLength: number): Promise<ArrayBuffer> {
    this.check();
    const out = new Uint8Array(byteLength);
    const chunk = Math.min(READBACK_CHUNK, Math.ceil(byteLength / 4) * 4);
    const staging = this.pool.acquire(chunk, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, `${this.label}.readback`);
    try {
      for (let done = 0; done < byteLength; done += chunk) {
        const n = Math.min(chunk, byteLength - done);
        const copyBytes = Math.ceil(n / 4) * 4;
        const enc = this.device.createCommandEncoder({ label: `${this.label}.readback.encoder` });
        enc.copyBufferToBuffer(buffer, byteOffset + done, staging, 0, copyBytes);
        this.device.queue.submit([enc.finish()]);
        try {
          await staging.mapAsync(GPUMapMode.READ, 0, copyBytes);
        } catch (e) {
          this.check();
          throw e;
        }
        out.set(new Uint8Array(staging.getMappedRange(0, copyBytes), 0, n), done);
        staging.unmap();
      }
    } finally {
      if (!this.isLost) this.pool.release(staging);
    }
    this.check();
    return out.buffer;
  }

  async readF32(buffer: GPUBuffer, byteOffset: number, count: number): Promise<Float32Array> {
    return new Float32Array(await this.readback(buffer, byteOffset, count * 4));
  }

  async readU32(buffer: GPUBuffer, byteOffset: number, count: number): Promise<Uint32Array> {
    return new Uint32Array(await this.readback(buffer, byteOffset, count * 4));
  }

  /** Reads a padded matrix back as dense row-major [rows, cols]. */
  async readMatrix(m: GpuMatrix): Promise<Float32Array> {
    let padded: Float32Array;
    if (elementBytes(m) === 2) {
      const bytes = new Uint8Array(await this.readback(m.buffer, 0, m.rows * m.ld * 2));
      padded = m.format === 'f16' ? halfBytesToFloat32(bytes) : bfloat16BytesToFloat32(bytes);
    } else {
      padded = await this.readF32(m.buffer, 0, m.rows * m.ld);
    }
    if (m.ld === m.cols) return padded;
    const out = new Float32Array(m.rows * m.cols);
    for (let r = 0; r < m.rows; r++) out.set(padded.subarray(r * m.ld, r * m.ld + m.cols), r * m.cols);
    return out;
  }

  /** Waits for submitted work; reports a lost device. */
  async idle(): Promise<void> {
    this.check();
    await this.device.queue.onSubmittedWorkDone();
    this.check();
  }

  /**
   * Runs `fn` inside validation and out-of-memory error scopes and turns a captured error into
   * a typed one that names `what`.
   */
  async scoped<T>(what: string, fn: () => Promise<T>): Promise<T> {
    this.check();
    this.device.pushErrorScope('out-of-memory');
    this.device.pushErrorScope('validation');
    let result: T;
    try {
      result = await fn();
    } finally {
      const validation = await this.device.popErrorScope().catch(() => null);
      const oom = await this.device.popErrorScope().catch(() => null);
      this.check();
      if (oom) {
        throw new GpuOutOfMemoryError(
          `${what}: the GPU ran out of memory (${oom.message}). Use a smaller layer or fewer calibration tokens, or close other GPU work.`,
        );
      }
      if (validation) throw new GpuValidationError(`${what}: WebGPU validation error: ${validation.message}`);
    }
    return result;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.pool.destroy();
    this.device.destroy();
  }
}

/** Hands out a live runtime, opening a new one when the last device was lost. */
export class GpuProvider {
  private current: Promise<GpuRuntime> | null = null;

  constructor(
    private readonly gpu: GPU | undefined,
    private readonly opts: RuntimeOptions = {},
  ) {}

  async runtime(): Promise<GpuRuntime> {
    if (this.current) {
      const rt = await this.current.catch(() => null);
      if (rt && !rt.isLost) return rt;
      this.current = null;
    }
    this.current = GpuRuntime.create(this.gpu, this.opts);
    return this.current;
  }

  destroy(): void {
    void this.current?.then((rt) => rt.destroy());
    this.current = null;
  }
}
