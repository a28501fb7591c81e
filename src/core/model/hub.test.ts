import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blobSource, memorySource } from './byte-source';
import { CheckpointError } from './checkpoint-error';
import { INDEX_FILE, openCheckpoint, type Checkpoint } from './checkpoint';
import { fetchHubCheckpoint, hubFileUrl, HubError, parseRepoId, type HubFetchOptions, type HubProgress } from './hub';
import { readSafetensorsHeader } from './safetensors';
import { buildSafetensors } from '../../testing/safetensors-builder';
import { startHubServer, type HubServer, type HubServerOptions } from '../../testing/hub-server';
import { openSharedCheckpoint, sharedModelDir, STORIES_260K } from '../../testing/shared-models';

const STORIES = sharedModelDir(STORIES_260K);
const REPO = 'test/stories260K';
const CHECKPOINT_FILES = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json'];
const local = (file: string) => new Uint8Array(readFileSync(join(STORIES, file)));

/** Byte equality without vitest's slow element-by-element diff of big arrays. */
const sameBytes = (a: ArrayBufferView, b: ArrayBufferView) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

const temps: string[] = [];
const servers: HubServer[] = [];
let reference: Checkpoint;

/** A temp folder holding some of stories260K's files plus the given ones. */
function folder(copy: string[], write: Record<string, string | Uint8Array> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'hub-'));
  temps.push(dir);
  for (const f of copy) copyFileSync(join(STORIES, f), join(dir, f));
  for (const [f, data] of Object.entries(write)) writeFileSync(join(dir, f), data);
  return dir;
}

async function serve(options: HubServerOptions): Promise<HubServer> {
  const server = await startHubServer(options);
  servers.push(server);
  return server;
}

/** stories260K as two shards + index (embedding and blocks 0–1 in the first). */
async function shardedFolder(): Promise<string> {
  const single = memorySource('model.safetensors', local('model.safetensors'));
  const header = await readSafetensorsHeader(single);
  const shards: { name: string; dtype: string; shape: number[]; data: Uint8Array }[][] = [[], []];
  const weightMap: Record<string, string> = {};
  for (const t of header.tensors.values()) {
    const s = /^model\.(embed_tokens|layers\.[01]\.)/.test(t.name) ? 0 : 1;
    weightMap[t.name] = `model-0000${s + 1}-of-00002.safetensors`;
    shards[s].push({ name: t.name, dtype: t.dtype, shape: t.shape, data: await single.read(header.dataOffset + t.begin, t.end - t.begin) });
  }
  return folder(['config.json', 'tokenizer.json', 'tokenizer_config.json'], {
    'model-00001-of-00002.safetensors': buildSafetensors(shards[0]),
    'model-00002-of-00002.safetensors': buildSafetensors(shards[1]),
    [INDEX_FILE]: JSON.stringify({ metadata: { total_size: 1040128 }, weight_map: weightMap }),
  });
}

async function expectSameTensors(ck: Checkpoint): Promise<void> {
  expect([...ck.tensors.keys()].sort()).toEqual([...reference.tensors.keys()].sort());
  for (const name of reference.tensors.keys()) {
    expect(sameBytes(await ck.readTensor(name), await reference.readTensor(name)), name).toBe(true);
  }
}

async function refusal(repo: string, options: HubFetchOptions): Promise<Error> {
  const e = await fetchHubCheckpoint(repo, options).then(() => null, (err: unknown) => err);
  expect(e).toBeInstanceOf(Error);
  return e as Error;
}

let hub: HubServer;

