/**
 * Writes an export's files into a folder so that a failed write leaves nothing half-written: the
 * files go into a temporary folder first, then into place.
 */
import { mkdir, open, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
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

/** Whether `path` is a folder that exists. */
async function isFolder(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isDirectory(), () => false);
}

/**
 * Writes `files` into `out`, which must be absent or an empty folder.
 * - `out` absent: into a temporary folder beside it, renamed to `out` at the end.
 * - `out` an empty folder: into a temporary folder inside it, whose files are then moved up one
 *   by one. `out` itself is never removed or replaced, so that a mount point (a container's
 *   volume) or the folder the user is in (`--out .`) stays as it is.
 * On any failure the temporary folder is removed and `out` is left as it was. Throws when `out`
 * holds anything else by the time the files are moved.
 */
export async function writeAtomically(out: string, files: ExportFile[]): Promise<void> {
  const inside = await isFolder(out);
  const tmp = inside ? join(out, `.partial-${process.pid}`) : join(dirname(out), `.${basename(out)}.partial-${process.pid}`);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  try {
    for (const file of files) await writeFileStreamed(join(tmp, file.name), file);
    if (inside) {
      const others = (await readdir(out)).filter((name) => name !== basename(tmp));
      if (others.length > 0) throw new Error(`${out} is no longer empty (${others.slice(0, 3).join(', ')}): nothing was written there`);
      for (const file of files) await rename(join(tmp, file.name), join(out, file.name));
      await rmdir(tmp);
    } else {
      await rename(tmp, out);
    }
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}
