/**
 * Fetches a checkpoint from the Hugging Face Hub by repo id: config.json (checked first, so an
 * unsupported model is refused before the weights), model.safetensors or the shards its index names,
 * tokenizer.json, and tokenizer_config.json / generation_config.json when the repo has them. Every
 * file comes down in Range-request chunks from `{baseUrl}/{repo}/resolve/{revision}/{file}`.
 */
import { baseName } from './byte-source';
import { INDEX_FILE } from './checkpoint';
import { parseModelConfig } from './config';
import { CheckpointError } from './checkpoint-error';
import { fetchRange, fetchSize, HttpError, type HttpOptions } from './http-source';

export const HUB_BASE_URL = 'https://huggingface.co';
export const DEFAULT_CHUNK_BYTES = 8 * 1024 * 1024;

/** checking: config.json, the index and every file's size; downloading: the files, chunk by chunk. */
export type HubPhase = 'checking' | 'downloading' | 'done';

export interface HubProgress {
  phase: HubPhase;
  /** The repo path being checked or downloaded; null once done. */
  file: string | null;
  fileBytesDone: number;
  /** 0 while the file's size is not known yet. */
  fileBytesTotal: number;
  /** Over all files; both stay 0 until every size is known (end of 'checking'). */
  bytesDone: number;
  bytesTotal: number;
  filesDone: number;
  /** 0 until the file list is known. */
  fileCount: number;
}

export interface HubFetchOptions {
  /** Default 'https://huggingface.co'; tests point it at src/testing/hub-server.ts. */
  baseUrl?: string;
  /** Branch, tag or commit; default 'main'. */
  revision?: string;
  fetch?: typeof fetch;
  signal?: AbortSignal;
  onProgress?: (p: HubProgress) => void;
  /** Bytes per Range request; default 8 MiB. */
  chunkBytes?: number;
  /** Retries per chunk after a network error, a 5xx/429 or a short body; default 2. */
  retries?: number;
}

/** A repo or file that cannot be fetched; the message names the repo and says what to do. */
export class HubError extends Error {
  readonly repo: string;
  readonly file?: string;
  /** The HTTP status when a request failed on one. */
  readonly status?: number;

  constructor(message: string, where: { repo: string; file?: string; status?: number; cause?: unknown }) {
    super(message, { cause: where.cause });
    this.name = 'HubError';
    this.repo = where.repo;
    this.file = where.file;
    this.status = where.status;
  }
}

const PART = /^[A-Za-z0-9_](?:[\w.-]*[A-Za-z0-9_])?$/;

/**
 * A repo id as typed or pasted: trims it and accepts a huggingface.co link
 * ("https://huggingface.co/owner/name/tree/main" → "owner/name"). Throws a HubError unless it is
 * owner/name with the Hub's characters (letters, digits, "-", "_", "."; no "--" or ".."; ≤ 96).
 */
