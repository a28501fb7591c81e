import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchRange, fetchSize, httpSource, HttpError, parseContentRange, urlFileName } from './http-source';
import { parseRangeHeader, startHubServer, type HubServer } from '../../testing/hub-server';

const bytes = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) % 256);
let dir: string;
let plain: HubServer;
let redirecting: HubServer;
let noRange: HubServer;
const at = (server: HubServer, file: string) => `${server.baseUrl}/test/repo/resolve/main/${file}`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'http-source-'));
  writeFileSync(join(dir, 'data.bin'), bytes);
  writeFileSync(join(dir, 'empty.bin'), new Uint8Array(0));
  const repos = { 'test/repo': dir };
  plain = await startHubServer({ repos, deny: {} });
  redirecting = await startHubServer({ repos, redirect: true });
  noRange = await startHubServer({ repos, ignoreRange: true });
});

afterAll(async () => {
  await Promise.all([plain, redirecting, noRange].map((s) => s?.close()));
  rmSync(dir, { recursive: true, force: true });
});

describe('httpSource reads a URL by range', () => {
  it('learns the size from bytes=0-0 and reads exact ranges with 206s', async () => {
    const before = plain.requests.length;
    const s = await httpSource(at(plain, 'data.bin'));
    expect(s.name).toBe('data.bin');
    expect(s.size).toBe(1000);
    expect(plain.requests.slice(before)).toEqual([
      { method: 'GET', path: '/test/repo/resolve/main/data.bin', range: 'bytes=0-0', status: 206 },
    ]);
    expect(Array.from(await s.read(997, 3))).toEqual(Array.from(bytes.slice(997)));
    expect(await s.read(0, 1000)).toEqual(bytes);
    expect(plain.requests.at(-1)).toMatchObject({ range: 'bytes=0-999', status: 206 });
    const n = plain.requests.length;
    expect((await s.read(5, 0)).length).toBe(0);
    expect(plain.requests.length).toBe(n); // an empty read asks nothing
    await expect(s.read(998, 3)).rejects.toThrow(/past the end of the file \(1000 bytes\)/);
  });

  it('an empty file has size 0 (416 with "bytes */0")', async () => {
    const s = await httpSource(at(plain, 'empty.bin'));
    expect(s.size).toBe(0);
    expect((await s.read(0, 0)).length).toBe(0);
  });

  it('follows a redirect to the "CDN", where the size comes from Content-Range', async () => {
    const s = await httpSource(at(redirecting, 'data.bin'), { size: undefined });
    expect(s.size).toBe(1000);
    expect(await s.read(100, 50)).toEqual(bytes.slice(100, 150));
    const statuses = redirecting.requests.map((r) => r.status);
    expect(statuses).toContain(302);
    expect(redirecting.rangeRequests('data.bin').length).toBe(2);
  });

  it('a server ignoring Range: size from Content-Length, whole-file reads accepted, partial reads refused', async () => {
    const s = await httpSource(at(noRange, 'data.bin'));
    expect(s.size).toBe(1000);
    expect(await s.read(0, 1000)).toEqual(bytes);
    const e = await s.read(10, 20).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(HttpError);
    expect((e as HttpError).message).toMatch(/data\.bin: the server ignored the Range request \(HTTP 200/);
    expect((e as HttpError).status).toBe(200);
  });

  it('errors name the URL and status and say what to do', async () => {
    const url = at(plain, 'nothing.bin');
    const e = await fetchSize(url).catch((err: unknown) => err) as HttpError;
    expect(e).toBeInstanceOf(HttpError);
    expect(e.message).toBe(`HTTP 404 for ${url}: the repo has no such file`);
    expect(e.status).toBe(404);
    expect(e.errorCode).toBe('EntryNotFound');
    const gone = `${plain.baseUrl}/nobody/nothing/resolve/main/config.json`;
    await expect(fetchSize(gone)).rejects.toThrow(`HTTP 404 for ${gone}: no such repo (or it is private); check the repo id`);
    const gated = await startHubServer({ repos: { 'test/repo': dir }, deny: { 'test/repo': 401 } });
    try {
      await expect(fetchSize(at(gated, 'data.bin'))).rejects.toThrow(new RegExp(`HTTP 401 for ${at(gated, 'data.bin')}: ` +
        'the repo is gated or private \\(or does not exist\\): open it on huggingface.co, accept its licence, ' +
        'or download the files and drop them here'));
    } finally {
      await gated.close();
    }
  });

  it('refuses short bodies, wrong ranges and a file that changed size (injected fetch)', async () => {
    const answer = (status: number, body: Uint8Array<ArrayBuffer>, contentRange?: string): typeof fetch =>
      async () => new Response(body, { status, headers: contentRange ? { 'Content-Range': contentRange } : {} });
    const url = 'https://example.test/x/y/resolve/main/w.bin';
    await expect(fetchRange(url, 10, 5, 100, { fetch: answer(206, new Uint8Array(3), 'bytes 10-14/100') }))
      .rejects.toThrow(/w\.bin: asked for 5 bytes at 10, got 3/);
    await expect(fetchRange(url, 10, 5, 100, { fetch: answer(206, new Uint8Array(5), 'bytes 0-4/100') }))
      .rejects.toThrow(/asked for bytes 10-14, the server sent 0-4/);
    await expect(fetchRange(url, 10, 5, 100, { fetch: answer(206, new Uint8Array(5), 'bytes 10-14/120') }))
      .rejects.toThrow(/the file is now 120 bytes, not 100: it changed on the server/);
    await expect(fetchSize(url, { fetch: answer(206, new Uint8Array(1)) }))
      .rejects.toThrow(/no readable "Content-Range: bytes 0-0\/TOTAL" header/);
    const ok = await fetchRange(url, 10, 5, 100, { fetch: answer(206, bytes.slice(10, 15)) }); // no Content-Range: length checked
    expect(ok).toEqual(bytes.slice(10, 15));
    const seen: (string | null)[] = [];
    const spy: typeof fetch = async (_input, init) => {
      seen.push(new Headers(init?.headers).get('range'));
      return new Response(new Uint8Array(1), { status: 206, headers: { 'Content-Range': 'bytes 0-0/77' } });
    };
    expect(await fetchSize(url, { fetch: spy })).toBe(77);
    expect(seen).toEqual(['bytes=0-0']);
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(httpSource(at(plain, 'data.bin'), { signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('parses Content-Range and names files from URLs', () => {
    expect(parseContentRange('bytes 0-0/1044984')).toEqual({ start: 0, end: 0, total: 1044984 });
    expect(parseContentRange('bytes 5-9/*')).toEqual({ start: 5, end: 9, total: null });
    expect(parseContentRange(null)).toBeNull();
    expect(parseContentRange('bytes */10')).toBeNull();
    expect(urlFileName('https://h/o/n/resolve/main/sub/model%20x.safetensors?download=true')).toBe('model x.safetensors');
  });
});

describe('the hub test server', () => {
  it('parses single ranges and refuses bad ones with 416', async () => {
    expect(parseRangeHeader('bytes=0-0', 10)).toEqual({ start: 0, end: 0 });
    expect(parseRangeHeader('bytes=5-', 10)).toEqual({ start: 5, end: 9 });
    expect(parseRangeHeader('bytes=-3', 10)).toEqual({ start: 7, end: 9 });
    expect(parseRangeHeader('bytes=8-20', 10)).toEqual({ start: 8, end: 9 });
    for (const bad of ['bytes=10-12', 'bytes=5-4', 'bytes=-0', 'bytes=-', 'bytes=0-1,3-4', 'items=0-1']) {
      expect(parseRangeHeader(bad, 10)).toBeNull();
    }
    const res = await fetch(at(plain, 'data.bin'), { headers: { Range: 'bytes=2000-3000' } });
    expect(res.status).toBe(416);
    expect(res.headers.get('content-range')).toBe('bytes */1000');
  });

  it('answers CORS preflights and exposes Content-Range', async () => {
    const pre = await fetch(at(plain, 'data.bin'), {
      method: 'OPTIONS', headers: { Origin: 'http://other.test', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'range' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
    expect(pre.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('range');
    const res = await fetch(at(redirecting, 'data.bin'), { redirect: 'manual', headers: { Range: 'bytes=0-0' } });
    expect(res.status).toBe(302);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const got = await fetch(res.headers.get('location')!, { headers: { Range: 'bytes=0-0' } });
    expect(got.status).toBe(206);
    expect(got.headers.get('access-control-expose-headers')).toMatch(/Content-Range.*Content-Length/);
    expect(new Uint8Array(await got.arrayBuffer())).toEqual(bytes.slice(0, 1));
  });
});
