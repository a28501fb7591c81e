/**
 * Writing an export where the disk is short or fills up: the user is told what the files need and
 * what is free, may free space and write again, and nothing half-written is left behind.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lateTextFile, textFile, type ExportFile } from '../core/export/safetensors-writer';
import { DiskFullError, LATE_FILE_ALLOWANCE, writeExport, WriteCancelledError } from './write-folder';
import { Interrupts } from './interrupts';
import { freeBytes, isDiskFull, sizeText } from './free-space';

const files = (): ExportFile[] => [textFile('a.txt', 'first'), textFile('b.txt', 'second')];

/** A file whose writing fails with ENOSPC the first `failures` times. */
function fillingFile(failures: number): ExportFile {
  let left = failures;
  return {
    name: 'big.bin',
    size: 3,
    async *chunks() {
      yield Uint8Array.of(1);
      if (left-- > 0) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
      yield Uint8Array.of(2, 3);
    },
  };
}

describe('writeExport on a full disk', () => {
  it('says what the files need and what is free, and writes once space was freed', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'gptq-full-')), 'out');
    const free = [5];
    const messages: string[] = [];
    await writeExport(out, files(), {
      free: async () => free.shift() ?? 2 ** 30,
      onFull: async (m) => (messages.push(m), true),
    });
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/the disk that holds .*out has 1 KiB free and the files need 1 KiB, 1 KiB more; nothing was written$/);
    expect(readdirSync(out).sort()).toEqual(['a.txt', 'b.txt']);
    expect(readFileSync(join(out, 'b.txt'), 'utf8')).toBe('second');
  });

  it('a disk that fills while writing leaves nothing behind, and the files are written again', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'gptq-full-'));
    const out = join(parent, 'out');
    let asked = 0;
    await writeExport(out, [...files(), fillingFile(1)], {
      free: async () => null,
      onFull: async () => {
        asked++;
        // Nothing half-written is left while the user frees space.
        expect(readdirSync(parent)).toEqual([]);
        return true;
      },
    });
    expect(asked).toBe(1);
    expect(readdirSync(out).sort()).toEqual(['a.txt', 'b.txt', 'big.bin']);
    expect(Array.from(readFileSync(join(out, 'big.bin')))).toEqual([1, 2, 3]);
  });

  it('writes into another folder the user names instead', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'gptq-full-'));
    const other = join(parent, 'elsewhere');
    const written = await writeExport(join(parent, 'out'), files(), {
      free: async (at) => (at.endsWith('out') ? 1 : null),
      onFull: async () => other,
    });
    expect(written).toBe(other);
    expect(readdirSync(parent)).toEqual(['elsewhere']);
    expect(readdirSync(other).sort()).toEqual(['a.txt', 'b.txt']);
  });

  it('gives up with what to do when the user does, or when nobody can be asked; --out stays as it was', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'gptq-full-'));
    const out = join(parent, 'out');
    await expect(writeExport(out, [fillingFile(5)], { free: async () => null, onFull: async () => false }))
      .rejects.toThrow(/the disk that holds .*out filled up while the files \(1 KiB\) were written; nothing was left there\. Free space there or give another --out, and run again/);
    await expect(writeExport(out, files(), { free: async () => 1 })).rejects.toThrow(DiskFullError);
    // ENOSPC with space to spare: the file system is out of inodes or over a quota.
    await expect(writeExport(out, [fillingFile(1)], { free: async () => 2 ** 30 }))
      .rejects.toThrow(/refused the files \(ENOSPC\), though 1.0 GiB are free and they need 1 KiB: it may be out of inodes or over a quota/);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(parent)).toEqual([]);
    // Any other failure is not a full disk: it is thrown as it is.
    const broken: ExportFile = { name: 'x', size: 1, async *chunks() { throw new Error('read failed'); } };
    await expect(writeExport(out, [broken], { free: async () => null, onFull: async () => true })).rejects.toThrow('read failed');
  });

  it('makes a late file (report.json) after the files before it are written, counting it at an allowance', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'gptq-full-'));
    const out = join(parent, 'out');
    let seen: string[] | null = null;
    const report = lateTextFile('report.json', () => {
      // What is on disk when the report is made: the other files, in the temporary folder.
      seen = readdirSync(parent, { recursive: true }).map(String).filter((f) => f.endsWith('.txt')).map((f) => f.split('/').pop()!).sort();
      return '{}';
    });
    const needs: string[] = [];
    await writeExport(out, [...files(), report], {
      // Exactly the allowance free, short by the other files' bytes: the late file is not sized to answer.
      free: async () => (needs.length === 0 ? LATE_FILE_ALLOWANCE : 2 ** 40),
      onFull: async (m) => (needs.push(m), true),
    });
    expect(needs[0]).toMatch(/has 4 MiB free and the files need 5 MiB, 1 KiB more/); // sizes rounded up
    expect(seen).toEqual(['a.txt', 'b.txt']);
    expect(readdirSync(out).sort()).toEqual(['a.txt', 'b.txt', 'report.json']);
  });

  it('measures the free space of the nearest folder that exists', async () => {
    const free = await freeBytes(join(tmpdir(), 'no', 'such', 'folder'));
    expect(free).not.toBeNull();
    expect(free!).toBeGreaterThan(0);
    expect(isDiskFull(Object.assign(new Error(), { code: 'EDQUOT' }))).toBe(true);
    expect(isDiskFull(Object.assign(new Error(), { code: 'EACCES' }))).toBe(false);
    expect([1, 2 ** 20 - 1, 2 ** 20, 420 * 2 ** 20 + 1, 1.25 * 2 ** 30].map(sizeText)).toEqual(['1 KiB', '1024 KiB', '1 MiB', '421 MiB', '1.3 GiB']);
  });
});

