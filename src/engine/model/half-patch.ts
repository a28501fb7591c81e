/**
 * The words of a GPU matrix whose F16 rounding differs from their stored value, kept beside it so
 * that the matrix can be switched in place between its stored values (the original model) and the
 * values an F16 export holds (the RTN and GPTQ models): one matrix on the GPU instead of two.
 * A BF16 checkpoint's matrix, held as BF16, differs from its F16 rounding only in a few elements
 * (BF16 values below 2^-17, in F16's subnormal range, whose F16 rounding is again a BF16 value);
 * an F16 one not at all; an F32 one almost everywhere, and is given a second, F16 matrix instead
 * (the builder says when the patch would cost more than that).
 */
import type { GpuRuntime } from '../../gpu/runtime';
import { elementBytes, rowChunks, rowWindow, type GpuMatrix, type RowChunk } from '../../gpu/matrix';
import type { Recorder } from '../../gpu/recorder';
import { encodeScatter } from '../../gpu/kernels/scatter';

/** Entries per 256-byte binding offset step (u32 entries). */
const ALIGN_ENTRIES = 64;
/** A patch larger than this fraction of the matrix's words is replaced by a second matrix (12 bytes per entry against 4 per word). */
export const MAX_PATCH_FRACTION = 1 / 16;

/** u32 words per row of `m` in memory (16-bit elements two to a word). */
function rowWords(m: GpuMatrix): number {
  return (m.ld * elementBytes(m)) / 4;
}

/**
 * Collects the differing words while a matrix is uploaded piece by piece, in row order. A word is
 * an f32 element, or two elements of a 16-bit matrix: the patch writes whole words, bit for bit.
 */
export class HalfPatchBuilder {
  private idx = new Uint32Array(1024);
  private half = new Uint32Array(1024);
  private stored = new Uint32Array(1024);
  private count = 0;
  private readonly max: number;
  private readonly ldWords: number;
  /** True once more words differ than a patch should hold, or the F16 values do not fit the matrix's format. */
  overflow = false;

  constructor(private readonly m: GpuMatrix) {
    this.ldWords = rowWords(m);
    this.max = Math.floor(m.rows * Math.ceil((m.cols * elementBytes(m)) / 4) * MAX_PATCH_FRACTION);
  }

  /**
   * Rows [r0, r0 + n) as the matrix stores them and with their F16 values, each [n, ldWords] words
   * (packedRows); `half` null when the matrix's format cannot hold the F16 values.
   */
  add(r0: number, stored: Uint32Array, half: Uint32Array | null): void {
    if (this.overflow || stored === half) return;
    if (half === null) {
      this.overflow = true;
      return;
    }
    const base = r0 * this.ldWords;
    for (let i = 0; i < stored.length; i++) {
      if (stored[i] === half[i]) continue;
      if (this.count === this.max) {
        this.overflow = true;
        return;
      }
      if (this.count === this.idx.length) this.grow();
      this.idx[this.count] = base + i;
      this.half[this.count] = half[i];
      this.stored[this.count] = stored[i];
      this.count++;
    }
  }

  private grow(): void {
    const n = Math.min(this.max, this.idx.length * 2);
    const grown = (a: Uint32Array) => {
      const b = new Uint32Array(n);
      b.set(a);
      return b;
    };
    this.idx = grown(this.idx);
    this.half = grown(this.half);
    this.stored = grown(this.stored);
  }

  /** The patch on the GPU; null when nothing differs. Call only when not overflowed. */
  build(rt: GpuRuntime, label: string): HalfPatch | null {
    if (this.overflow) throw new Error(`${label}: the patch overflowed; use a second matrix`);
    if (this.count === 0) return null;
    const ld = this.ldWords;
    const windows = rowChunks(0, this.m.rows, [this.m], rt.bindingLimit);
    // Each window's entries start at an aligned entry, so that they can be bound at an aligned offset.
    const spans: { window: RowChunk; first: number; count: number }[] = [];
    let e = 0;
    let at = 0;
    for (const w of windows) {
      const end = (w.r0 + w.n) * ld;
      const start = e;
      while (e < this.count && this.idx[e] < end) e++;
      if (e > start) {
        spans.push({ window: w, first: at, count: e - start });
        at += Math.ceil((e - start) / ALIGN_ENTRIES) * ALIGN_ENTRIES;
      }
    }
    const idx = new Uint32Array(at);
    const half = new Uint32Array(at);
    const stored = new Uint32Array(at);
    e = 0;
    for (const s of spans) {
      const base = s.window.r0 * ld;
      for (let i = 0; i < s.count; i++, e++) {
        idx[s.first + i] = this.idx[e] - base;
        half[s.first + i] = this.half[e];
        stored[s.first + i] = this.stored[e];
      }
    }
    const upload = (a: Uint32Array, what: string) => {
      const b = rt.storage(a.byteLength, `${label}.halfPatch.${what}`);
      rt.upload(b, 0, a);
      return b;
    };
    return new HalfPatch(rt, this.m, spans, upload(idx, 'idx'), upload(half, 'half'), upload(stored, 'stored'), this.count);
  }
}

export class HalfPatch {
  constructor(
    private readonly rt: GpuRuntime,
    private readonly target: GpuMatrix,
    private readonly spans: { window: RowChunk; first: number; count: number }[],
    private readonly idx: GPUBuffer,
    private readonly half: GPUBuffer,
    private readonly stored: GPUBuffer,
    /** Words that differ. */
    readonly entries: number,
  ) {}

  /** Records the switch of the target's differing words to their F16 (`half`) or stored values. */
  encode(rec: Recorder, half: boolean): void {
    const values = half ? this.half : this.stored;
    for (const s of this.spans) {
      const slice = (buffer: GPUBuffer) => ({ buffer, offset: s.first * 4, size: Math.max(4, s.count * 4) });
      encodeScatter(rec, slice(this.idx), slice(values), rowWindow(this.target, s.window.r0, s.window.n), s.count);
    }
  }

  /** GPU bytes of the patch. */
  get bytes(): number {
    return this.idx.size + this.half.size + this.stored.size;
  }

  release(): void {
    this.rt.release(this.idx, this.half, this.stored);
  }
}