beforeAll(async () => {
  reference = await openSharedCheckpoint(STORIES_260K);
  hub = await serve({ repos: { [REPO]: STORIES } });
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

describe('fetchHubCheckpoint', () => {
  it('downloads stories260K: the checkpoint files only, byte-identical, and openCheckpoint opens them', async () => {
    const files = await fetchHubCheckpoint(REPO, { baseUrl: hub.baseUrl });
    expect(files.map((f) => f.name).sort()).toEqual([...CHECKPOINT_FILES].sort());
    for (const f of files) expect(sameBytes(new Uint8Array(await f.arrayBuffer()), local(f.name)), f.name).toBe(true);
    expect(files.every((f) => f instanceof File)).toBe(true);
    const ck = await openCheckpoint(files.map(blobSource));
    expect(ck.summary()).toEqual(reference.summary());
    expect(ck.generationConfigJson).toBe(reference.generationConfigJson);
    await expectSameTensors(ck);
    // the files the checkpoint does not need are never asked for
    expect(hub.requests.some((r) => /LICENSE|reference_greedy/.test(r.path))).toBe(false);
  });

  it('small chunks: many range requests per big file, progress monotonic up to the total', async () => {
    const server = await serve({ repos: { [REPO]: STORIES } });
    const progress: HubProgress[] = [];
    const chunkBytes = 64 * 1024;
    const files = await fetchHubCheckpoint(REPO, { baseUrl: server.baseUrl, chunkBytes, onProgress: (p) => progress.push(p) });
    const size = local('model.safetensors').length;
    // one bytes=0-0 size request + one per chunk
    expect(server.rangeRequests('model.safetensors').length).toBe(1 + Math.ceil(size / chunkBytes));
    expect(server.rangeRequests('tokenizer.json').length).toBe(1 + 1);
    // every request is a range request; the only non-206 is the index probe's 404 (not sharded)
    expect(server.requests.every((r) => r.range !== null)).toBe(true);
    expect(server.requests.filter((r) => r.status !== 206).map((r) => [r.path, r.status]))
      .toEqual([[`/${REPO}/resolve/main/${INDEX_FILE}`, 404]]);
    const ranges = server.rangeRequests('model.safetensors').map((r) => r.range);
    expect(ranges.slice(0, 3)).toEqual(['bytes=0-0', 'bytes=0-65535', 'bytes=65536-131071']);

    const total = files.reduce((s, f) => s + f.size, 0);
    const last = progress.at(-1)!;
    expect(last).toMatchObject({ phase: 'done', file: null, bytesDone: total, bytesTotal: total, filesDone: 5, fileCount: 5 });
    const phases = [...new Set(progress.map((p) => p.phase))];
    expect(phases).toEqual(['checking', 'downloading', 'done']);
    const downloading = progress.filter((p) => p.phase !== 'checking');
    for (let i = 1; i < downloading.length; i++) {
      expect(downloading[i].bytesDone).toBeGreaterThanOrEqual(downloading[i - 1].bytesDone);
      expect(downloading[i].filesDone).toBeGreaterThanOrEqual(downloading[i - 1].filesDone);
      expect(downloading[i].bytesTotal).toBe(total);
    }
    const weights = progress.filter((p) => p.phase === 'downloading' && p.file === 'model.safetensors');
    expect(new Set(weights.map((p) => p.fileBytesDone)).size).toBe(1 + Math.ceil(size / chunkBytes)); // 0, then each chunk
    expect(weights.at(-1)).toMatchObject({ fileBytesDone: size, fileBytesTotal: size });
    expect(weights.every((p) => p.bytesDone <= p.bytesTotal)).toBe(true);
  });

  it('follows the Hub\'s redirects to its CDN', async () => {
    const server = await serve({ repos: { [REPO]: STORIES }, redirect: true });
    const files = await fetchHubCheckpoint(REPO, { baseUrl: server.baseUrl, chunkBytes: 256 * 1024 });
    expect(server.requests.filter((r) => r.status === 302).length).toBeGreaterThan(5);
    expect(server.rangeRequests('model.safetensors').every((r) => r.path.startsWith('/cdn/'))).toBe(true);
    await expectSameTensors(await openCheckpoint(files.map(blobSource)));
  });

  it('downloads every shard of a sharded checkpoint, skipping a missing optional file', async () => {
    const server = await serve({ repos: { 'test/sharded': await shardedFolder() } });
    const seen = new Set<string | null>();
    const files = await fetchHubCheckpoint('test/sharded', { baseUrl: server.baseUrl, chunkBytes: 200_000, onProgress: (p) => seen.add(p.file) });
    expect(files.map((f) => f.name)).toEqual([
      'config.json', INDEX_FILE, 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors',
      'tokenizer.json', 'tokenizer_config.json',
    ]);
    expect(server.rangeRequests('model-00002-of-00002.safetensors').length).toBeGreaterThan(2);
    expect(server.requests.some((r) => r.path.endsWith('/model.safetensors'))).toBe(false);
    expect(server.requests.find((r) => r.path.endsWith('/generation_config.json'))?.status).toBe(404);
    expect(seen.has('model-00001-of-00002.safetensors')).toBe(true);
    const ck = await openCheckpoint(files.map(blobSource));
    expect(ck.summary().files).toEqual(['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
    expect(ck.generationConfigJson).toBeNull();
    await expectSameTensors(ck);
  });

  it('a shard the index lists but the repo lacks is named before any download', async () => {
    const dir = await shardedFolder();
    rmSync(join(dir, 'model-00002-of-00002.safetensors'));
    const server = await serve({ repos: { 'test/sharded': dir } });
    const e = await refusal('test/sharded', { baseUrl: server.baseUrl });
    expect(e).toBeInstanceOf(HubError);
    expect(e.message).toMatch(/^test\/sharded: the repo has no model-00002-of-00002\.safetensors at revision "main" .*model\.safetensors\.index\.json lists it/);
    expect(server.rangeRequests('model-00001-of-00002.safetensors').map((r) => r.range)).toEqual(['bytes=0-0']);
  });

  it('retries a chunk after a transient 503', async () => {
    let failed = 0;
    const server = await serve({
      repos: { [REPO]: STORIES },
      intercept: (req, res) => {
        if (failed === 0 && req.url?.endsWith('/model.safetensors') && req.headers.range === 'bytes=262144-524287') {
          failed++;
          res.writeHead(503, { 'Access-Control-Allow-Origin': '*' });
          res.end();
          return true;
        }
        return false;
      },
    });
    const files = await fetchHubCheckpoint(REPO, { baseUrl: server.baseUrl, chunkBytes: 262144 });
    expect(failed).toBe(1);
    expect(server.requests.filter((r) => r.status === 503).length).toBe(1);
    const weights = files.find((f) => f.name === 'model.safetensors')!;
    expect(sameBytes(new Uint8Array(await weights.arrayBuffer()), local('model.safetensors'))).toBe(true);
  });

  it('a server that ignores Range: whole-file answers are used, partial ones refused clearly', async () => {
    const server = await serve({ repos: { [REPO]: STORIES }, ignoreRange: true });
    // chunks as big as the biggest file: each file is one "range" that is the whole file, and a 200 is fine
    const files = await fetchHubCheckpoint(REPO, { baseUrl: server.baseUrl, chunkBytes: 2 * 1024 * 1024 });
    await expectSameTensors(await openCheckpoint(files.map(blobSource)));
    expect(server.requests.every((r) => r.status === 200 || r.path.endsWith(INDEX_FILE))).toBe(true);
    const e = await refusal(REPO, { baseUrl: server.baseUrl, chunkBytes: 64 * 1024 });
    expect(e).toBeInstanceOf(HubError);
    expect(e.message).toMatch(/^test\/stories260K: model\.safetensors: .*model\.safetensors: the server ignored the Range request \(HTTP 200 with the whole file instead of bytes 0-65535\); it must support HTTP Range requests$/);
  });
});

describe('fetchHubCheckpoint refuses clearly', () => {
  it('a missing repo', async () => {
    const e = await refusal('test/nothing-here', { baseUrl: hub.baseUrl });
    expect(e).toBeInstanceOf(HubError);
    expect(e.message).toBe(`test/nothing-here: config.json: HTTP 404 for ${hub.baseUrl}/test/nothing-here/resolve/main/config.json: ` +
      'no such repo (or it is private); check the repo id');
    expect((e as HubError).status).toBe(404);
  });

  it('a repo without model.safetensors, before downloading the tokenizer', async () => {
    const server = await serve({ repos: { 'test/no-weights': folder(['config.json', 'tokenizer.json']) } });
    const e = await refusal('test/no-weights', { baseUrl: server.baseUrl });
    expect(e).toBeInstanceOf(HubError);
    expect(e.message).toMatch(/^test\/no-weights: the repo has no model\.safetensors at revision "main" \(HTTP 404 for http:.*\): the studio needs safetensors weights/);
    expect(server.requests.some((r) => r.path.endsWith('tokenizer.json'))).toBe(false);
  });

  it('a repo without tokenizer.json, before downloading the weights', async () => {
    const server = await serve({ repos: { 'test/no-tok': folder(['config.json', 'model.safetensors']) } });
    const e = await refusal('test/no-tok', { baseUrl: server.baseUrl });
    expect(e.message).toMatch(/^test\/no-tok: the repo has no tokenizer\.json .*needs the model's tokenizer\.json/);
    expect(server.rangeRequests('model.safetensors').map((r) => r.range)).toEqual(['bytes=0-0']);
  });

  it('a gated or private repo (401)', async () => {
    const server = await serve({ repos: { 'test/gated': STORIES }, deny: { 'test/gated': 401 } });
    const e = await refusal('test/gated', { baseUrl: server.baseUrl });
    expect(e).toBeInstanceOf(HubError);
    expect(e.message).toMatch(/^test\/gated: config\.json: HTTP 401 for .*: the repo is gated or private \(or does not exist\): open it on huggingface\.co, accept its licence, or download the files and drop them here$/);
    expect((e as HubError).status).toBe(401);
  });

  it('an unsupported model_type, before touching the weights', async () => {
    const config = JSON.parse(readFileSync(join(STORIES, 'config.json'), 'utf8'));
    const dir = folder(['model.safetensors', 'tokenizer.json'], { 'config.json': JSON.stringify({ ...config, model_type: 'bert' }) });
    const server = await serve({ repos: { 'test/bert': dir } });
    const e = await refusal('test/bert', { baseUrl: server.baseUrl });
    expect(e).toBeInstanceOf(CheckpointError);
    expect(e.message).toBe('test/bert: config.json: model_type "bert" is not supported; supported model types: llama, mistral, qwen2, qwen3, gemma3_text, phi3, smollm3, opt, gpt2');
    expect(server.requests.some((r) => !r.path.endsWith('/config.json'))).toBe(false);
  });

  it('a malformed repo id, without any request', async () => {
    const n = hub.requests.length;
    for (const bad of ['stories260K', 'a/b/c', '', ' / ', 'a--b/c', 'a/..b', '-a/b', 'a/b.', 'a/b.git', 'a b/c', 'a/b?x', `a/${'x'.repeat(95)}`]) {
      const e = await refusal(bad, { baseUrl: hub.baseUrl });
      expect(e, bad).toBeInstanceOf(HubError);
      expect(e.message).toMatch(/is not a Hugging Face repo id: write owner\/name, e\.g\. "openai-community\/gpt2"/);
    }
    expect(hub.requests.length).toBe(n);
  });

  it('an abort, mid-download and before starting', async () => {
    const server = await serve({ repos: { [REPO]: STORIES } });
    const controller = new AbortController();
    const e = await refusal(REPO, {
      baseUrl: server.baseUrl, chunkBytes: 64 * 1024, signal: controller.signal,
      onProgress: (p) => {
        if (p.file === 'model.safetensors' && p.fileBytesDone >= 128 * 1024) controller.abort();
      },
    });
    expect(e.name).toBe('AbortError');
    expect(server.rangeRequests('model.safetensors').length).toBe(3); // size + 2 chunks, then nothing
    expect(server.requests.some((r) => r.path.endsWith('/tokenizer_config.json') && r.range !== 'bytes=0-0')).toBe(false);
    const before = new AbortController();
    before.abort();
    expect((await refusal(REPO, { baseUrl: server.baseUrl, signal: before.signal })).name).toBe('AbortError');
  });
});

describe('repo ids and URLs', () => {
  it('parseRepoId trims and accepts huggingface.co links', () => {
    expect(parseRepoId(' TinyLlama/TinyLlama-1.1B-Chat-v1.0 ')).toBe('TinyLlama/TinyLlama-1.1B-Chat-v1.0');
    expect(parseRepoId('https://huggingface.co/openai-community/gpt2/tree/main')).toBe('openai-community/gpt2');
    expect(parseRepoId('hf.co/Qwen/Qwen2.5-0.5B')).toBe('Qwen/Qwen2.5-0.5B');
    expect(parseRepoId('a_b/c.d-e')).toBe('a_b/c.d-e');
  });

  it('hubFileUrl builds resolve URLs', () => {
    expect(hubFileUrl('https://huggingface.co', 'openai-community/gpt2', 'main', 'config.json'))
      .toBe('https://huggingface.co/openai-community/gpt2/resolve/main/config.json');
    expect(hubFileUrl('http://127.0.0.1:9/', 'o/n', 'refs/pr/1', 'sub dir/model-00001-of-00002.safetensors'))
      .toBe('http://127.0.0.1:9/o/n/resolve/refs%2Fpr%2F1/sub%20dir/model-00001-of-00002.safetensors');
  });
});
