/** Number formatting for the lessons: display only, no maths the lessons depend on. */

/** 1.2 → "1.20", −0.125 → "−0.125", 0.0049 → "0.005"; two or three decimals, a real minus sign. */
export function num(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  let s = x.toFixed(3);
  if (s.endsWith('0')) s = s.slice(0, -1);
  if (/^-0\.0+$/.test(s)) s = s.slice(1);
  return s.replace('-', '−');
}

/** Up to three decimals, no trailing zeros: 1 → "1", 0.070 → "0.07", −0.7 → "−0.7". */
export function short(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  return String(Number(x.toFixed(3)) + 0).replace('-', '−');
}

/** [1, 2] → "[1, 2]"; [1.1, −0.7] → "[1.1, −0.7]". */
export function vecShort(v: readonly number[]): string {
  return `[${v.map(short).join(', ')}]`;
}

/** [0.8, −0.4] → "[0.80, −0.40]". */
export function vec(v: readonly number[]): string {
  return `[${v.map(num).join(', ')}]`;
}

/** Small and large magnitudes in scientific notation, the rest with 3 significant digits. */
export function sig(x: number): string {
  if (x === 0) return '0';
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  const s = a < 1e-3 || a >= 1e4 ? x.toExponential(2) : x.toPrecision(3);
  return s.replace('-', '−');
}

/** x with exactly `decimals` decimals and a real minus sign (no "−0.000"). */
export function fixed(x: number, decimals = 3): string {
  if (!Number.isFinite(x)) return String(x);
  const s = x.toFixed(decimals);
  return (/^-0\.?0*$/.test(s) ? s.slice(1) : s).replace('-', '−');
}

/**
 * One format for a set of numbers whose largest magnitude is `range`: three significant digits
 * of the largest, the same decimals for every number of the set (so a column or a heatmap reads
 * evenly: 12.3, 0.45, 0.00 rather than 12.3, 0.45, 1.2e-5).
 */
export function fixedFor(range: number, significant = 3): (x: number) => string {
  const decimals = range > 0 && Number.isFinite(range) ? Math.max(0, Math.min(8, significant - 1 - Math.floor(Math.log10(range)))) : 2;
  return (x) => fixed(x, decimals);
}
