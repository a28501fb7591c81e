import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { blobSource, memorySource, type ByteSource } from './byte-source';
import { CheckpointError } from './checkpoint-error';
import { INDEX_FILE, openCheckpoint } from './checkpoint';
import { readSafetensorsHeader } from './safetensors';
import { buildSafetensors } from '../../testing/safetensors-builder';
import { MAKEMORE_NAMES, sharedModelDir, STORIES_260K, openSharedCheckpoint } from '../../testing/shared-models';

/** Every file of a shared model, in memory, by name. */
function modelFiles(name: string): Map<string, Uint8Array> {
  const dir = sharedModelDir(name);
  return new Map(readdirSync(dir).map((f) => [f, new Uint8Array(readFileSync(join(dir, f)))]));
}

function sources(files: Map<string, Uint8Array>): ByteSource[] {
  return [...files].map(([name, bytes]) => memorySource(name, bytes));
}

async function refusal(files: ByteSource[], options?: { requireTokenizer?: boolean }): Promise<CheckpointError> {
  const e = await openCheckpoint(files, options).then(() => null, (err: unknown) => err);
  expect(e).toBeInstanceOf(CheckpointError);
  return e as CheckpointError;
}

/**
 * stories260K re-written as two shards + index: the embedding and blocks 0–1 in shard 1, the rest in
 * shard 2 (same bytes per tensor).
 */
async function shardedStories(): Promise<{ files: Map<string, Uint8Array>; index: { weight_map: Record<string, string> } }> {
  const files = modelFiles(STORIES_260K);
  const single = memorySource('model.safetensors', files.get('model.safetensors')!);
  const header = await readSafetensorsHeader(single);
  files.delete('model.safetensors');
  const shards: { name: string; dtype: string; shape: number[]; data: Uint8Array }[][] = [[], []];
  const weightMap: Record<string, string> = {};
  for (const t of header.tensors.values()) {
    const s = /^model\.(embed_tokens|layers\.[01]\.)/.test(t.name) ? 0 : 1;
    const file = `model-0000${s + 1}-of-00002.safetensors`;
    weightMap[t.name] = file;
    shards[s].push({ name: t.name, dtype: t.dtype, shape: t.shape, data: await single.read(header.dataOffset + t.begin, t.end - t.begin) });
  }
  files.set('model-00001-of-00002.safetensors', buildSafetensors(shards[0]));
  files.set('model-00002-of-00002.safetensors', buildSafetensors(shards[1]));
  const index = { metadata: { total_size: 1040128 }, weight_map: weightMap };
  files.set(INDEX_FILE, new TextEncoder().encode(JSON.stringify(index)));
  return { files, index };
}

