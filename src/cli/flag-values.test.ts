/** Numbers on the command line: plain decimal integers, decimal numbers, and what a refusal says. */
import { describe, expect, it } from 'vitest';
import { decimalOrNaN, parseInteger, UsageError } from './flag-values';
import { parseArgs, UsageError as ArgsUsageError } from './args';
import { intFlag, UsageError as BenchUsageError } from '../../bench/flags';

const base = ['--model', 'm', '--calibration', 'c.txt', '--eval', 'e.txt', '--out', 'o'];

describe('parseInteger', () => {
  it('takes plain decimal digits in range, a minus sign only where the range goes below 0', () => {
    expect(parseInteger('--n', '250', { min: 1 })).toBe(250);
    expect(parseInteger('--n', '007', { min: 1 })).toBe(7);
    expect(parseInteger('--g', '-1', { min: -1 })).toBe(-1);
    expect(parseInteger('--n', String(Number.MAX_SAFE_INTEGER), { min: 1 })).toBe(Number.MAX_SAFE_INTEGER);
  });

  it.each([
    ['1e3', /^--n needs an integer in plain decimal digits from 1 up, got "1e3" \(write 1000\)$/],
    ['0x10', /^--n needs an integer in plain decimal digits from 1 up, got "0x10" \(write 16\)$/],
    ['1.0', /^--n needs an integer in plain decimal digits from 1 up, got "1\.0" \(write 1\)$/],
    ['2.5', /^--n needs an integer in plain decimal digits from 1 up, got "2\.5"$/],
    ['', /^--n needs an integer in plain decimal digits from 1 up, got ""$/],
    [' 7', /^--n needs an integer in plain decimal digits from 1 up, got " 7" \(write 7\)$/],
    ['+7', /got "\+7" \(write 7\)$/],
    ['Infinity', /got "Infinity"$/],
    ['-5', /^--n needs an integer from 1 up, got "-5"$/],
    ['0', /^--n needs an integer from 1 up, got "0"$/],
    // A 20-digit value is an integer, too large: not "needs an integer from 1 up" (Number() would read it as 1.2e19).
    ['12345678901234567890', /^--n 12345678901234567890 is too large: at most 9007199254740991 \(2\^53 − 1, the largest integer a number holds exactly\)$/],
    ['9007199254740992', /^--n 9007199254740992 is too large/],
  ])('refuses %j, naming the flag, the value and what it takes', (text, message) => {
    expect(() => parseInteger('--n', text, { min: 1 })).toThrow(UsageError);
    expect(() => parseInteger('--n', text, { min: 1 })).toThrow(message);
  });

  it('a value above the flag\'s own max says the range and why; a loose spelling is offered only when in range', () => {
    expect(() => parseInteger('--k', '99', { min: 1, max: 16, maxWhy: 'seeds' })).toThrow(/^--k needs an integer from 1 to 16 \(seeds\), got "99"$/);
    expect(() => parseInteger('--k', '123456789012345678901234', { min: 1, max: 16 })).toThrow(/^--k needs an integer from 1 to 16, got "123456789012345678901234"$/);
    expect(() => parseInteger('--k', '1e3', { min: 1, max: 16 })).toThrow(/^--k needs an integer in plain decimal digits from 1 to 16, got "1e3"$/);
  });

  it('the benchmarks read their integers with the same parser and error class', () => {
    expect(BenchUsageError).toBe(UsageError);
    expect(ArgsUsageError).toBe(UsageError);
    expect(intFlag(new Map([['--reps', '3']]), '--reps', 1)).toBe(3);
    expect(intFlag(new Map(), '--reps', 1)).toBeUndefined();
    expect(() => intFlag(new Map([['--reps', '1e3']]), '--reps', 1)).toThrow(/^--reps needs an integer in plain decimal digits from 1 up, got "1e3" \(write 1000\)$/);
    expect(() => intFlag(new Map([['--matmul', '8']]), '--matmul', 16, 4096)).toThrow(/^--matmul needs an integer from 16 to 4096, got "8"$/);
  });
});

