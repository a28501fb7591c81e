/**
 * A ByteSource over a URL, read with HTTP Range requests (`Range: bytes=a-b` → 206 with exactly
 * those bytes). The size comes from a `bytes=0-0` request's `Content-Range: bytes 0-0/TOTAL`, which
 * survives the Hub's redirect to its CDN (a HEAD's Content-Length may be the redirect's own).
 */
import { baseName, checkRange, type ByteSource } from './byte-source';

export interface HttpOptions {
  /** The fetch to use (default: the global one); tests inject their own. */
  fetch?: typeof fetch;
  signal?: AbortSignal;
}

export interface HttpSourceOptions extends HttpOptions {
  /** The source's name (default: the URL's last path segment). */
  name?: string;
  /** The size when already known (skips the size request). */
  size?: number;
}

/** A failed request: the message names the URL and the status and says what to do. */
export class HttpError extends Error {
  readonly url: string;
  /** The HTTP status, or null when the answer was not a status problem (a wrong or short body). */
  readonly status: number | null;
  /** The Hub's X-Error-Code header (e.g. "RepoNotFound", "GatedRepo") when the server exposed one. */
  readonly errorCode: string | null;

  constructor(message: string, url: string, status: number | null, errorCode: string | null = null) {
    super(message);
    this.name = 'HttpError';
    this.url = url;
    this.status = status;
    this.errorCode = errorCode;
  }
}

/** What a status means to someone fetching a model, and what to do about it. */
export function statusAdvice(status: number, errorCode: string | null = null): string {
  if (errorCode === 'RepoNotFound') return 'no such repo (or it is private); check the repo id';
  if (errorCode === 'RevisionNotFound') return 'no such revision (branch, tag or commit) in this repo';
  if (errorCode === 'EntryNotFound') return 'the repo has no such file';
  if (status === 401 || status === 403 || errorCode === 'GatedRepo') {
    return 'the repo is gated or private (or does not exist): open it on huggingface.co, accept its licence, ' +
      'or download the files and drop them here';
  }
  if (status === 404) return 'no such repo or file; check the repo id';
  if (status === 416) return 'the server refused the byte range';
  if (status === 429) return 'too many requests; wait a minute and try again';
  if (status >= 500) return 'the server failed; try again later';
  return 'unexpected answer';
}

function statusError(url: string, res: Response): HttpError {
  const code = res.headers.get('x-error-code');
  return new HttpError(`HTTP ${res.status} for ${url}: ${statusAdvice(res.status, code)}`, url, res.status, code);
}

/** Parses `bytes a-b/total` (total may be "*"); null when absent or malformed. */
export function parseContentRange(value: string | null):
  { start: number; end: number; total: number | null } | null {
  const m = value?.trim().match(/^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/i);
  if (!m) return null;
  return { start: Number(m[1]), end: Number(m[2]), total: m[3] === '*' ? null : Number(m[3]) };
}

/** Drops a body we will not read, so the connection is freed. */
function discard(res: Response): void {
  res.body?.cancel().catch(() => {});
}

/** The file's size, from a one-byte range request (following redirects). */
export async function fetchSize(url: string, options: HttpOptions = {}): Promise<number> {
  const doFetch = options.fetch ?? fetch;
  const res = await doFetch(url, { headers: { Range: 'bytes=0-0' }, signal: options.signal });
  if (res.status === 206) {
    discard(res);
    const total = parseContentRange(res.headers.get('content-range'))?.total;
    if (total == null) {
      throw new HttpError(`${url}: the 206 answer has no readable "Content-Range: bytes 0-0/TOTAL" header, so the ` +
        'file size is unknown (a cross-origin server must list Content-Range in Access-Control-Expose-Headers)',
      url, 206);
    }
    return total;
  }
  if (res.status === 416) {
    // An empty file has no byte 0: the answer is "bytes */0".
    discard(res);
    const m = res.headers.get('content-range')?.match(/^bytes\s+\*\/(\d+)$/i);
    if (m) return Number(m[1]);
    throw statusError(url, res);
  }
  if (res.status === 200) {
    // A server that ignores Range sends the whole file: its length is the size.
    discard(res);
    const length = res.headers.get('content-length');
    if (length !== null && /^\d+$/.test(length.trim())) return Number(length);
    throw new HttpError(`${url}: the server ignored the Range request and sent no Content-Length, so the file ` +
      'size is unknown', url, 200);
  }
  discard(res);
  throw statusError(url, res);
}

/**
 * Exactly `length` bytes at `offset` of a file of `size` bytes. Wants 206 with the asked range; a 200
 * (the server ignored Range) is accepted only when the whole file was asked for.
 */
export async function fetchRange(url: string, offset: number, length: number, size: number,
  options: HttpOptions = {}): Promise<Uint8Array<ArrayBuffer>> {
  if (length === 0) return new Uint8Array(0);
  const doFetch = options.fetch ?? fetch;
  const end = offset + length - 1;
  const res = await doFetch(url, { headers: { Range: `bytes=${offset}-${end}` }, signal: options.signal });
  const whole = offset === 0 && length === size;
  if (res.status === 206) {
    const range = parseContentRange(res.headers.get('content-range'));
    if (range && (range.start !== offset || range.end !== end)) {
      discard(res);
      throw new HttpError(`${url}: asked for bytes ${offset}-${end}, the server sent ${range.start}-${range.end}`,
        url, 206);
    }
    if (range?.total != null && range.total !== size) {
      discard(res);
      throw new HttpError(`${url}: the file is now ${range.total} bytes, not ${size}: it changed on the server ` +
        'while downloading; start again', url, 206);
    }
  } else if (res.status === 200) {
    if (!whole) {
      discard(res);
      throw new HttpError(`${url}: the server ignored the Range request (HTTP 200 with the whole file instead of ` +
        `bytes ${offset}-${end}); it must support HTTP Range requests`, url, 200);
    }
  } else {
    discard(res);
    throw statusError(url, res);
  }
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (bytes.length !== length) {
    throw new HttpError(`${url}: asked for ${length} bytes at ${offset}, got ${bytes.length} (the connection ` +
      'dropped or the file changed); try again', url, null);
  }
  return bytes;
}

/** The last path segment of a URL, decoded: ".../resolve/main/config.json" → "config.json". */
export function urlFileName(url: string): string {
  const last = baseName(url.split(/[?#]/)[0]);
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}

/** A ByteSource on a URL; learns the size with one small request unless options.size gives it. */
export async function httpSource(url: string, options: HttpSourceOptions = {}): Promise<ByteSource> {
  const size = options.size ?? await fetchSize(url, options);
  const name = options.name ?? urlFileName(url);
  const source: ByteSource = {
    name,
    size,
    async read(offset, length) {
      checkRange(source, offset, length);
      return fetchRange(url, offset, length, size, options);
    },
  };
  return source;
}
