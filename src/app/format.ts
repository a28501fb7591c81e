/** Display formatting only; no maths the checks depend on. */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** 1073741824 -> "1 GiB"; 134217728 -> "128 MiB"; 32768 -> "32 KiB". */
export function fmtBytes(n: number): string {
  let v = n;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  const digits = Number.isInteger(v) ? 0 : v < 10 ? 2 : 1;
  return `${v.toFixed(digits)} ${UNITS[u]}`;
}

export function fmtNumber(n: number): string {
  return n.toLocaleString('en-US');
}

export function yesNo(b: boolean): string {
  return b ? 'yes' : 'no';
}

/** Small and large magnitudes in scientific notation, the rest with 4 significant digits. */
export function fmtSci(x: number): string {
  if (x === 0) return '0';
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  return a < 1e-3 || a >= 1e5 ? x.toExponential(3) : x.toPrecision(4);
}
