/** The bytes of export files (src/core/export/safetensors-writer.ts ExportFile), for tests. */
import type { ExportFile } from '../core/export/safetensors-writer';

/** All of `f`'s chunks in one array. Throws when their length is not the size `f` announced. */
export async function fileBytes(f: ExportFile): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of f.chunks()) parts.push(c.slice());
  const bytes = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  if (bytes.length !== f.size) throw new Error(`${f.name}: ${bytes.length} bytes written, ${f.size} announced`);
  return bytes;
}

/** Each file's bytes by name (fileBytes). */
export async function collectFiles(files: ExportFile[]): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for (const f of files) out.set(f.name, await fileBytes(f));
  return out;
}
