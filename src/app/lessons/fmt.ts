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
