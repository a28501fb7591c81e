/** Throws a clear Error naming the first NaN/±Inf of a row-major [rows, cols] matrix. */
export function assertFiniteMatrix(
  A: ArrayLike<number>,
  rows: number,
  cols: number,
  name: string,
  rowName = 'row',
  colName = 'column',
): void {
  if (A.length < rows * cols) {
    throw new RangeError(`${name} has ${A.length} entries, expected ${rows}×${cols} = ${rows * cols}`);
  }
  for (let i = 0; i < rows * cols; i++) {
    const v = A[i];
    if (!Number.isFinite(v)) {
      const r = Math.floor(i / cols);
      const c = i - r * cols;
      throw new Error(
        `${name} contains ${Number.isNaN(v) ? 'NaN' : v > 0 ? '+Infinity' : '-Infinity'} ` +
          `at ${rowName} ${r}, ${colName} ${c} (index ${i}); quantization needs finite values`,
      );
    }
  }
}
