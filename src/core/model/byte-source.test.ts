import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { baseName, blobSource, memorySource, readText } from './byte-source';
import { fileSource, folderSources } from '../../testing/node-source';

const bytes = Uint8Array.from({ length: 100 }, (_, i) => i);

describe('ByteSources read by range', () => {
  it('blob, memory and node file sources agree and refuse ranges past the end', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'byte-source-'));
    try {
      writeFileSync(join(dir, 'a.bin'), bytes);
      writeFileSync(join(dir, 'b.json'), '{"x": "é"}');
      const sources = [
        blobSource(Object.assign(new Blob([bytes]), { name: 'dir/a.bin' })),
        memorySource('a.bin', bytes),
        await fileSource(join(dir, 'a.bin')),
      ];
      for (const s of sources) {
        expect(s.name).toBe('a.bin');
        expect(s.size).toBe(100);
        expect(Array.from(await s.read(97, 3))).toEqual([97, 98, 99]);
        expect((await s.read(10, 0)).length).toBe(0);
        await expect(s.read(98, 3)).rejects.toThrow(/past the end of the file \(100 bytes\)/);
        await expect(s.read(-1, 1)).rejects.toThrow(/bad byte range/);
      }
      const folder = await folderSources(dir);
      expect(folder.map((s) => s.name)).toEqual(['a.bin', 'b.json']);
      expect(await readText(folder[1])).toBe('{"x": "é"}');
      await expect(readText(folder[0], 10)).rejects.toThrow(/more than the 10 bytes/);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('baseName strips folders', () => {
    expect(baseName('a/b/config.json')).toBe('config.json');
    expect(baseName('c:\\m\\x.safetensors')).toBe('x.safetensors');
    expect(baseName('plain')).toBe('plain');
  });
});
