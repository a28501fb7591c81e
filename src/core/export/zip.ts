/**
 * The export as one zip (no compression: packed weights do not shrink), streamed file by file with
 * fflate into a Blob built piecewise, so the model is not held twice in memory.
 */
import { Zip, ZipPassThrough } from 'fflate';
import type { ExportFile } from './safetensors-writer';

/** Bytes gathered before they are folded into the growing Blob. */
const FOLD_BYTES = 16 * 2 ** 20;

export async function zipFiles(files: ExportFile[], folder: string, onFile?: (name: string) => void): Promise<Blob> {
  let blob = new Blob([]);
  let parts: Uint8Array<ArrayBuffer>[] = [];
  let pending = 0;
  let failure: Error | null = null;
  let finished = false;
  const zip = new Zip((err, chunk, final) => {
    if (err) {
      failure = err;
      return;
    }
    parts.push(chunk as Uint8Array<ArrayBuffer>);
    pending += chunk.length;
    if (pending >= FOLD_BYTES || final) {
      blob = new Blob([blob, ...parts]);
      parts = [];
      pending = 0;
    }
    if (final) finished = true;
  });
  for (const file of files) {
    onFile?.(file.name);
    const entry = new ZipPassThrough(`${folder}/${file.name}`);
    zip.add(entry);
    for await (const chunk of file.chunks()) {
      entry.push(chunk);
      if (failure) throw failure;
    }
    entry.push(new Uint8Array(0), true);
  }
  zip.end();
  if (failure) throw failure;
  if (!finished) throw new Error('the zip stream did not finish');
  return blob;
}
