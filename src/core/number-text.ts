/**
 * How numbers are written in the settings, one rule for the CLI's flags (src/cli/flag-values.ts)
 * and the studio's fields (src/app/studio/run-settings.ts): an integer is plain decimal digits,
 * never "1e3", "0x10" or "1.0", which JavaScript's Number() would read. Pure.
 */

/** Plain decimal digits, with a minus sign (whether it is allowed is the range's business). */
const PLAIN_INTEGER = /^-?[0-9]+$/;

/**
 * A decimal number: digits with an optional fraction and exponent ("0.01", ".5", "3", "1e-2"),
 * with an optional minus sign; no hex, no "Infinity", no spaces, nothing empty.
 */
const DECIMAL = /^-?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/;

/** Whether `text` is an integer in plain decimal digits ("-3", "1000"; not "1e3", " 7" or ""). */
export function isPlainInteger(text: string): boolean {
  return PLAIN_INTEGER.test(text);
}

/**
 * What JavaScript's Number() reads in `text`, NaN for a blank text (Number('') is 0): the value a
 * refusal of "1e3" offers in its plain form ("write 1000").
 */
export function looseNumber(text: string): number {
  return text.trim() === '' ? NaN : Number(text);
}

/**
 * A decimal number (see DECIMAL: "0.01", "1e-2", "-3"), or NaN for anything else ("0x10", "",
 * "Infinity", " 1"): the caller's range check then refuses it with what the setting takes.
 */
export function decimalOrNaN(text: string): number {
  return DECIMAL.test(text) ? Number(text) : NaN;
}
