/** Writes an export's files into a folder atomically: a temporary folder beside it, renamed at the end. */
import { mkdir, open, rename, rm, rmdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { ExportFile } from '../core/export/safetensors-writer';

async function writeFileStreamed(path: string, file: ExportFile): Promise<void> {
  const handle = await open(path, 'w');
  try {
    let written = 0;
    for await (const chunk of file.chunks()) {
      await handle.write(chunk);
      written += chunk.length;
    }
    if (written !== file.size) throw new Error(`${file.name}: wrote ${written} bytes, expected ${file.size}`);
  } finally {
    await handle.close();
  }
}

/**
 * Writes `files` into a temporary folder beside `out`, then renames it to `out` (which must be
 * absent or an empty folder). On any failure the temporary folder is removed and `out` untouched.
 */
export async function writeAtomically(out: string, files: ExportFile[]): Promise<void> {
  const tmp = join(dirname(out), `.${basename(out)}.partial-${process.pid}`);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  try {
    for (const file of files) await writeFileStreamed(join(tmp, file.name), file);
    await rmdir(out).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e; // a non-empty `out` is never replaced
    });
    await rename(tmp, out);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

