import { useEffect, useRef, useState } from 'react';

function fileOf(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

function readBatch(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  return new Promise((resolve, reject) => reader.readEntries(resolve, reject));
}

/** Every file under an entry (a directory reader hands its entries out in batches until an empty one). */
async function filesOfEntry(entry: FileSystemEntry): Promise<File[]> {
  if (entry.isFile) return [await fileOf(entry as FileSystemFileEntry)];
  if (!entry.isDirectory) return [];
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  const out: File[] = [];
  for (let batch = await readBatch(reader); batch.length > 0; batch = await readBatch(reader)) {
    for (const child of batch) out.push(...(await filesOfEntry(child)));
  }
  return out;
}

/** The files of a drop, and the folder's name when a single folder was dropped. */
async function droppedFiles(dt: DataTransfer): Promise<{ files: File[]; name?: string }> {
  // Entries must be taken during the event; the traversal may finish later.
  const entries = Array.from(dt.items ?? [])
    .filter((item) => item.kind === 'file')
    .map((item) => item.webkitGetAsEntry?.() ?? null)
    .filter((e): e is FileSystemEntry => e !== null);
  const loose = Array.from(dt.files ?? []);
  if (entries.length === 0) return { files: loose };
  let files: File[];
  try {
    files = (await Promise.all(entries.map(filesOfEntry))).flat();
  } catch {
    return { files: loose }; // an unreadable folder: keep whatever came as plain files
  }
  const folders = entries.filter((e) => e.isDirectory);
  return { files, name: entries.length === 1 && folders.length === 1 ? folders[0].name : undefined };
}

const hasFiles = (e: DragEvent) => Array.from(e.dataTransfer?.types ?? []).includes('Files');

/**
 * Lets a checkpoint folder or its files be dropped anywhere on the page; calls `onFiles` with
 * them (and the folder's name) when `enabled`. Returns whether files are being dragged over the page.
 * Drops are always taken from the browser, so a missed one never navigates away to the file.
 */
export function useWindowDrop(enabled: boolean, onFiles: (files: File[], name?: string) => void): boolean {
  const [dragging, setDragging] = useState(false);
  const latest = useRef({ enabled, onFiles });
  useEffect(() => {
    latest.current = { enabled, onFiles };
  });

  useEffect(() => {
    const over = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      if (e.dataTransfer) e.dataTransfer.dropEffect = latest.current.enabled ? 'copy' : 'none';
      setDragging(latest.current.enabled);
    };
    const leave = (e: DragEvent) => {
      if (e.relatedTarget === null) setDragging(false);
    };
    const drop = (e: DragEvent) => {
      if (!hasFiles(e) || !e.dataTransfer) return;
      e.preventDefault();
      setDragging(false);
      if (!latest.current.enabled) return;
      void droppedFiles(e.dataTransfer).then(({ files, name }) => {
        if (files.length > 0) latest.current.onFiles(files, name);
      });
    };
    window.addEventListener('dragenter', over);
    window.addEventListener('dragover', over);
    window.addEventListener('dragleave', leave);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('dragenter', over);
      window.removeEventListener('dragover', over);
      window.removeEventListener('dragleave', leave);
      window.removeEventListener('drop', drop);
    };
  }, []);

  return dragging;
}
