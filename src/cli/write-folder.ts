/**
 * Writes an export's files into a folder so that a failed write leaves nothing half-written: the
 * files go into a temporary folder first, then into place.
 */
import { mkdir, open, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { ExportFile } from '../core/export/safetensors-writer';
import { freeBytes, isDiskFull, sizeText } from './free-space';

/** The writing was stopped (a second Ctrl-C while writing): what was written was removed. */
export class WriteCancelledError extends Error {
  override name = 'WriteCancelledError';
}

function throwIfStopped(signal?: AbortSignal): void {
  if (signal?.aborted) throw new WriteCancelledError('the writing was stopped');
}

async function writeFileStreamed(path: string, file: ExportFile, signal?: AbortSignal): Promise<void> {
  const handle = await open(path, 'w');
  try {
    let written = 0;
    for await (const chunk of file.chunks()) {
      throwIfStopped(signal);
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
 * holds anything else by the time the files are moved, and WriteCancelledError when `signal`
 * aborts before then (it is checked before each chunk; once the files are complete they are moved
 * into place whatever it does, so that `out` never holds part of them).
 */
export async function writeAtomically(out: string, files: ExportFile[], signal?: AbortSignal): Promise<void> {
  const inside = await isFolder(out);
  const tmp = inside ? join(out, `.partial-${process.pid}`) : join(dirname(out), `.${basename(out)}.partial-${process.pid}`);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  try {
    for (const file of files) await writeFileStreamed(join(tmp, file.name), file, signal);
    throwIfStopped(signal);
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

/** Bytes counted for a late file before it is made: report.json is tens to hundreds of KiB. */
export const LATE_FILE_ALLOWANCE = 4 << 20;

/** The files did not fit where they were to be written, and the user gave up (or could not be asked). */
export class DiskFullError extends Error {}

/** How writeExport learns the free space and asks the user what to do when the files do not fit. */
export interface DiskFullHooks {
  /** Free bytes where `out` is written (default freeBytes). */
  free?: (out: string) => Promise<number | null>;
  /**
   * Hears that the files do not fit (`message` says what they need and what is free); resolves
   * true to try again once space was freed, a folder to write them there instead, false to give
   * up. Absent: give up at once.
   */
  onFull?: (message: string) => Promise<boolean | string>;
  /** Stops the writing (writeAtomically's signal): WriteCancelledError, nothing left behind. */
  signal?: AbortSignal;
}

/**
 * writeAtomically, when the files fit: before writing, the free space where they go is checked
 * against their sizes; a disk that is short, or that fills up while they are written (ENOSPC,
 * EDQUOT: nothing is left behind then), is reported through `hooks.onFull`, which may have the user
 * free space, or name another folder, and try again, so that a finished run is not lost to a full
 * disk. Returns the folder written. Throws DiskFullError when the user gives up (saying what was
 * needed), WriteCancelledError when `hooks.signal` aborts, and whatever else writeAtomically throws.
 */
export async function writeExport(out: string, files: ExportFile[], hooks: DiskFullHooks = {}): Promise<string> {
  // A late file (report.json) is counted at an allowance, not sized: sizing it would make it now,
  // before the files it reports on are written.
  const need = files.reduce((s, f) => s + (f.late ? LATE_FILE_ALLOWANCE : f.size), 0);
  const free = hooks.free ?? freeBytes;
  let target = out;
  for (;;) {
    const available = await free(target);
    let message: string;
    if (available !== null && available < need) {
      message = `the disk that holds ${target} has ${sizeText(available)} free and the files need ${sizeText(need)}, ` +
        `${sizeText(need - available)} more; nothing was written`;
    } else {
      try {
        await writeAtomically(target, files, hooks.signal);
        return target;
      } catch (e) {
        if (!isDiskFull(e)) throw e;
        const now = await free(target);
        message = now !== null && now >= need
          ? `the file system that holds ${target} refused the files (${(e as NodeJS.ErrnoException).code}), though ${sizeText(now)} are free ` +
            `and they need ${sizeText(need)}: it may be out of inodes or over a quota; nothing was left there`
          : `the disk that holds ${target} filled up while the files (${sizeText(need)}) were written` +
            `${now === null ? '' : `, ${sizeText(now)} free now`}; nothing was left there`;
      }
    }
    const answer = hooks.onFull ? await hooks.onFull(message) : false;
    if (answer === false) throw new DiskFullError(`${message}. Free space there or give another --out, and run again`);
    if (typeof answer === 'string') target = answer;
  }
}
