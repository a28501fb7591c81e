/** Node-only ByteSources: a checkpoint file read by range through a file handle, and whole folders. */
import { open, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { checkRange, type ByteSource } from '../core/model/byte-source';

/** A ByteSource on a file; each read opens, reads the range and closes (no handle left open). */
export async function fileSource(path: string): Promise<ByteSource> {
  const { size } = await stat(path);
  const source: ByteSource = {
    name: basename(path),
    size,
    async read(offset, length) {
      checkRange(source, offset, length);
      const bytes = new Uint8Array(length);
      const handle = await open(path, 'r');
      try {
        let done = 0;
        while (done < length) {
          const { bytesRead } = await handle.read(bytes, done, length - done, offset + done);
          if (bytesRead === 0) throw new RangeError(`${path}: file ended at ${offset + done} while reading`);
          done += bytesRead;
        }
      } finally {
        await handle.close();
      }
      return bytes;
    },
  };
  return source;
}

/** Every regular file directly in dir (not recursive), as ByteSources. */
export async function folderSources(dir: string): Promise<ByteSource[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const files = entries.filter((e) => e.isFile()).map((e) => e.name).sort();
  return Promise.all(files.map((f) => fileSource(join(dir, f))));
}
