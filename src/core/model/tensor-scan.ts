/**
 * One pass over every tensor a model uses, before any work: refuses NaN and ±Inf by tensor name and
 * file (a NaN in a norm, or in the embedding row of a token the texts never use, would otherwise
 * reach the results or the exported file), and records each tensor's largest magnitude, which the
 * export plan checks against the float16 range (src/core/export/plan.ts).
 *
 * The scan reads each tensor's stored bytes in pieces of at most SCAN_CHUNK_BYTES (never the whole
 * model, never a whole large tensor) and tests the bit patterns themselves, without converting them:
 * an IEEE value is NaN or ±Inf exactly when its exponent bits are all ones, and for finite values
 * the magnitude's order is the order of the bit pattern with the sign cleared.
 */
import { CheckpointError } from './checkpoint-error';
import { bfloat16ToFloat, halfToFloat } from './float-convert';
import { requiredTensors } from './architecture';
import type { Checkpoint } from './checkpoint';
import type { StoredDtype } from './safetensors';

/** Bytes read at a time (a multiple of 4, so a piece never splits an element). */
export const SCAN_CHUNK_BYTES = 16 << 20;

export interface TensorStats {
  /** Largest |value| of the tensor (0 for an empty one). */
  maxAbs: number;
}

export interface ScanProgress {
  bytesDone: number;
  bytesTotal: number;
  tensorsDone: number;
  tensorsTotal: number;
}

/** What one piece of a tensor holds: non-finite values and the largest magnitude's bit pattern. */
export interface BitScan {
  nan: number;
  inf: number;
  /** Element index (within the piece) of the first NaN or ±Inf, or -1. */
  firstBad: number;
  /** Largest |value| among the finite values, as the sign-cleared bit pattern. */
  maxBits: number;
}

const FORMATS = {
  F32: { bytes: 4, abs: 0x7fffffff, inf: 0x7f800000 },
  F16: { bytes: 2, abs: 0x7fff, inf: 0x7c00 },
  BF16: { bytes: 2, abs: 0x7fff, inf: 0x7f80 },
} as const;

/** Scans little-endian F32, F16 or BF16 bytes (a whole number of elements). */
export function scanBits(bytes: Uint8Array, dtype: 'F32' | 'F16' | 'BF16'): BitScan {
  const f = FORMATS[dtype];
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  const n = aligned.byteLength / f.bytes;
  const out: BitScan = { nan: 0, inf: 0, firstBad: -1, maxBits: 0 };
  const bad = (a: number, i: number) => {
    if (a === f.inf) out.inf++;
    else out.nan++;
    if (out.firstBad < 0) out.firstBad = i;
  };
  let maxBits = 0;
  if (f.bytes === 4) {
    const words = new Uint32Array(aligned.buffer, aligned.byteOffset, n);
    for (let i = 0; i < n; i++) {
      const a = words[i] & 0x7fffffff;
      if (a >= 0x7f800000) bad(a, i);
      else if (a > maxBits) maxBits = a;
    }
  } else {
    // Two 16-bit values per 32-bit load (little-endian: element 2j in the low half).
    const pairs = n >>> 1;
    const words = new Uint32Array(aligned.buffer, aligned.byteOffset, pairs);
    const inf = f.inf;
    for (let j = 0; j < pairs; j++) {
      const w = words[j];
      const lo = w & 0x7fff;
      const hi = (w >>> 16) & 0x7fff;
      if (lo >= inf || hi >= inf) {
        if (lo >= inf) bad(lo, 2 * j);
        else if (lo > maxBits) maxBits = lo;
        if (hi >= inf) bad(hi, 2 * j + 1);
        else if (hi > maxBits) maxBits = hi;
      } else {
        const m = lo > hi ? lo : hi;
        if (m > maxBits) maxBits = m;
      }
    }
    if (n % 2 === 1) {
      const a = (aligned[2 * n - 2] | (aligned[2 * n - 1] << 8)) & 0x7fff;
      if (a >= inf) bad(a, n - 1);
      else if (a > maxBits) maxBits = a;
    }
  }
  out.maxBits = maxBits >>> 0;
  return out;
}

