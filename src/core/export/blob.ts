/**
 * One export file as a Blob, streamed: chunks are gathered and folded into the growing Blob every
 * 16 MiB (as the zip does), so the browser holds one copy of the file, not the chunks and the Blob.
 */
import type { ExportFile } from './safetensors-writer';

const FOLD_BYTES = 16 * 2 ** 20;

/** Throws when the stream does not give exactly file.size bytes. */
export async function fileBlob(file: ExportFile): Promise<Blob> {
  let blob = new Blob([]);
  let parts: Uint8Array<ArrayBuffer>[] = [];
  let pending = 0;
  let total = 0;
  for await (const chunk of file.chunks()) {
    parts.push(chunk as Uint8Array<ArrayBuffer>);
    pending += chunk.length;
    total += chunk.length;
    if (pending >= FOLD_BYTES) {
      blob = new Blob([blob, ...parts]);
      parts = [];
      pending = 0;
    }
  }
  blob = new Blob([blob, ...parts]);
  if (total !== file.size) throw new Error(`${file.name}: ${total} bytes produced, ${file.size} expected`);
  return blob;
}
