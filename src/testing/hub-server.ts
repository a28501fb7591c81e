/**
 * Node-only stand-in for the Hugging Face Hub: serves local folders as repos at
 * `GET /{owner}/{name}/resolve/main/{file}` with Range support (206 + Content-Range, 416 for a bad
 * range), 404 for missing repos and files, an optional 302 to a "CDN" path on the same server, CORS
 * for pages on other origins, and a log of every request so tests can see the range requests.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream';
import { join } from 'node:path';

export interface HubServerOptions {
  /** Repo id ("owner/name") → local folder. */
  repos: Record<string, string>;
  /** Answer resolve requests with a 302 to /cdn/{owner}/{name}/{file}, as the Hub does for LFS files. */
  redirect?: boolean;
  /** Ignore Range headers: 200 with the whole file (a server without range support). */
  ignoreRange?: boolean;
  /** Repo id → a status to answer for every file of it (e.g. 401 for a gated repo). */
  deny?: Record<string, number>;
  /** Runs before anything else; returns true when it answered the request itself (fault injection). */
  intercept?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** Default 127.0.0.1. */
  host?: string;
}

export interface HubRequest {
  method: string;
  /** The decoded path, e.g. "/test/stories260K/resolve/main/model.safetensors". */
  path: string;
  range: string | null;
  status: number;
}

export interface HubServer {
  /** e.g. "http://127.0.0.1:41234" (no trailing slash). */
  baseUrl: string;
  /** Every request answered so far, in order. */
  requests: HubRequest[];
  /** Answered range requests (206) for a file, matched by the end of the path. */
  rangeRequests(file: string): HubRequest[];
  close(): Promise<void>;
}

const CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Expose-Headers': 'Content-Range, Content-Length, Accept-Ranges, X-Error-Code',
};

/** A single `bytes=a-b`, `bytes=a-` or `bytes=-n` range within size; null when unsatisfiable or malformed. */
export function parseRangeHeader(header: string, size: number): { start: number; end: number } | null {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  let start: number;
  let end: number;
  if (m[1] === '') {
    const n = Number(m[2]);
    start = Math.max(0, size - n);
    end = n === 0 ? -1 : size - 1;
  } else {
    start = Number(m[1]);
    if (m[2] !== '' && Number(m[2]) < start) return null;
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  return start < size && start <= end ? { start, end } : null;
}

function decodePath(pathname: string): string[] | null {
  try {
    return pathname.split('/').slice(1).map(decodeURIComponent);
  } catch {
    return null;
  }
}

export async function startHubServer(options: HubServerOptions): Promise<HubServer> {
  const requests: HubRequest[] = [];
  let baseUrl = '';

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (options.intercept?.(req, res)) return;
    const send = (status: number, headers: Record<string, string> = {}, body = '') => {
      const length = String(Buffer.byteLength(body));
      res.writeHead(status, { ...CORS, 'Content-Type': 'text/plain', 'Content-Length': length, ...headers });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        ...CORS,
        'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS',
        'Access-Control-Allow-Headers': req.headers['access-control-request-headers'] ?? 'Range',
        'Access-Control-Max-Age': '600',
      });
      res.end();
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return send(405, { Allow: 'GET, HEAD, OPTIONS' }, 'method not allowed');
    }

    // /{owner}/{name}/resolve/{revision}/{file...} or, after a redirect, /cdn/{owner}/{name}/{file...}
    const parts = decodePath(new URL(req.url ?? '/', 'http://x').pathname);
    if (!parts) return send(400, {}, 'bad path');
    const cdn = parts[0] === 'cdn';
    const [owner, name, verb, revision, ...file] = cdn
      ? [parts[1], parts[2], 'resolve', 'main', ...parts.slice(3)]
      : parts;
    const repo = `${owner}/${name}`;
    const folder = options.repos[repo];
    if (verb !== 'resolve' || !folder) return send(404, { 'X-Error-Code': 'RepoNotFound' }, 'Repository not found');
    if (options.deny?.[repo]) return send(options.deny[repo], {}, 'Access to this repo is restricted');
    if (revision !== 'main') return send(404, { 'X-Error-Code': 'RevisionNotFound' }, 'Revision not found');
    if (file.length === 0 || file.some((p) => p === '' || p === '.' || p === '..' || p.includes('\\'))) {
      return send(404, { 'X-Error-Code': 'EntryNotFound' }, 'Entry not found');
    }
    const path = join(folder, ...file);
    const info = await stat(path).catch(() => null);
    if (!info?.isFile()) return send(404, { 'X-Error-Code': 'EntryNotFound' }, 'Entry not found');

    if (options.redirect && !cdn) {
      const location = `${baseUrl}/cdn/${owner}/${name}/${file.map(encodeURIComponent).join('/')}`;
      return send(302, { Location: location, 'X-Linked-Size': String(info.size) }, `Found. Redirecting to ${location}`);
    }

    const size = info.size;
    const rangeHeader = options.ignoreRange ? undefined : req.headers.range;
    let start = 0;
    let end = size - 1;
    let status = 200;
    const headers: Record<string, string> = {
      ...CORS, 'Content-Type': 'application/octet-stream', 'Accept-Ranges': 'bytes',
    };
    if (rangeHeader !== undefined) {
      const range = parseRangeHeader(rangeHeader, size);
      if (!range) return send(416, { 'Content-Range': `bytes */${size}` }, 'Range not satisfiable');
      ({ start, end } = range);
      status = 206;
      headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
    }
    headers['Content-Length'] = String(end - start + 1);
    res.writeHead(status, headers);
    if (req.method === 'HEAD' || end < start) {
      res.end();
      return;
    }
    pipeline(createReadStream(path, { start, end }), res, () => {}); // a dropped client closes the file too
  };

  const server = createServer((req, res) => {
    res.on('close', () => {
      const parts = decodePath(new URL(req.url ?? '/', 'http://x').pathname);
      requests.push({
        method: req.method ?? '', path: parts ? `/${parts.join('/')}` : req.url ?? '', range: req.headers.range ?? null,
        status: res.statusCode,
      });
    });
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500, CORS);
      res.end();
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  baseUrl = `http://${host}:${(server.address() as AddressInfo).port}`;

  return {
    baseUrl,
    requests,
    rangeRequests: (file) =>
      requests.filter((r) => r.status === 206 && r.range !== null && r.path.endsWith(`/${file}`)),
    close: () => new Promise<void>((resolve, reject) => {
      server.closeAllConnections();
      server.close((e) => (e ? reject(e) : resolve()));
    }),
  };
}
