/** Free disk space where the export is to be written. */
import { statfs } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/**
 * Bytes an unprivileged writer may still write on the file system that holds `path` (that of its
 * nearest existing ancestor when it does not exist yet), or null when the system cannot say.
 */
export async function freeBytes(path: string): Promise<number | null> {
  let at = resolve(path);
  for (;;) {
    try {
      const s = await statfs(at);
      return s.bavail * s.bsize;
    } catch (e) {
      const up = dirname(at);
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || up === at) return null;
      at = up;
    }
  }
}

/** Whether `e` says the disk (or the user's quota) is full. */
export function isDiskFull(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/** A size in the unit that keeps it readable, rounded up: "266 KiB", "420 MiB", "1.3 GiB". */
export function sizeText(bytes: number): string {
  if (bytes < 2 ** 20) return `${Math.ceil(bytes / 2 ** 10)} KiB`;
  if (bytes < 2 ** 30) return `${Math.ceil(bytes / 2 ** 20)} MiB`;
  return `${(Math.ceil(bytes / 2 ** 30 * 10) / 10).toFixed(1)} GiB`;
}