describe('openCheckpoint on the shared models', () => {
  it('stories260K (llama, GQA, tied head) from node files', async () => {
    const ck = await openSharedCheckpoint(STORIES_260K);
    expect(ck.summary()).toEqual({
      arch: 'llama', blocks: 5, hiddenSize: 64, parameters: 260032, dtype: 'F32', files: ['model.safetensors'], tokenizer: true, bytes: 260032 * 4,
    });
    expect(ck.layout.lmHead).toBe('model.embed_tokens.weight');
    expect(ck.generationConfigJson).toContain('bos_token_id');
    const E = await ck.readTensor('model.embed_tokens.weight');
    expect(E.length).toBe(512 * 64);
    const k = await ck.readLinearWeight(2, 'self_attn.k_proj');
    expect(k).toEqual(await ck.readTensor('model.layers.2.self_attn.k_proj.weight'));
    expect(k.length).toBe(32 * 64);
    await expect(ck.readTensor('lm_head.weight')).rejects.toThrow(/"lm_head.weight" is not in this checkpoint/);
  });

  it('makemore-names-gpt2 (Conv1D [in, out], untied head) from Blobs', async () => {
    const files = [...modelFiles(MAKEMORE_NAMES)].map(([name, bytes]) => blobSource(Object.assign(new Blob([new Uint8Array(bytes)]), { name })));
    const ck = await openCheckpoint(files);
    expect(ck.summary()).toMatchObject({ arch: 'gpt2', blocks: 4, hiddenSize: 64, parameters: 204544, dtype: 'F32' });
    expect(ck.layout.lmHead).toBe('lm_head.weight');
    expect(ck.generationConfigJson).toBeNull();
    const stored = await ck.readTensor('transformer.h.1.attn.c_attn.weight'); // [in 64, out 192]
    const W = await ck.readLinearWeight(1, 'attn.c_attn'); // [out 192, in 64]
    expect(W.length).toBe(192 * 64);
    for (const [o, i] of [[0, 0], [5, 63], [191, 7], [100, 30]]) expect(W[o * 64 + i]).toBe(stored[i * 192 + o]);
  });

  it('reads a BF16 checkpoint (makemore truncated to bfloat16) exactly', async () => {
    const files = modelFiles(MAKEMORE_NAMES);
    const f32 = memorySource('model.safetensors', files.get('model.safetensors')!);
    const header = await readSafetensorsHeader(f32);
    const tensors = [];
    for (const t of header.tensors.values()) {
      const words = new Uint32Array((await f32.read(header.dataOffset + t.begin, t.end - t.begin)).slice().buffer);
      tensors.push({ name: t.name, dtype: 'BF16', shape: t.shape, data: new Uint8Array(Uint16Array.from(words, (w) => w >>> 16).buffer) });
    }
    files.set('model.safetensors', buildSafetensors(tensors));
    const ck = await openCheckpoint(sources(files));
    expect(ck.summary()).toMatchObject({ dtype: 'BF16', parameters: 204544 });
    const original = await (await openCheckpoint(sources(modelFiles(MAKEMORE_NAMES)))).readTensor('lm_head.weight');
    const truncated = new Float32Array(new Uint32Array(original.buffer.slice(0)).map((w) => w & 0xffff0000).buffer);
    expect(await ck.readTensor('lm_head.weight')).toEqual(truncated);
  });

  it('finds the files by base name when they carry folder paths', async () => {
    const files = [...modelFiles(MAKEMORE_NAMES)].map(([name, bytes]) => memorySource(`makemore/${name}`, bytes));
    expect((await openCheckpoint(files)).summary().arch).toBe('gpt2');
  });
});

