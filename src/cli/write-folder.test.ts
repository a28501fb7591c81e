/**
 * Writing an export where the disk is short or fills up: the user is told what the files need and
 * what is free, may free space and write again, and nothing half-written is left behind.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { textFile, type ExportFile } from '../core/export/safetensors-writer';
import { writeExport } from './write-folder';
import { freeBytes, isDiskFull } from './free-space';

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
    const free = [5, 2 ** 30];
    const messages: string[] = [];
    await writeExport(out, files(), {
      free: async () => free.shift() ?? 2 ** 30,
      onFull: async (m) => (messages.push(m), true),
    });
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/the disk that holds .*out is full: the files need 1 MiB, and 1024 MiB are free there; nothing was written/);
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

  it('gives up with what to do when the user does, or when nobody can be asked; --out stays as it was', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'gptq-full-'));
    const out = join(parent, 'out');
    await expect(writeExport(out, [fillingFile(5)], { free: async () => null, onFull: async () => false }))
      .rejects.toThrow(/is full: the files need 1 MiB; nothing was written\. Free at least that much space there, or give another --out/);
    await expect(writeExport(out, files(), { free: async () => 1 })).rejects.toThrow(/and 1 MiB are free there/);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(parent)).toEqual([]);
    // Any other failure is not a full disk: it is thrown as it is.
    const broken: ExportFile = { name: 'x', size: 1, async *chunks() { throw new Error('read failed'); } };
    await expect(writeExport(out, [broken], { free: async () => null, onFull: async () => true })).rejects.toThrow('read failed');
  });

  it('measures the free space of the nearest folder that exists', async () => {
    const free = await freeBytes(join(tmpdir(), 'no', 'such', 'folder'));
    expect(free).not.toBeNull();
    expect(free!).toBeGreaterThan(0);
    expect(isDiskFull(Object.assign(new Error(), { code: 'EDQUOT' }))).toBe(true);
    expect(isDiskFull(Object.assign(new Error(), { code: 'EACCES' }))).toBe(false);
  });
});
