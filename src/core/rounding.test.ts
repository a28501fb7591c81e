import { describe, expect, it } from 'vitest';
import { roundHalfEven } from './rounding';

describe('roundHalfEven', () => {
  it('rounds ties to the even neighbour', () => {
    const cases: [number, number][] = [
      [0.5, 0], [1.5, 2], [2.5, 2], [3.5, 4], [-0.5, 0], [-1.5, -2], [-2.5, -2], [-3.5, -4], [7.5, 8], [8.5, 8],
    ];
    // + 0 folds −0 (torch.round(−0.5) is −0 too) into 0 for toBe's Object.is
    for (const [x, want] of cases) expect(roundHalfEven(x) + 0, `round(${x})`).toBe(want);
  });

  it('differs from Math.round exactly on ties with an even lower neighbour', () => {
    expect(Math.round(2.5)).toBe(3);
    expect(roundHalfEven(2.5)).toBe(2);
    expect(Math.round(-1.5)).toBe(-1);
    expect(roundHalfEven(-1.5)).toBe(-2);
  });

  it('rounds non-ties to nearest', () => {
    expect(roundHalfEven(2.4999999)).toBe(2);
    expect(roundHalfEven(2.5000001)).toBe(3);
    expect(roundHalfEven(-2.6)).toBe(-3);
    expect(roundHalfEven(0.49999999999999994)).toBe(0);
    expect(roundHalfEven(2 ** 53 + 2)).toBe(2 ** 53 + 2);
    expect(roundHalfEven(4503599627370495.5)).toBe(4503599627370496);
    expect(Number.isNaN(roundHalfEven(NaN))).toBe(true);
  });
});