describe('sharded checkpoints', () => {
  let sharded: Awaited<ReturnType<typeof shardedStories>>;
  beforeAll(async () => {
    sharded = await shardedStories();
  });

  it('reads every tensor from the shard the index names, the same as the single file', async () => {
    const ck = await openCheckpoint(sources(sharded.files));
    const single = await openSharedCheckpoint(STORIES_260K);
    expect(ck.summary().files).toEqual(['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
    for (const name of ['model.embed_tokens.weight', 'model.layers.1.mlp.down_proj.weight', 'model.layers.4.self_attn.q_proj.weight', 'model.norm.weight']) {
      expect(await ck.readTensor(name)).toEqual(await single.readTensor(name));
    }
  });

  it('refuses an index naming a missing shard', async () => {
    const files = new Map(sharded.files);
    files.delete('model-00002-of-00002.safetensors');
    const e = await refusal(sources(files));
    expect(e.message).toMatch(/^model-00002-of-00002\.safetensors is missing: model\.safetensors\.index\.json lists 2 shards/);
    expect(e.file).toBe('model-00002-of-00002.safetensors');
  });

  it('refuses an index that puts a tensor in the wrong shard', async () => {
    const files = new Map(sharded.files);
    const weightMap = { ...sharded.index.weight_map, 'model.norm.weight': 'model-00001-of-00002.safetensors' };
    files.set(INDEX_FILE, new TextEncoder().encode(JSON.stringify({ weight_map: weightMap })));
    const e = await refusal(sources(files));
    expect(e.message).toMatch(/model-00001-of-00002\.safetensors: .* says tensor "model\.norm\.weight" is in this shard but it is not/);
    expect(e.tensor).toBe('model.norm.weight');
  });

  it('refuses a malformed index, and shards without an index', async () => {
    const files = new Map(sharded.files);
    files.set(INDEX_FILE, new TextEncoder().encode('{"weight_map": 3}'));
    expect((await refusal(sources(files))).message).toMatch(/"weight_map" .* is missing or malformed/);
    files.delete(INDEX_FILE);
    expect((await refusal(sources(files))).message)
      .toMatch(/^model\.safetensors\.index\.json is missing: the folder has sharded weights \(model-00001-of-00002/);
  });
});

describe('openCheckpoint refusals', () => {
  const without = (name: string, f: string) => {
    const files = modelFiles(name);
    files.delete(f);
    return files;
  };

  it('names a missing config.json', async () => {
    const e = await refusal(sources(without(STORIES_260K, 'config.json')));
    expect(e.message).toMatch(/^config\.json is missing/);
    expect(e.file).toBe('config.json');
  });

  it('names missing weights, and what was found instead', async () => {
    expect((await refusal(sources(without(STORIES_260K, 'model.safetensors')))).message)
      .toMatch(/^model\.safetensors is missing: .*add the weights/);
    const files = without(STORIES_260K, 'model.safetensors');
    files.set('pytorch_model.bin', new Uint8Array(10));
    expect((await refusal(sources(files))).message).toMatch(/found pytorch_model\.bin: convert the weights to safetensors/);
  });

  it('names a missing tokenizer.json unless it is optional', async () => {
    const files = sources(without(MAKEMORE_NAMES, 'tokenizer.json'));
    expect((await refusal(files)).message).toMatch(/^tokenizer\.json is missing/);
    const ck = await openCheckpoint(files, { requireTokenizer: false });
    expect(ck.summary().tokenizer).toBe(false);
    expect(ck.tokenizerJson).toBeNull();
  });

  it('names a tensor the architecture needs that the weights lack', async () => {
    const files = modelFiles(MAKEMORE_NAMES);
    const config = JSON.parse(new TextDecoder().decode(files.get('config.json')));
    files.set('config.json', new TextEncoder().encode(JSON.stringify({ ...config, n_layer: 5 })));
    const e = await refusal(sources(files));
    expect(e.message).toMatch(/^tensor "transformer\.h\.4\.ln_1\.weight" is missing from model\.safetensors/);
    expect(e.tensor).toBe('transformer.h.4.ln_1.weight');
  });

  it('names a tensor whose shape does not match config.json', async () => {
    const files = modelFiles(STORIES_260K);
    const config = JSON.parse(new TextDecoder().decode(files.get('config.json')));
    files.set('config.json', new TextEncoder().encode(JSON.stringify({ ...config, num_key_value_heads: 8 })));
    const e = await refusal(sources(files));
    expect(e.message).toBe('model.safetensors, tensor "model.layers.0.self_attn.k_proj.weight": shape [32, 64] but ' +
      'config.json implies [64, 64]; check that config.json belongs to these weights');
  });

  it('refuses an untied model without lm_head.weight, and an already quantized checkpoint', async () => {
    const files = modelFiles(STORIES_260K);
    const config = JSON.parse(new TextDecoder().decode(files.get('config.json')));
    files.set('config.json', new TextEncoder().encode(JSON.stringify({ ...config, tie_word_embeddings: false })));
    expect((await refusal(sources(files))).tensor).toBe('lm_head.weight');

    const quantized = modelFiles(STORIES_260K);
    quantized.set('model.safetensors', buildSafetensors([
      { name: 'model.layers.0.self_attn.q_proj.qweight', dtype: 'I32', shape: [8, 64] },
    ]));
    const e = await refusal(sources(quantized));
    expect(e.message).toMatch(/dtype I32 is not supported.*already quantized/);
  });
});
