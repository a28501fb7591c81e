/**
 * Random access to a file's bytes: a checkpoint is read tensor by tensor by byte range, never whole.
 * In the page and the worker a source wraps a File (blobSource); in node, src/testing/node-source.ts
 * wraps a file handle.
 */

export interface ByteSource {
  /** The file's name without folders, e.g. "model.safetensors". */
  name: string;
  /** Size in bytes. */
  size: number;
  /** Exactly `length` bytes starting at `offset`; rejects a range outside the file. */
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** The base name of a path: a dropped folder's files may carry "folder/config.json". */
export function baseName(path: string): string {
  const cut = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return cut < 0 ? path : path.slice(cut + 1);
}

export function checkRange(source: { name: string; size: number }, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new RangeError(`${source.name}: bad byte range (offset ${offset}, length ${length})`);
  }
  if (offset + length > source.size) {
    throw new RangeError(
      `${source.name}: bytes ${offset}..${offset + length} are past the end of the file (${source.size} bytes)`,
    );
  }
}

/** A ByteSource over a Blob (a browser File, or node 20's Blob/File). */
export function blobSource(file: Blob & { name: string }): ByteSource {
  const source: ByteSource = {
    name: baseName(file.name),
    size: file.size,
    async read(offset, length) {
      checkRange(source, offset, length);
      const bytes = new Uint8Array(await file.slice(offset, offset + length).arrayBuffer());
      if (bytes.length !== length) {
        throw new RangeError(`${file.name}: asked for ${length} bytes at ${offset}, got ${bytes.length}`);
      }
      return bytes;
    },
  };
  return source;
}

/** A ByteSource over bytes already in memory (tests, small generated files). */
export function memorySource(name: string, bytes: Uint8Array): ByteSource {
  const source: ByteSource = {
    name,
    size: bytes.length,
    async read(offset, length) {
      checkRange(source, offset, length);
      return bytes.slice(offset, offset + length);
    },
  };
  return source;
}

/** A whole small file as UTF-8 text (config.json, tokenizer.json); refuses files over maxBytes. */
export async function readText(source: ByteSource, maxBytes = 256 * 1024 * 1024): Promise<string> {
  if (source.size > maxBytes) {
    throw new RangeError(`${source.name} is ${source.size} bytes, more than the ${maxBytes} bytes expected of it`);
  }
  const bytes = await source.read(0, source.size);
  return new TextDecoder('utf-8').decode(bytes);
}