export function parseRepoId(input: string): string {
  let id = input.trim();
  const link = id.match(/^(?:https?:\/\/)?(?:www\.)?(?:huggingface\.co|hf\.co)\/(.*)$/i);
  if (link) id = link[1].split(/[?#]/)[0].split('/').slice(0, 2).join('/');
  const parts = id.split('/');
  const ok = parts.length === 2 && parts.every((p) => PART.test(p)) && !/--|\.\./.test(id) &&
    !id.endsWith('.git') && id.length <= 96;
  if (!ok) {
    throw new HubError(`${JSON.stringify(input)} is not a Hugging Face repo id: write owner/name, e.g. ` +
      '"openai-community/gpt2" (letters, digits, "-", "_" and "."; each part starts and ends with a letter or ' +
      'digit; no "--" or ".."; at most 96 characters)', { repo: input });
  }
  return id;
}

/** The download URL of a file in a repo: `${baseUrl}/${repo}/resolve/${revision}/${file}`. */
export function hubFileUrl(baseUrl: string, repo: string, revision: string, file: string): string {
  const path = file.split('/').map(encodeURIComponent).join('/');
  return `${baseUrl.replace(/\/+$/, '')}/${repo}/resolve/${encodeURIComponent(revision)}/${path}`;
}

/** The checkpoint's files, downloaded, named by their base names (ready for blobSource/openCheckpoint). */
export async function fetchHubCheckpoint(repo: string, options: HubFetchOptions = {}): Promise<File[]> {
  const id = parseRepoId(repo);
  const { baseUrl = HUB_BASE_URL, revision = 'main', signal, onProgress, retries = 2 } = options;
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes < 1) {
    throw new RangeError(`chunkBytes must be a positive integer, got ${chunkBytes}`);
  }
  if (revision.trim() === '') {
    throw new HubError(`${id}: the revision is empty; use a branch, tag or commit, e.g. "main"`, { repo: id });
  }
  const http: HttpOptions = { fetch: options.fetch, signal };
  const url = (file: string) => hubFileUrl(baseUrl, id, revision, file);
  const fail = (file: string, e: unknown): never => { throw hubError(id, file, url(file), e); };

  const state: HubProgress = {
    phase: 'checking', file: null, fileBytesDone: 0, fileBytesTotal: 0,
    bytesDone: 0, bytesTotal: 0, filesDone: 0, fileCount: 0,
  };
  const report = (change: Partial<HubProgress>) => {
    Object.assign(state, change);
    onProgress?.({ ...state });
  };

  /** The file's size, or null when it is absent (404) and `optional`. */
  const sizeOf = async (file: string, optional = false): Promise<number | null> => {
    signal?.throwIfAborted();
    report({ file, fileBytesDone: 0, fileBytesTotal: 0 });
    try {
      return await fetchSize(url(file), http);
    } catch (e) {
      if (optional && e instanceof HttpError && e.status === 404) return null;
      return fail(file, e);
    }
  };

  /** A file the checkpoint cannot do without: its size, or a HubError saying why it is needed. */
  const sizeOfRequired = async (file: string, why: string): Promise<number> => {
    const size = await sizeOf(file, true);
    if (size !== null) return size;
    throw new HubError(`${id}: the repo has no ${file} at revision "${revision}" (HTTP 404 for ${url(file)}): ${why}`,
      { repo: id, file, status: 404 });
  };

  /** The file, chunk by chunk, as Blobs (so finished chunks need not stay in JS memory). */
  const download = async (file: string, size: number): Promise<File> => {
    const parts: Blob[] = [];
    report({ file, fileBytesDone: 0, fileBytesTotal: size });
    for (let offset = 0; offset < size; offset += chunkBytes) {
      signal?.throwIfAborted();
      const length = Math.min(chunkBytes, size - offset);
      const bytes = await withRetries(() => fetchRange(url(file), offset, length, size, http), retries, signal)
        .catch((e: unknown) => fail(file, e));
      parts.push(new Blob([bytes]));
      const counted = state.phase === 'downloading' ? length : 0; // overall bytes count once sizes are known
      report({ fileBytesDone: offset + length, bytesDone: state.bytesDone + counted });
    }
    const type = file.endsWith('.json') ? 'application/json' : 'application/octet-stream';
    return new File(parts, baseName(file), { type });
  };

  // 1. config.json: refuse an unsupported model before anything big comes down.
  const configSize = (await sizeOf('config.json'))!;
  const config = await download('config.json', configSize);
  try {
    parseModelConfig(await config.text());
  } catch (e) {
    if (!(e instanceof CheckpointError)) throw e;
    throw new CheckpointError(`${id}: ${e.message}`, { file: 'config.json' });
  }

  // 2. The weights: the index and its shards, or model.safetensors.
  const small: File[] = [config];
  const planned: { file: string; size: number }[] = [];
  const indexSize = await sizeOf(INDEX_FILE, true);
  if (indexSize !== null) {
    const index = await download(INDEX_FILE, indexSize);
    small.push(index);
    for (const shard of shardNames(id, await index.text())) {
      planned.push({ file: shard, size: await sizeOfRequired(shard, `${INDEX_FILE} lists it`) });
    }
  } else {
    planned.push({ file: 'model.safetensors', size: await sizeOfRequired('model.safetensors',
      `the studio needs safetensors weights: model.safetensors, or shards listed in ${INDEX_FILE}; ` +
      'pick a repo that has them, or convert the weights and drop the files here') });
  }

  // 3. Tokenizer files: tokenizer.json is required, the other two are used when present.
  planned.push({ file: 'tokenizer.json', size: await sizeOfRequired('tokenizer.json',
    'calibration text needs the model\'s tokenizer.json; pick a repo that has it, or add it and drop the files ' +
    'here') });
  for (const file of ['tokenizer_config.json', 'generation_config.json']) {
    const size = await sizeOf(file, true);
    if (size !== null) planned.push({ file, size });
  }

  // 4. Download, with overall progress now that every size is known.
  const smallBytes = small.reduce((s, f) => s + f.size, 0);
  report({
    phase: 'downloading', fileCount: small.length + planned.length, filesDone: small.length,
    bytesDone: smallBytes, bytesTotal: smallBytes + planned.reduce((s, p) => s + p.size, 0),
  });
  const files = [...small];
  for (const { file, size } of planned) {
    files.push(await download(file, size));
    report({ filesDone: state.filesDone + 1 });
  }
  report({ phase: 'done', file: null, fileBytesDone: 0, fileBytesTotal: 0 });
  return files;
}

/** The shard paths an index names, checked (relative, distinct base names). */
function shardNames(repo: string, text: string): string[] {
  const bad = (what: string): never => {
    throw new CheckpointError(`${repo}: ${INDEX_FILE}: ${what}`, { file: INDEX_FILE });
  };
  let index: unknown;
  try {
    index = JSON.parse(text);
  } catch (e) {
    bad(`not valid JSON (${(e as Error).message})`);
  }
  const map = (index as { weight_map?: unknown } | null)?.weight_map;
  if (typeof map !== 'object' || map === null || Array.isArray(map) ||
    !Object.values(map).every((v) => typeof v === 'string')) {
    bad('"weight_map" (tensor name → shard file) is missing or malformed');
  }
  const shards = [...new Set(Object.values(map as Record<string, string>))].sort();
  if (shards.length === 0) bad('"weight_map" names no shard');
  for (const s of shards) {
    if (s.startsWith('/') || s.split('/').some((p) => p === '' || p === '.' || p === '..') || s.includes('\\')) {
      bad(`shard path ${JSON.stringify(s)} is not a plain file path in the repo`);
    }
  }
  const names = shards.map(baseName);
  if (new Set(names).size !== names.length) bad('two shards have the same file name in different folders');
  return shards;
}

/** An error for the UI: aborts pass through; HTTP and network failures name the repo and file. */
function hubError(repo: string, file: string, url: string, e: unknown): unknown {
  if (e instanceof HubError || (e instanceof DOMException && e.name === 'AbortError') ||
    (e instanceof Error && e.name === 'AbortError')) return e;
  if (e instanceof HttpError) {
    return new HubError(`${repo}: ${file}: ${e.message}`, { repo, file, status: e.status ?? undefined, cause: e });
  }
  if (e instanceof TypeError) {
    return new HubError(`${repo}: ${file}: could not reach ${url} (${e.message}); check the network connection ` +
      '(a browser also refuses a server that does not allow cross-origin requests)', { repo, file, cause: e });
  }
  return e;
}

function transient(e: unknown): boolean {
  if (e instanceof TypeError) return true; // network failure
  return e instanceof HttpError && (e.status === null || e.status === 429 || e.status >= 500);
}

async function withRetries<T>(run: () => Promise<T>, retries: number, signal?: AbortSignal): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await run();
    } catch (e) {
      if (attempt >= retries || signal?.aborted || !transient(e)) throw e;
      await sleep(250 * (attempt + 1), signal);
    }
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      signal?.removeEventListener('abort', aborted);
      resolve();
    };
    const aborted = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', aborted, { once: true });
  });
}
