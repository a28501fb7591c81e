/**
 * The embedding gather and the NLL kernel against f64 references, including the ids they cannot
 * serve: an id ≥ vocab must raise the status word (never be skipped or scored as 0 silently).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { nodeRuntime } from '../../testing/node-gpu';
import { seededRandom } from '../../testing/random';
import type { GpuRuntime } from '../runtime';
import type { ElementFormat } from '../matrix';
import { packedRows } from '../packed-rows';
import { roundedToHalf } from '../../core/export/f16';
import { encodeEmbed, encodeNll, FORWARD_STATUS, FORWARD_STATUS_SLOTS, NO_TARGET } from './forward';

let rt: GpuRuntime;
let sliced: GpuRuntime;
beforeAll(async () => {
  rt = await nodeRuntime();
  // 4 KiB bindings: the 70-row embedding (ld 64 f32 or 128 16-bit elements) is bound in windows of 16 rows.
  sliced = await nodeRuntime({ bindingLimit: 4096 });
});
afterAll(() => {
  rt?.destroy();
  sliced?.destroy();
});

const VOCAB = 70;
const COLS = 37;

/** Values in [−1, 1), every 13th of them tiny (F16 subnormals), exactly values of `format`. */
function table(rows: number, cols: number, seed: number, format: ElementFormat = 'f32'): Float32Array {
  const rand = seededRandom(seed);
  const v = Float32Array.from({ length: rows * cols }, (_, i) => (rand() * 2 - 1) * (i % 13 === 0 ? 1e-5 : 1));
  if (format === 'f16') return roundedToHalf(v);
  if (format === 'bf16') {
    const bits = new Uint32Array(v.buffer);
    for (let i = 0; i < bits.length; i++) bits[i] &= 0xffff0000;
  }
  return v;
}

async function embed(r: GpuRuntime, E: Float32Array, ids: number[], accumulate: Float32Array | null, format: ElementFormat = 'f32') {
  const Em = r.matrix(VOCAB, COLS, 'test.E', format);
  r.upload(Em.buffer, 0, packedRows(E, COLS, Em.ld, format)!);
  const idBuf = r.storage(ids.length * 4, 'test.ids');
  r.upload(idBuf, 0, Uint32Array.from(ids));
  const out = r.matrix(ids.length, COLS, 'test.out');
  r.uploadMatrix(out, accumulate ?? new Float32Array(ids.length * COLS).fill(-7));
  const status = r.storage(FORWARD_STATUS_SLOTS * 4, 'test.status');
  const rec = r.recorder('test.embed');
  rec.clear(status);
  encodeEmbed(rec, Em, idBuf, out, accumulate !== null, r.bindingLimit, { buffer: status, slot: FORWARD_STATUS.embedRowOutOfRange });
  rec.finish();
  const values = await r.readMatrix(out);
  const flags = await r.readU32(status, 0, FORWARD_STATUS_SLOTS);
  r.release(Em, idBuf, out, status);
  return { values, flag: flags[FORWARD_STATUS.embedRowOutOfRange], others: flags.filter((_, i) => i !== FORWARD_STATUS.embedRowOutOfRange) };
}

