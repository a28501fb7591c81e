import { describe, expect, it } from 'vitest';
import { bfloat16BytesToFloat32, bfloat16ToFloat, halfBytesToFloat32, halfToFloat } from './float-convert';

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
