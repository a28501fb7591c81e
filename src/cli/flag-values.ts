/**
 * Numbers given on a command line, strictly: the quantize command's flags (args.ts) and the
 * benchmarks' (bench/flags.ts) read them here. JavaScript's Number() takes "1e3", "0x10", "1.0",
 * "" (as 0) and " 7" for integers, and rounds a 20-digit value to a float that is still "an
 * integer"; a flag takes none of these, and says what it expects instead.
 */
import { isPlainInteger, looseNumber } from '../core/number-text';

/** Decimal numbers as every setting takes them (src/core/number-text.ts). */
export { decimalOrNaN } from '../core/number-text';

/** Bad flags or flag values: the command prints the message (and its usage) and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** What an integer flag takes. */
export interface IntegerRange {
  min: number;
  /** The largest value that means something for the flag (default Number.MAX_SAFE_INTEGER). */
  max?: number;
  /** Why `max`, said when a value is above it ("the sweep's seeds count up from it"). */
  maxWhy?: string;
}

/** "from 1 to 8", "from 1 up". */
function rangeText(min: number, max: number): string {
  return max < Number.MAX_SAFE_INTEGER ? `from ${min} to ${max}` : `from ${min} up`;
}

/**
 * The integer `text` given for `flag`: plain decimal digits (a leading minus only counts when
 * `min` is negative) from `range.min` to `range.max`. Throws UsageError naming the flag, the value
 * and what it takes: "--eval-windows needs an integer in plain decimal digits from 1 up, got "1e3"
 * (write 1000)"; a value above max says it is too large, with `maxWhy`.
 */
export function parseInteger(flag: string, text: string, range: IntegerRange): number {
  const { min } = range;
  const max = range.max ?? Number.MAX_SAFE_INTEGER;
  if (!isPlainInteger(text)) {
    // Say the plain form of what JavaScript would have read ("1e3" is 1000), when there is one in range.
    const loose = looseNumber(text);
    const plain = Number.isSafeInteger(loose) && loose >= min && loose <= max ? ` (write ${loose})` : '';
    throw new UsageError(`${flag} needs an integer in plain decimal digits ${rangeText(min, max)}, got "${text}"${plain}`);
  }
  const big = BigInt(text);
  if (big > BigInt(max)) {
    throw new UsageError(max === Number.MAX_SAFE_INTEGER
      ? `${flag} ${text} is too large: at most ${max} (2^53 − 1, the largest integer a number holds exactly)`
      : `${flag} needs an integer ${rangeText(min, max)}${range.maxWhy ? ` (${range.maxWhy})` : ''}, got "${text}"`);
  }
  if (big < BigInt(min)) throw new UsageError(`${flag} needs an integer ${rangeText(min, max)}, got "${text}"`);
  return Number(big);
}
