import { describe, expect, it } from 'vitest';
import { bfloat16BytesToFloat32, bfloat16ToFloat, halfBytesToFloat32, halfToFloat } from './float-convert';
import { floatToHalf, float32ToHalfBytes } from './float-convert';

describe('F16 → f32', () => {
  it.each([
    [0x0000, 0],
    [0x3c00, 1],
    [0xc000, -2],
    [0x3555, 0.333251953125],
    [0x7bff, 65504], // largest finite
    [0x0400, 2 ** -14], // smallest normal
    [0x0001, 2 ** -24], // smallest subnormal
    [0x03ff, 1023 * 2 ** -24], // largest subnormal
    [0x8001, -(2 ** -24)],
    [0x7c00, Infinity],
    [0xfc00, -Infinity],
  ])('0x%s', (bits, value) => {
    expect(halfToFloat(bits)).toBe(value);
  });

  it('keeps negative zero and NaN', () => {
    expect(Object.is(halfToFloat(0x8000), -0)).toBe(true);
    expect(halfToFloat(0x7e00)).toBeNaN();
    expect(halfToFloat(0xfc01)).toBeNaN();
  });

  it('round-trips every finite value through Math.fround (exact in f32)', () => {
    const inexact: number[] = [];
    for (let h = 0; h < 65536; h++) {
      const v = halfToFloat(h);
      if (Number.isFinite(v) && Math.fround(v) !== v) inexact.push(h);
    }
    expect(inexact).toEqual([]);
  });

  it('converts little-endian bytes', () => {
    const bytes = new Uint8Array([0x00, 0x3c, 0x01, 0x00, 0x00, 0xfc]);
    expect(Array.from(halfBytesToFloat32(bytes))).toEqual([1, 2 ** -24, -Infinity]);
  });
});

describe('BF16 → f32', () => {
  it.each([
    [0x0000, 0],
    [0x3f80, 1],
    [0xc040, -3],
    [0x3eab, 0.333984375],
    [0x7f7f, 3.3895313892515355e38], // largest finite
    [0x0080, 2 ** -126], // smallest normal
    [0x0001, 2 ** -133], // smallest subnormal
    [0x7f80, Infinity],
    [0xff80, -Infinity],
  ])('0x%s', (bits, value) => {
    expect(bfloat16ToFloat(bits)).toBe(value);
  });

  it('keeps negative zero and NaN', () => {
    expect(Object.is(bfloat16ToFloat(0x8000), -0)).toBe(true);
    expect(bfloat16ToFloat(0x7fc0)).toBeNaN();
  });

  it('converts little-endian bytes', () => {
    const bytes = new Uint8Array([0x80, 0x3f, 0x01, 0x00, 0x80, 0xff]);
    expect(Array.from(bfloat16BytesToFloat32(bytes))).toEqual([1, 2 ** -133, -Infinity]);
  });
});

describe('floatToHalf', () => {
  it('maps every F16 value to its own pattern and rounds midpoints to even', () => {
    for (let h = 0; h < 0x10000; h++) {
      const v = halfToFloat(h);
      if (!Number.isNaN(v)) expect(floatToHalf(v)).toBe(h);
    }
    for (let h = 0; h < 0x7bff; h += 7) {
      const a = halfToFloat(h);
      const b = halfToFloat(h + 1);
      expect(floatToHalf((a + b) / 2)).toBe(h % 2 === 0 ? h : h + 1);
      expect(floatToHalf(a + (b - a) * 0.26)).toBe(h);
      expect(floatToHalf(a + (b - a) * 0.74)).toBe(h + 1);
    }
  });

  it('overflows to infinity past 65520, flushes below half the smallest subnormal, keeps NaN', () => {
    expect(floatToHalf(65519)).toBe(0x7bff);
    expect(floatToHalf(65520)).toBe(0x7c00);
    expect(floatToHalf(-1e6)).toBe(0xfc00);
    expect(floatToHalf(2 ** -25)).toBe(0); // a tie between 0 and 2^-24: to even
    expect(floatToHalf(2 ** -25 * 1.01)).toBe(1);
    expect(Number.isNaN(halfToFloat(floatToHalf(NaN)))).toBe(true);
    expect(Array.from(float32ToHalfBytes([1, -2]))).toEqual([0x00, 0x3c, 0x00, 0xc0]);
  });
});
