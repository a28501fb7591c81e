import { describe, expect, it } from 'vitest';
import { downsampleAbs, errorHistogram, layerDetail } from './layer-detail';

describe('layer detail', () => {
  it('averages |H| over cells, with a partial last cell, in either column order', () => {
    // 5×5 with H[i][j] = (i == j ? 10 : -1) · (i + 1): cells of 2 columns → 3 cells per side.
    const n = 5;
    const H = Float64Array.from({ length: n * n }, (_, k) => (Math.floor(k / n) === k % n ? 10 : -1) * (Math.floor(k / n) + 1));
    const g = downsampleAbs(H, n, 3);
    expect(g.size).toBe(3);
    expect(g.values[0]).toBeCloseTo((10 + 1 + 2 + 20) / 4, 6); // rows 0–1, cols 0–1
    expect(g.values[8]).toBeCloseTo(50, 6); // the lone corner H[4][4]
    expect(g.values[2]).toBeCloseTo((1 + 2) / 2, 6); // rows 0–1, col 4
    const reversed = downsampleAbs(H, n, 3, [4, 3, 2, 1, 0]);
    expect(reversed.values[0]).toBeCloseTo((50 + 5 + 4 + 40) / 4, 6);
    expect(downsampleAbs(H, n, 8).size).toBe(5); // small layers are not upsampled
  });

  it('bins W − Q for both quantizations on the same symmetric edges', () => {
    const W = [0, 0, 0, 0];
    const h = errorHistogram(W, [0.1, -0.1, 0, 0], [0.2, 0, 0, 0], 4);
    expect(Array.from(h.edges)).toEqual([-0.2, -0.1, 0, 0.1, 0.2].map((x) => Math.fround(x)));
    expect(h.gptq.reduce((a, b) => a + b)).toBe(4);
    expect(Array.from(h.rtn)).toEqual([1, 0, 3, 0]); // −0.2 in the first bin, the zeros in [0, 0.1)
    expect(Array.from(h.gptq)).toEqual([0, 1, 2, 1]); // −0.1, then 0 and 0, then +0.1
  });

  it('keeps the diagonal whole and offers the act-order view only with a permutation', () => {
    const H = [4, 1, 1, 9];
    const d = layerDetail(H, 2, [1, 2], [1, 2], [1, 2], null);
    expect(Array.from(d.diag)).toEqual([4, 9]);
    expect(d.hessianActOrder).toBeNull();
    expect(layerDetail(H, 2, [1, 2], [1, 2], [1, 2], [1, 0]).hessianActOrder!.values[0]).toBe(9);
  });

  it('leaves the padding of an MLP width out of the heatmap, diag(H), the act-order and the histograms', () => {
    // A [3, 4] contracting linear whose last column is padding (its input is always 0, so its
    // H row and column are 0), and an expanding one whose last row is padding (zero weights).
    const H = [4, 1, 0, 0, 1, 9, 2, 0, 0, 2, 16, 0, 0, 0, 0, 0];
    const W = [0.5, -0.5, 0.25, 0, 0.5, -0.5, 0.25, 0, 0.5, -0.5, 0.25, 0];
    const Q = W.map((w, i) => (i % 4 === 3 ? 0 : w + 0.01));
    const contract = layerDetail(H, 4, W, Q, Q, [3, 2, 1, 0], 64, { rows: 3, cols: 3 });
    expect(contract.cols).toBe(3);
    expect(contract.paddedCols).toBe(1);
    expect(Array.from(contract.diag)).toEqual([4, 9, 16]); // no 0 from the padded column
    expect(Array.from(contract.order!)).toEqual([2, 1, 0]);
    expect(contract.hessian.size).toBe(3);
    expect(contract.hessianActOrder!.values[0]).toBe(16);
    const counted = (h: { gptq: Uint32Array }) => h.gptq.reduce((a, b) => a + b, 0);
    expect(counted(contract.errors)).toBe(9); // 3 rows × 3 real columns; the padded zeros are not a spike at 0
    const expand = layerDetail([1, 0, 0, 1], 2, [0.5, 0.5, 0, 0], [0.4, 0.6, 0, 0], [0.5, 0.5, 0, 0], null, 64, { rows: 1, cols: 2 });
    expect(expand.paddedRows).toBe(1);
    expect(counted(expand.errors)).toBe(2);
  });
});