/** The magnitude a sign-cleared bit pattern stands for. */
export function bitsToValue(bits: number, dtype: 'F32' | 'F16' | 'BF16'): number {
  if (dtype === 'F16') return halfToFloat(bits);
  if (dtype === 'BF16') return bfloat16ToFloat(bits);
  return new Float32Array(new Uint32Array([bits]).buffer)[0];
}

/** "[17]" or "[row 3, column 5]" for element i of a tensor of the given shape. */
function position(i: number, shape: readonly number[]): string {
  if (shape.length !== 2) return `[${i}]`;
  return `[row ${Math.floor(i / shape[1])}, column ${i % shape[1]}]`;
}

/** The float tensors a run reads: every tensor the architecture needs (the LM head, when tied, is the embedding). */
export function usedFloatTensors(ckpt: Checkpoint): string[] {
  return requiredTensors(ckpt.layout, ckpt.config)
    .map((r) => r.name)
    .filter((n) => {
      const dtype = ckpt.tensors.get(n)?.dtype as StoredDtype | undefined;
      return dtype === 'F32' || dtype === 'F16' || dtype === 'BF16';
    });
}

/**
 * Scans `names` (default: usedFloatTensors) and returns each one's statistics. Throws a
 * CheckpointError naming the file and the first tensor that holds NaN or ±Inf, with how many and
 * where the first one is. `onProgress` hears after every piece (an error it throws, e.g. on
 * cancellation, stops the scan).
 */
export async function scanTensors(
  ckpt: Checkpoint,
  options: { names?: string[]; onProgress?: (p: ScanProgress) => void; chunkBytes?: number } = {},
): Promise<Map<string, TensorStats>> {
  const names = options.names ?? usedFloatTensors(ckpt);
  const chunk = options.chunkBytes ?? SCAN_CHUNK_BYTES;
  if (!(chunk > 0 && chunk % 4 === 0)) throw new RangeError(`chunkBytes must be a positive multiple of 4, got ${chunk}`);
  const infos = names.map((n) => {
    const info = ckpt.tensors.get(n);
    if (!info) throw new CheckpointError(`tensor "${n}" is not in this checkpoint`, { tensor: n });
    return info;
  });
  const bytesTotal = infos.reduce((s, t) => s + (t.end - t.begin), 0);
  const stats = new Map<string, TensorStats>();
  let bytesDone = 0;
  for (const [t, info] of infos.entries()) {
    if (info.dtype === 'I32') throw new RangeError(`tensor "${info.name}" is int32; only float tensors are scanned`);
    const dtype = info.dtype;
    const size = info.end - info.begin;
    let nan = 0;
    let inf = 0;
    let firstBad = -1;
    let maxBits = 0;
    for (let offset = 0; offset < size; offset += chunk) {
      const length = Math.min(chunk, size - offset);
      const s = scanBits(await ckpt.readTensorRange(info.name, offset, length), dtype);
      if (s.firstBad >= 0 && firstBad < 0) firstBad = offset / FORMATS[dtype].bytes + s.firstBad;
      nan += s.nan;
      inf += s.inf;
      maxBits = Math.max(maxBits, s.maxBits);
      bytesDone += length;
      options.onProgress?.({ bytesDone, bytesTotal, tensorsDone: offset + length >= size ? t + 1 : t, tensorsTotal: infos.length });
    }
    if (firstBad >= 0) {
      const file = ckpt.fileOf(info.name) ?? 'the weights';
      const what = [nan > 0 ? `${nan} NaN` : '', inf > 0 ? `${inf} ±Inf` : ''].filter(Boolean).join(' and ');
      throw new CheckpointError(
        `${file}, tensor "${info.name}": ${what} value${nan + inf > 1 ? 's' : ''} (the first at ${position(firstBad, info.shape)} ` +
          `of [${info.shape.join(', ')}]). A model with NaN or ±Inf weights gives NaN results and cannot be quantized or exported, ` +
          'even where the texts never use them. The checkpoint is damaged or was saved from a diverged training run: ' +
          'download it again or repair that tensor.',
        { file, tensor: info.name },
      );
    }
    stats.set(info.name, { maxAbs: bitsToValue(maxBits, dtype) });
    if (size === 0) options.onProgress?.({ bytesDone, bytesTotal, tensorsDone: t + 1, tensorsTotal: infos.length });
  }
  return stats;
}
