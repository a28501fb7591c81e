/**
 * Records dispatches into one command encoder and submits them together.
 *
 * Each dispatch's parameters go into a slot of a pooled uniform "arena" bound with a dynamic
 * offset; the arena is written with one writeBuffer just before the submit. A full arena
 * submits what was recorded so far and starts a fresh encoder, so callers never count slots.
 */
import type { Kernel } from './kernel';
import type { FieldType } from './params';
import type { Constants, PipelineCache } from './pipeline-cache';
import type { BufferPool } from './buffer-pool';

/** Bytes per parameter slot: the largest minUniformBufferOffsetAlignment WebGPU allows. */
const SLOT_BYTES = 256;
const ARENA_SLOTS = 1024;
/** Bytes of one recorder's parameter arena (a pooled uniform buffer each live recorder holds). */
export const ARENA_BYTES = SLOT_BYTES * ARENA_SLOTS;

export type Workgroups = [number, number?, number?];

export class Recorder {
  private encoder: GPUCommandEncoder;
  private pass: GPUComputePassEncoder | null = null;
  private arena: GPUBuffer;
  private readonly data = new ArrayBuffer(SLOT_BYTES * ARENA_SLOTS);
  private readonly view = new DataView(this.data);
  private slots = 0;
  dispatches = 0;

  constructor(
    readonly device: GPUDevice,
    private readonly pipelines: PipelineCache,
    private readonly pool: BufferPool,
    private readonly label: string,
  ) {
    this.encoder = device.createCommandEncoder({ label: `${label}.encoder` });
    this.arena = this.newArena();
  }

  dispatch<F extends Record<string, FieldType>>(
    kernel: Kernel<F>,
    constants: Constants,
    params: { [K in keyof F]: number },
    storage: GPUBufferBinding[],
    workgroups: Workgroups,
  ): void {
    const [x, y = 1, z = 1] = workgroups;
    if (x === 0 || y === 0 || z === 0) return;
    if (storage.length !== kernel.storage.length) {
      throw new Error(`${kernel.name}: ${storage.length} storage bindings given, ${kernel.storage.length} declared`);
    }
    if (this.slots === ARENA_SLOTS) this.flush();
    const { pipeline, layout } = this.pipelines.get(kernel, constants);
    const offset = this.slots * SLOT_BYTES;
    kernel.params.pack(params, this.view, offset);
    this.slots++;
    const bindGroup = this.device.createBindGroup({
      label: `${kernel.name}.bindGroup`,
      layout,
      entries: [
        { binding: 0, resource: { buffer: this.arena, offset: 0, size: kernel.params.byteLength } },
        ...storage.map((resource, i) => ({ binding: i + 1, resource })),
      ],
    });
    const pass = (this.pass ??= this.encoder.beginComputePass({ label: `${this.label}.pass` }));
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup, [offset]);
    pass.dispatchWorkgroups(x, y, z);
    this.dispatches++;
  }

  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, size: number): void {
    this.endPass();
    this.encoder.copyBufferToBuffer(src, srcOffset, dst, dstOffset, size);
  }

  clear(buffer: GPUBuffer, offset = 0, size?: number): void {
    this.endPass();
    this.encoder.clearBuffer(buffer, offset, size);
  }

  /** Submits everything recorded; the recorder can keep recording afterwards. */
  submit(): void {
    this.flush();
  }

  /** Submits and returns the arena to the pool. Call once at the end. */
  finish(): void {
    this.flush();
    this.pool.release(this.arena);
  }

  private flush(): void {
    this.endPass();
    if (this.slots > 0) this.device.queue.writeBuffer(this.arena, 0, this.data, 0, this.slots * SLOT_BYTES);
    this.device.queue.submit([this.encoder.finish()]);
    if (this.slots > 0) {
      // Safe to hand out again now: any later writeBuffer is queued after this submit.
      this.pool.release(this.arena);
      this.arena = this.newArena();
    }
    this.slots = 0;
    this.encoder = this.device.createCommandEncoder({ label: `${this.label}.encoder` });
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = null;
  }

  private newArena(): GPUBuffer {
    return this.pool.acquire(
      SLOT_BYTES * ARENA_SLOTS,
      GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      `${this.label}.paramArena`,
    );
  }
}
