/** packedRows: the words a matrix of each format holds, padding, and values a format cannot hold. */
import { describe, expect, it } from 'vitest';
import { packedRows } from './packed-rows';

describe('packedRows', () => {
  it('f32: the values\' own bits, rows padded with zeros to ld', () => {
    const v = Float32Array.of(1, -2, 3, 4, 5, 6);
    expect(packedRows(v, 3, 3, 'f32')!.buffer).toBe(v.buffer);
    const words = packedRows(v, 3, 4, 'f32')!;
    expect(Array.from(new Float32Array(words.buffer))).toEqual([1, -2, 3, 0, 4, 5, 6, 0]);
  });

  it('16-bit: two elements a word, the even one low; an odd row length padded with zero', () => {
    // 1 = 0x3c00 in F16 and 0x3f80 in BF16; −2 = 0xc000 and 0xc000; 0.5 = 0x3800 and 0x3f00.
    const v = Float32Array.of(1, -2, 0.5, 0.5, 1, -2);
    expect(Array.from(packedRows(v, 3, 4, 'f16')!)).toEqual([0xc0003c00, 0x00003800, 0x3c003800, 0x0000c000]);
    expect(Array.from(packedRows(v, 3, 4, 'bf16')!)).toEqual([0xc0003f80, 0x00003f00, 0x3f803f00, 0x0000c000]);
  });

  it('keeps F16 subnormals exactly and refuses what a format cannot hold', () => {
    const subnormal = 3 * 2 ** -24;
    expect(packedRows(Float32Array.of(subnormal, 0), 2, 2, 'f16')![0]).toBe(3);
    expect(packedRows(Float32Array.of(0.1, 0), 2, 2, 'f16')).toBeNull(); // 0.1 is not an F16 value
    expect(packedRows(Float32Array.of(1 + 2 ** -10, 0), 2, 2, 'f16')).not.toBeNull();
    expect(packedRows(Float32Array.of(1 + 2 ** -10, 0), 2, 2, 'bf16')).toBeNull(); // 11 significant bits
    expect(packedRows(Float32Array.of(1e-30, 0), 2, 2, 'bf16')).toBeNull();
    expect(() => packedRows(Float32Array.of(1, 2, 3), 2, 2, 'f16')).toThrow(/whole rows/);
    expect(() => packedRows(Float32Array.of(1, 2), 2, 3, 'bf16')).toThrow(/even row length/);
  });
});