describe('embedding gather', () => {
  const runtimes = [['one binding', () => rt], ['rows in windows', () => sliced]] as const;
  const cases = (['f32', 'f16', 'bf16'] as const).flatMap((format) => runtimes.map(([name, r]) => [format, name, r] as const));
  it.each(cases)('copies the rows of in-range ids exactly (%s E, %s), and adds them with accumulate', async (format, _, runtime) => {
    const r = runtime();
    const E = table(VOCAB, COLS, 1, format);
    const ids = [0, 69, 15, 16, 17, 31, 32, 48, 3, 69];
    const { values, flag } = await embed(r, E, ids, null, format);
    expect(flag).toBe(0);
    ids.forEach((id, t) => expect(values.subarray(t * COLS, (t + 1) * COLS)).toEqual(E.subarray(id * COLS, (id + 1) * COLS)));
    const base = table(ids.length, COLS, 2);
    const sum = await embed(r, E, ids, base, format);
    expect(sum.flag).toBe(0);
    for (let i = 0; i < base.length; i++) expect(sum.values[i]).toBe(Math.fround(base[i] + E[ids[Math.floor(i / COLS)] * COLS + (i % COLS)]));
  });

  it.each([['one binding', () => rt], ['rows in windows', () => sliced]])('raises the status word for an id ≥ vocab (%s) instead of skipping it', async (_, runtime) => {
    const r = runtime();
    const E = table(VOCAB, COLS, 3);
    for (const bad of [VOCAB, VOCAB + 1, 0xfffffffe]) {
      const { values, flag, others } = await embed(r, E, [5, bad, 6], null);
      expect(flag).toBe(1);
      expect(others.every((f) => f === 0)).toBe(true);
      expect(values.subarray(0, COLS)).toEqual(E.subarray(5 * COLS, 6 * COLS));
      expect(values.subarray(2 * COLS, 3 * COLS)).toEqual(E.subarray(6 * COLS, 7 * COLS));
    }
  });
});

/** −log softmax(z)[target] in f64. */
function nllReference(z: Float32Array, target: number): number {
  const m = Math.max(...z);
  let s = 0;
  for (const v of z) s += Math.exp(v - m);
  return m + Math.log(s) - z[target];
}

async function nll(logits: Float32Array, rows: number, targets: number[]) {
  const L = rt.matrix(rows, VOCAB, 'test.logits');
  rt.uploadMatrix(L, logits);
  const tBuf = rt.storage(rows * 4, 'test.targets');
  rt.upload(tBuf, 0, Uint32Array.from(targets));
  const nllBuf = rt.storage(rows * 4, 'test.nll');
  const argmaxBuf = rt.storage(rows * 4, 'test.argmax');
  const status = rt.storage(FORWARD_STATUS_SLOTS * 4, 'test.status');
  const state = rt.storage(16, 'test.state');
  const rec = rt.recorder('test.nll');
  rec.clear(status);
  // Whole vocabulary rows: one chunk spans the vocabulary.
  encodeNll(rec, L, { targets: tBuf, nll: nllBuf, argmax: argmaxBuf, state, status: { buffer: status, slot: FORWARD_STATUS.targetOutOfRange } }, 0);
  rec.finish();
  const out = {
    nll: await rt.readF32(nllBuf, 0, rows),
    argmax: await rt.readU32(argmaxBuf, 0, rows),
    flags: await rt.readU32(status, 0, FORWARD_STATUS_SLOTS),
  };
  rt.release(L, tBuf, nllBuf, argmaxBuf, status, state);
  return out;
}

describe('NLL and argmax', () => {
  const rows = 6;
  const logits = table(rows, VOCAB, 4).map((v) => 4 * v);

  it('matches the f64 log-softmax, scores nothing for NO_TARGET, and gives the argmax', async () => {
    const targets = [0, 69, 12, NO_TARGET, 40, 7];
    const out = await nll(logits, rows, targets);
    expect(Array.from(out.flags)).toEqual([0, 0, 0, 0]);
    targets.forEach((t, r) => {
      const z = logits.subarray(r * VOCAB, (r + 1) * VOCAB);
      expect(out.argmax[r]).toBe(z.indexOf(Math.max(...z)));
      if (t === NO_TARGET) expect(out.nll[r]).toBe(0);
      else expect(Math.abs(out.nll[r] - nllReference(z, t))).toBeLessThan(1e-5);
    });
  });

  it('raises the status word for a target ≥ vocab and gives it NaN, never 0', async () => {
    const out = await nll(logits, rows, [3, VOCAB, 4, NO_TARGET, VOCAB + 100, 5]);
    expect(out.flags[FORWARD_STATUS.targetOutOfRange]).toBe(1);
    expect(out.flags[FORWARD_STATUS.embedRowOutOfRange]).toBe(0);
    expect(out.nll[1]).toBeNaN();
    expect(out.nll[4]).toBeNaN();
    expect(out.nll[3]).toBe(0);
    expect(Math.abs(out.nll[0] - nllReference(logits.subarray(0, VOCAB), 3))).toBeLessThan(1e-5);
  });
});
