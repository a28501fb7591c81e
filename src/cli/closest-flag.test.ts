/** "Did you mean": the closest known flag to an unknown one, in the quantize command and the benchmarks. */
import { describe, expect, it } from 'vitest';
import { closestFlag, editDistance } from './closest-flag';
import { parseArgs, UsageError } from './args';
import { readFlags } from '../../bench/flags';

const base = ['--model', 'm', '--calibration', 'c.txt', '--eval', 'e.txt', '--out', 'o'];

describe('editDistance', () => {
  it('counts insertions, deletions, substitutions and swaps of neighbours', () => {
    expect(editDistance('', '')).toBe(0);
    expect(editDistance('bits', 'bits')).toBe(0);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('abc', '')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('bist', 'bits')).toBe(1);
    expect(editDistance('ca', 'abc')).toBe(3); // optimal string alignment: a swapped pair is not edited again
    expect(editDistance('evalwindows', 'eval-windows')).toBe(1);
  });
});

describe('closestFlag', () => {
  const known = ['--model', '--calibration', '--eval', '--out', '--nsamples', '--seqlen', '--seed', '--bits', '--group-size', '--sym', '--asym',
    '--damp', '--eval-windows', '--target-bpw', '--seeds', '--sweep', '--format', '--mse'];

  it.each([
    ['--evalwindows', '--eval-windows'],
    ['--group_size', '--group-size'],
    ['--GROUP-SIZE', '--group-size'],
    ['--groupsize', '--group-size'],
    ['--nsample', '--nsamples'],
    ['--bist', '--bits'],
    ['--target-bits', '--target-bpw'],
    ['--calib', '--calibration'],
    ['--seqlength', '--seqlen'],
    ['--damping', '--damp'],
    ['-bits', '--bits'],
    ['\u2014bits', '--bits'],
    ['bits', '--bits'],
    ['--evaluation', '--eval'],
  ])('%s → %s', (given, meant) => {
    expect(closestFlag(given, known)).toBe(meant);
  });

  it.each(['--frobnicate', '--xyz', '--s', '--', 'eval.txt', 'stories260K', '4', '--quantize'])('%s → nothing', (given) => {
    expect(closestFlag(given, known)).toBeNull();
  });
});

describe('unknown flags', () => {
  it('the quantize command names the flag meant', () => {
    expect(() => parseArgs([...base, '--evalwindows', '8'])).toThrow(UsageError);
    expect(() => parseArgs([...base, '--evalwindows', '8'])).toThrow(/^unknown argument "--evalwindows": did you mean --eval-windows\? \(see --help\)$/);
    expect(() => parseArgs([...base, '--group_size=32'])).toThrow(/^unknown argument "--group_size=32": did you mean --group-size\? \(see --help\)$/);
    expect(() => parseArgs([...base, '--frobnicate'])).toThrow(/^unknown argument "--frobnicate" \(see --help\)$/);
    // A flag that takes no value, given one.
    expect(() => parseArgs([...base, '--sym=true'])).toThrow(/^--sym takes no value, got "--sym=true": give --sym alone$/);
  });

  it('the benchmarks too, hidden flags included', () => {
    const flags = { '--shapes': 'shapes', '--reps': 'repetitions' };
    expect(() => readFlags(['--rep', '2'], flags, 'usage')).toThrow(/^unknown flag --rep: did you mean --reps\?$/);
    expect(() => readFlags(['--measur=x'], flags, 'usage', ['--measure'])).toThrow(/^unknown flag --measur=x: did you mean --measure\?$/);
    expect(() => readFlags(['--frobnicate', '1'], flags, 'usage')).toThrow(/^unknown flag --frobnicate$/);
  });
});
