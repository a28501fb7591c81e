import { describe, expect, it } from 'vitest';
import { expectClose, findMismatches, loadIstFixtures } from './ist-fixtures';

describe('loadIstFixtures', () => {
  it('reads every fixture as typed row-major arrays', () => {
    const all = loadIstFixtures();
    expect(all.length).toBeGreaterThan(0);
    for (const f of all) {
      expect(f.W.length).toBe(f.rows * f.cols);
      expect(f.Q.length).toBe(f.rows * f.cols);
      expect(f.X.length).toBe(f.tokens * f.cols);
      expect(typeof f.options.bits).toBe('number');
      expect(f.loss).toBeGreaterThan(0);
    }
  });
});

describe('expectClose', () => {
  it('passes within atol + |ref|·rtol', () => {
    expect(() => expectClose([1.0001, 2], [1, 2], { atol: 1e-3 })).not.toThrow();
    expect(() => expectClose([110], [100], { rtol: 0.1 })).not.toThrow();
  });

  it('reports the count and the first mismatches with their index', () => {
    const actual = [0, 1, 2.5, 3, 9, 5];
    const expected = [0, 1, 2, 3, 4, 5];
    expect(findMismatches(actual, expected, { atol: 0.1 }).map((m) => m.index)).toEqual([2, 4]);
    expect(() => expectClose(actual, expected, { atol: 0.1, label: 'Q' })).toThrow(
      /Q: 2 of 6 entries differ[^]*\[2\] actual 2\.5 expected 2[^]*\[4\] actual 9 expected 4/,
    );
    expect(() => expectClose([NaN], [0], { atol: 1 })).toThrow(/\[0\] actual NaN/);
  });
});
