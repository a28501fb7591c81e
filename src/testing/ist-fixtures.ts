/**
 * Node-only test helpers: the IST-DASLab/gptq reference fixtures (../../../shared/fixtures/ist-gptq,
 * relative to this file) and an llm.c-style closeness check.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { QuantOptions } from '../core/types';

export interface IstFixture {
  name: string;
  options: QuantOptions;
  rows: number;
  cols: number;
  tokens: number;
  /** [rows, cols] row-major */
  W: Float32Array;
  /** [tokens, cols] row-major */
  X: Float32Array;
  /** The reference's dequantized result [rows, cols] */
  Q: Float32Array;
  /** Σ Losses as the reference prints it */
  loss: number;
  /** mean over rows and tokens of ((W − Q)·Xᵀ)² */
  outputMse: number;
}

export const IST_FIXTURE_DIR = fileURLToPath(new URL('../../../shared/fixtures/ist-gptq', import.meta.url));

interface RawFixture {
  name: string;
  options: QuantOptions;
  W: number[][];
  X: number[][];
  Q: number[][];
  loss: number;
  outputMse: number;
}

function flatten(A: number[][], rows: number, cols: number, what: string): Float32Array {
  if (A.length !== rows || A.some((row) => row.length !== cols)) {
    throw new Error(`${what}: expected ${rows}×${cols}`);
  }
  const out = new Float32Array(rows * cols);
  A.forEach((row, r) => out.set(row, r * cols));
  return out;
}

export function loadIstFixture(file: string): IstFixture {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as RawFixture;
  const rows = raw.W.length;
  const cols = raw.W[0].length;
  const tokens = raw.X.length;
  return {
    name: raw.name,
    options: raw.options,
    rows,
    cols,
    tokens,
    W: flatten(raw.W, rows, cols, `${raw.name}.W`),
    X: flatten(raw.X, tokens, cols, `${raw.name}.X`),
    Q: flatten(raw.Q, rows, cols, `${raw.name}.Q`),
    loss: raw.loss,
    outputMse: raw.outputMse,
  };
}

/** Every ist-gptq/*.json, sorted by file name. */
export function loadIstFixtures(dir = IST_FIXTURE_DIR): IstFixture[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => loadIstFixture(join(dir, f)));
}

export interface CloseOptions {
  atol?: number;
  rtol?: number;
  label?: string;
  /** Mismatches listed in the error message (default 5). */
  report?: number;
}

export interface Mismatch {
  index: number;
  actual: number;
  expected: number;
}

/** Entries where |actual − expected| > atol + |expected|·rtol (NaN never matches). */
export function findMismatches(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  { atol = 0, rtol = 0 }: CloseOptions = {},
): Mismatch[] {
  if (actual.length !== expected.length) {
    throw new Error(`length mismatch: actual ${actual.length}, expected ${expected.length}`);
  }
  const out: Mismatch[] = [];
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (!(Math.abs(a - e) <= atol + Math.abs(e) * rtol)) out.push({ index: i, actual: a, expected: e });
  }
  return out;
}

/** Throws, listing the first few mismatches with their index, unless every entry is close. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, opts: CloseOptions = {}): void {
  const { atol = 0, rtol = 0, label = 'values', report = 5 } = opts;
  const bad = findMismatches(actual, expected, { atol, rtol });
  if (bad.length === 0) return;
  let maxDiff = 0;
  for (let i = 0; i < expected.length; i++) maxDiff = Math.max(maxDiff, Math.abs(actual[i] - expected[i]));
  const lines = bad
    .slice(0, report)
    .map(({ index, actual: a, expected: e }) => `  [${index}] actual ${a} expected ${e} |Δ| ${Math.abs(a - e)}`);
  throw new Error(
    `${label}: ${bad.length} of ${expected.length} entries differ by more than ${atol} + |ref|·${rtol} ` +
      `(max |Δ| ${maxDiff})\n${lines.join('\n')}`,
  );
}
