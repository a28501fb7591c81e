import { describe, expect, it } from 'vitest';
import { dampingRefusal, MIN_DAMPING } from './damping';

describe('dampingRefusal', () => {
  it('accepts (0, 1] down to the f32 floor, in fractions or percent', () => {
    for (const f of [MIN_DAMPING, 0.01, 0.1, 1]) expect(dampingRefusal(f)).toBeNull();
    expect(dampingRefusal(1e-11)).toMatch(/at least 1e-6 \(0\.0001 %\): less is lost to f32 rounding/);
    expect(dampingRefusal(1e-11, true)).toMatch(/at least 0\.0001 %:/);
    expect(dampingRefusal(0)).toMatch(/more than 0 \(H needs it/);
    expect(dampingRefusal(1.01)).toMatch(/at most 1 \(100 %\)/);
    expect(dampingRefusal(Number.NaN)).toBe('damping must be a number');
  });

  it('the floor is where f32 stops seeing the damping', () => {
    // A diagonal entry at the mean plus damping·mean: at the floor f32 still moves it, an order below it does not always.
    const f32 = (x: number) => Math.fround(x);
    for (const mean of [1e-4, 0.37, 3, 1234.5]) {
      const d = f32(mean);
      expect(f32(d + f32(MIN_DAMPING * d))).not.toBe(d);
    }
    expect(f32(1 + 1e-9)).toBe(1);
  });
});
