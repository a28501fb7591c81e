/** Command-line flags of the benchmarks: `--flag value` or `--flag=value`, `--help` prints the usage. */
import { parseInteger, UsageError } from '../src/cli/flag-values';
import { closestFlag } from '../src/cli/closest-flag';

/** The quantize command's error class (src/cli/flag-values.ts): one parser of numbers for both. */
export { UsageError };

/** One line per flag with its description, the flag column `pad` wide. */
export function flagLines(flags: Record<string, string>, pad: number): string {
  return Object.entries(flags).map(([f, d]) => `  ${f.padEnd(pad)} ${d}`).join('\n');
}

/** The usage text: `command -- [flags]`, then the flags' lines. */
export function flagUsage(command: string, flags: Record<string, string>, pad: number): string {
  return `${command} -- [flags]\n${flagLines(flags, pad)}`;
}

/**
 * The values given for `flags` (and the `hidden` ones, not listed in the usage). `--help`/`-h`
 * prints `usage` and exits 0. Throws UsageError on an unknown flag (with the closest known one,
 * src/cli/closest-flag.ts) or a flag without a value.
 */
export function readFlags(argv: string[], flags: Record<string, string>, usage: string, hidden: string[] = []): Map<string, string> {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') {
      console.log(usage);
      process.exit(0);
    }
    const [flag, inline] = a.split('=', 2);
    if (!(flag in flags) && !hidden.includes(flag)) {
      const meant = closestFlag(flag, [...Object.keys(flags), ...hidden]);
      throw new UsageError(`unknown flag ${a}${meant ? `: did you mean ${meant}?` : ''}`);
    }
    const v = inline ?? argv[++i];
    if (v === undefined) throw new UsageError(`${flag} needs a value`);
    values.set(flag, v);
  }
  return values;
}

/**
 * The integer given for `flag` in min..max (plain decimal digits, as the quantize command's flags:
 * src/cli/flag-values.ts), or undefined when absent; throws UsageError otherwise.
 */
export function intFlag(values: Map<string, string>, flag: string, min: number, max?: number): number | undefined {
  const v = values.get(flag);
  return v === undefined ? undefined : parseInteger(flag, v, { min, max });
}

/**
 * Runs a benchmark's `main`: a UsageError prints its message and `usage`, exit 2; any other error
 * prints it, exit 1.
 */
export function runBench(main: () => Promise<void>, usage: string): void {
  const fail = (e: unknown) => {
    if (e instanceof UsageError) {
      console.error(`${e.message}\n${usage}`);
      process.exit(2);
    }
    console.error(e);
    process.exit(1);
  };
  try {
    main().catch(fail);
  } catch (e) {
    fail(e);
  }
}
