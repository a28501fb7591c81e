import { describe, expect, it } from 'vitest';
import { axisTitle, axisWidth, countAxis, decimalsFor, integerAxis, linearAxis, logAxis, niceStep, powerOfTen, sameAxis, scientific, tickFormat, yAxisProps } from './axis';

describe('the chart axis policy', () => {
  it('steps ticks by 1, 2, 2.5 or 5 × 10^k', () => {
    expect(niceStep(10)).toBe(2);
    expect(niceStep(1)).toBeCloseTo(0.2, 12);
    expect(niceStep(0.063)).toBeCloseTo(0.02, 12);
    expect(niceStep(27)).toBe(10);
    expect(niceStep(12, 5)).toBe(2.5);
    expect(niceStep(0)).toBe(1);
  });

  it('gives nice ticks that cover every value, with one format per axis', () => {
    // The inspector's old ticks read 2, 9, 18, 29 and −0.03299.
    const cols = linearAxis([2, 9, 18, 29]);
    expect(cols.ticks).toEqual([0, 10, 20, 30]);
    const errs = linearAxis([-0.03299, 0.03]);
    expect(errs.ticks).toEqual([-0.04, -0.02, 0, 0.02, 0.04]);
    expect(errs.ticks.map(errs.format)).toEqual(['−0.04', '−0.02', '0', '0.02', '0.04']);
    expect(errs.domain[0]).toBeLessThanOrEqual(-0.03299);
    const quarter = linearAxis([0, 1.2], { count: 4 });
    expect(quarter.ticks.map(quarter.format)).toEqual(['0', '0.5', '1.0', '1.5']);
    // Float noise never shows.
    expect(linearAxis([0, 0.3], { count: 3 }).ticks).toEqual([0, 0.1, 0.2, 0.3]);
    // A flat series still gets a span around it.
    const flat = linearAxis([5, 5]);
    expect(flat.domain[0]).toBeLessThan(5);
    expect(flat.domain[1]).toBeGreaterThan(5);
    expect(linearAxis([3, 7], { withZero: true }).ticks[0]).toBe(0);
    expect(integerAxis([0, 3]).ticks).toEqual([0, 1, 2, 3]);
    // Columns 0–255: the axis ends at the last column, ticks at nice steps inside it.
    const columns = integerAxis([0, 255]);
    expect(columns.domain).toEqual([0, 255]);
    expect(columns.ticks).toEqual([0, 100, 200]);
    expect(integerAxis([1, 8]).ticks).toEqual([2, 4, 6, 8]);
    expect(countAxis([0, 3]).ticks).toEqual([0, 1, 2, 3]);
    expect(countAxis([12, 4800]).ticks).toEqual([0, 1000, 2000, 3000, 4000, 5000]);
  });

  it('uses SI suffixes for large ranges and powers of ten for tiny ones', () => {
    const counts = linearAxis([0, 38_000]);
    expect(counts.ticks.map(counts.format)).toEqual(['0', '10k', '20k', '30k', '40k']);
    const tiny = linearAxis([-4e-4, 4e-4]);
    expect(tiny.ticks.map(tiny.format)).toEqual(['−4×10⁻⁴', '−2×10⁻⁴', '0', '2×10⁻⁴', '4×10⁻⁴']);
    expect(tickFormat([0, 2.5e6, 5e6], 2.5e6)(2.5e6)).toBe('2.5M');
    expect(scientific(1e-4)).toBe('10⁻⁴');
    expect(scientific(-2.5e-7)).toBe('−2.5×10⁻⁷');
    expect(scientific(9.996e-5)).toBe('10⁻⁴');
    expect(powerOfTen(-12)).toBe('10⁻¹²');
    expect(decimalsFor(0.25)).toBe(2);
    expect(decimalsFor(5)).toBe(0);
  });

  it('spans whole decades on log axes, so the smallest point stays inside', () => {
    const mse = logAxis([7e-3, 2e-4, 3.1e-5]);
    expect(mse.domain).toEqual([1e-5, 1e-2]);
    expect(mse.ticks).toEqual([1e-5, 1e-4, 1e-3, 1e-2]);
    expect(mse.ticks.map(mse.format)).toEqual(['10⁻⁵', '10⁻⁴', '10⁻³', '10⁻²']);
    for (const v of [7e-3, 2e-4, 3.1e-5]) {
      expect(v).toBeGreaterThanOrEqual(mse.domain[0]);
      expect(v).toBeLessThanOrEqual(mse.domain[1]);
    }
    // Under two decades: 2 and 5 between, plain numbers in an ordinary range.
    const narrow = logAxis([0.2, 0.9]);
    expect(narrow.ticks).toEqual([0.1, 0.2, 0.5, 1]);
    expect(narrow.ticks.map(narrow.format)).toEqual(['0.1', '0.2', '0.5', '1']);
    // Many decades: every second one, still covering the data.
    const wide = logAxis([1e-12, 1]);
    expect(wide.ticks.length).toBeLessThanOrEqual(7);
    expect(wide.domain[0]).toBeLessThanOrEqual(1e-12);
    // Zeros and non-finite values are ignored (a log axis cannot show them).
    expect(logAxis([0, NaN, 3, 40]).domain).toEqual([1, 100]);
  });

  it('titles axes with their unit and sizes them to their labels', () => {
    expect(axisTitle('output MSE', 'log scale')).toBe('output MSE (log scale)');
    expect(axisTitle('column')).toBe('column');
    const a = logAxis([1e-5, 1e-2]);
    expect(axisWidth(a)).toBeGreaterThan(axisWidth({ ticks: [1], format: () => '1' }));
  });

  it('tells axes with the same ticks apart from changed ones, and gives equal props for one axis', () => {
    const a = logAxis([3e-5, 2e-3]);
    expect(sameAxis(a, logAxis([4e-5, 5e-3]))).toBe(true); // the same decades
    expect(sameAxis(a, logAxis([4e-5, 2e-2]))).toBe(false); // one more decade
    expect(sameAxis(linearAxis([0, 10]), linearAxis([0, 12]))).toBe(false);
    const [p, q] = [yAxisProps(a, 'MSE', 'log'), yAxisProps(a, 'MSE', 'log')];
    // recharts compares these by identity (tickFormatter, ticks) or one level deep (tick, label).
    expect(q.tickFormatter).toBe(p.tickFormatter);
    expect(q.ticks).toBe(p.ticks);
    expect(q.tick).toBe(p.tick);
    expect(q.label.style).toBe(p.label.style);
  });
});