describe('decimalOrNaN', () => {
  it('takes decimal numbers, with a fraction or an exponent; NaN for anything else', () => {
    expect(['0.01', '.5', '3', '3.', '1e-2', '2.5E+1', '-0.5'].map(decimalOrNaN)).toEqual([0.01, 0.5, 3, 3, 0.01, 25, -0.5]);
    for (const text of ['0x10', '', ' 1', '1 ', 'Infinity', 'NaN', '1e', 'e3', '1%', '1,5', '--1']) expect(decimalOrNaN(text), text).toBeNaN();
  });
});

describe('the quantize command\'s numbers', () => {
  it.each([
    [['--eval-windows', '1e3'], /^--eval-windows needs an integer in plain decimal digits from 1 up, got "1e3" \(write 1000\)$/],
    [['--eval-windows', '0x10'], /^--eval-windows needs an integer in plain decimal digits from 1 up, got "0x10" \(write 16\)$/],
    [['--eval-windows', '12345678901234567890'], /^--eval-windows 12345678901234567890 is too large: at most 9007199254740991/],
    [['--nsamples', '1000000'], /^--nsamples needs an integer from 1 to 65536 \(calibration windows; GPTQ's default is 128\), got "1000000"$/],
    [['--seqlen', '64.0'], /^--seqlen needs an integer in plain decimal digits from 2 up, got "64\.0" \(write 64\)$/],
    [['--bits', '4.5'], /^--bits needs an integer in plain decimal digits from 2 to 8, got "4\.5"$/],
    [['--group-size', '-2'], /^--group-size needs an integer from -1 up, got "-2"$/],
    [['--seed', ''], /^--seed needs an integer in plain decimal digits from 0 to \d+, got ""$/],
    [['--seed', '9007199254740991'], /^--seed needs an integer from 0 to 9007199254740976 \(a sweep's seeds count up from it, and every one must be an exact integer\), got "9007199254740991"$/],
    [['--gpu-memory', '8589934592'], /^--gpu-memory needs an integer from 1 to 8589934591 \(MiB: 8 PiB\), got "8589934592"$/],
    [['--host-memory', '4e3'], /^--host-memory needs an integer in plain decimal digits from 1 to 8589934591, got "4e3" \(write 4000\)$/],
    [['--damp', '0x1'], /^--damp: damping must be a number \(a fraction of the mean of diag\(H\) such as 0\.01, or a percent such as 1%\), got "0x1"$/],
    [['--damp', ''], /^--damp: damping must be a number .*, got ""$/],
    [['--damp', 'Infinity'], /^--damp: damping must be a number/],
    [['--target-bpw', '0x4'], /^--target-bpw needs bits per weight above 2 and below 16 \(a decimal number such as 3\.5\), got "0x4"$/],
    [['--target-bpw', ''], /^--target-bpw needs bits per weight above 2 and below 16/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseArgs([...base, ...argv])).toThrow(UsageError);
    expect(() => parseArgs([...base, ...argv])).toThrow(message);
  });

  it('takes decimal floats, exponents included, for --damp and --target-bpw', () => {
    expect(parseArgs([...base, '--damp', '1e-2'])!.settings.percDamp).toBe(0.01);
    expect(parseArgs([...base, '--damp', '.5%'])!.settings.percDamp).toBe(0.005);
    expect(parseArgs([...base, '--target-bpw', '3.5'])!.targetBpw).toBe(3.5);
    expect(parseArgs([...base, '--target-bpw', '35e-1'])!.targetBpw).toBe(3.5);
    expect(parseArgs([...base, '--nsamples', '65536', '--seed', '9007199254740976', '--gpu-memory', '8589934591'])).toMatchObject({
      settings: { nsamples: 65536, seed: 9007199254740976 }, gpuMemoryBudget: 8589934591 * 2 ** 20,
    });
  });
});