describe('stopping the writing (a second Ctrl-C while the files are written)', () => {
  /** A file of three chunks whose writing, after the first, presses Ctrl-C `presses` times on `i`. */
  const pressing = (i: Interrupts, presses: number): ExportFile => ({
    name: 'model.safetensors',
    size: 3,
    async *chunks() {
      yield Uint8Array.of(1);
      for (let p = 0; p < presses; p++) i.press();
      yield Uint8Array.of(2);
      yield Uint8Array.of(3);
    },
  });

  it('leaves neither a new --out nor a temporary folder beside it', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'gptq-stop-'));
    const out = join(parent, 'out');
    const i = new Interrupts(out);
    i.enter('writing');
    await expect(writeExport(out, [...files(), pressing(i, 2)], { free: async () => null, signal: i.write.signal })).rejects.toThrow(WriteCancelledError);
    expect(readdirSync(parent)).toEqual([]);
  });

  it('leaves an empty --out empty', async () => {
    const out = mkdtempSync(join(tmpdir(), 'gptq-stop-'));
    const i = new Interrupts(out);
    i.enter('writing');
    await expect(writeExport(out, [pressing(i, 2), ...files()], { free: async () => null, signal: i.write.signal })).rejects.toThrow(WriteCancelledError);
    expect(readdirSync(out)).toEqual([]);
  });

  it('one press while writing only says how to stop: the files are written', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'gptq-stop-'));
    mkdirSync(join(parent, 'out'));
    const out = join(parent, 'out');
    const i = new Interrupts(out);
    // The run's cancel (one press during the evaluation) does not count towards stopping the writing.
    i.enter('evaluation');
    expect(i.press()).toEqual({ line: expect.stringMatching(/^Ctrl-C: stopping the evaluation; the quantized model will be written to .*out/), exitNow: false });
    expect(i.run.signal.aborted).toBe(true);
    i.enter('writing');
    await writeExport(out, [...files(), pressing(i, 1)], { free: async () => null, signal: i.write.signal });
    expect(readdirSync(out).sort()).toEqual(['a.txt', 'b.txt', 'model.safetensors']);
    expect(i.write.signal.aborted).toBe(false);
    expect(i.cancelledIn).toBe('evaluation');
  });
});

describe('Ctrl-C by phase', () => {
  it('quantization: cancels the run, writing nothing; a second press quits at once', () => {
    const i = new Interrupts('/o');
    expect(i.press()).toEqual({ line: 'Ctrl-C: stopping the quantization; nothing will be written to /o (Ctrl-C again quits at once)', exitNow: false });
    expect([i.run.signal.aborted, i.cancelledIn]).toEqual([true, 'quantization']);
    expect(i.press()).toEqual({ line: 'Ctrl-C again: quitting at once; nothing was written to /o', exitNow: true });
  });

  it('evaluation: stops it, the model to be written; a second press before the writing quits at once', () => {
    const i = new Interrupts('/o');
    i.enter('evaluation');
    expect(i.press().exitNow).toBe(false);
    expect([i.run.signal.aborted, i.cancelledIn]).toEqual([true, 'evaluation']);
    expect(i.press()).toEqual({ line: 'Ctrl-C again: quitting at once; nothing was written to /o', exitNow: true });
  });

  it('writing: the first press says what a second does, the second stops the writing; the run is not cancelled', () => {
    const i = new Interrupts('/o');
    i.enter('evaluation');
    i.enter('writing');
    expect(i.press()).toEqual({ line: 'Ctrl-C: the files are being written to /o; press Ctrl-C again to stop the writing (nothing will be left there)', exitNow: false });
    expect(i.write.signal.aborted).toBe(false);
    expect(i.press()).toEqual({ line: 'Ctrl-C again: stopping the writing', exitNow: false });
    expect([i.write.signal.aborted, i.run.signal.aborted, i.cancelledIn]).toEqual([true, false, null]);
  });
});
