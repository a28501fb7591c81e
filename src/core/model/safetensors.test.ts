import { describe, expect, it } from 'vitest';
import { memorySource } from './byte-source';
import { CheckpointError, readSafetensorsHeader, readTensorF32 } from './safetensors';
import { assembleSafetensors, buildSafetensors, f32Bytes, u16Bytes } from '../../testing/safetensors-builder';

const FILE = 'model.safetensors';

async function header(bytes: Uint8Array) {
  return readSafetensorsHeader(memorySource(FILE, bytes));
}

/** Expects a CheckpointError whose message names the file (and tensor) and matches pattern. */
async function expectRefused(bytes: Uint8Array, pattern: RegExp, tensor?: string) {
  const error = await header(bytes).then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(CheckpointError);
  const e = error as CheckpointError;
  expect(e.message).toMatch(pattern);
  expect(e.message).toContain(FILE);
  expect(e.file).toBe(FILE);
  if (tensor) {
    expect(e.tensor).toBe(tensor);
    expect(e.message).toContain(`"${tensor}"`);
  }
}

function entry(dtype: string, shape: number[], begin: number, end: number) {
  return { dtype, shape, data_offsets: [begin, end] };
}

describe('readSafetensorsHeader', () => {
  it('reads a well-formed header, metadata and tensors', async () => {
    const bytes = buildSafetensors([
      { name: 'a', dtype: 'F32', shape: [2, 3] },
      { name: 'b', dtype: 'BF16', shape: [4] },
      { name: 'empty', dtype: 'F16', shape: [0, 5] },
    ], { format: 'pt' });
    const h = await header(bytes);
    expect(h.metadata).toEqual({ format: 'pt' });
    expect([...h.tensors.keys()]).toEqual(['a', 'b', 'empty']);
    expect(h.tensors.get('a')).toEqual({ name: 'a', dtype: 'F32', shape: [2, 3], begin: 0, end: 24 });
    expect(h.tensors.get('b')).toMatchObject({ begin: 24, end: 32 });
    expect(h.dataOffset).toBe(bytes.length - 32);
  });

  it('accepts a header without __metadata__ and with trailing spaces', async () => {
    const json = JSON.stringify({ w: entry('F32', [1], 0, 4) }) + '    ';
    const h = await header(assembleSafetensors(json, f32Bytes([1.5])));
    expect(h.metadata).toEqual({});
    expect(h.tensors.size).toBe(1);
  });

  it('refuses a file shorter than the length field', async () => {
    await expectRefused(new Uint8Array(5), /5 bytes, too short/);
  });

  it('refuses a header length past the end of the file', async () => {
    const good = buildSafetensors([{ name: 'w', dtype: 'F32', shape: [4] }]);
    const truncated = good.slice(0, 20);
    await expectRefused(truncated, /header length field says \d+ bytes but the file has only 12/);
  });

  it('refuses an absurd header length', async () => {
    const bytes = new Uint8Array(16);
    new DataView(bytes.buffer).setUint32(4, 1, true); // 2^32 bytes
    await expectRefused(bytes, /more than the \d+ bytes any real checkpoint needs/);
  });

  it('names a garbage header length exactly (the u64 read as a BigInt, not rounded to a float)', async () => {
    for (const [length, text] of [
      [2n ** 64n - 1n, '18446744073709551615'],
      [2n ** 63n + 1n, '9223372036854775809'],
      [2n ** 53n + 1n, '9007199254740993'],
    ] as const) {
      const bytes = new Uint8Array(40);
      new DataView(bytes.buffer).setBigUint64(0, length, true);
      await expectRefused(bytes, new RegExp(`^model\\.safetensors: the header length field says ${text} bytes, more than the 104857600 bytes any real checkpoint needs \\(the whole file is 40 bytes\\); `));
    }
    // Under the cap but past the end of the file: the exact length and what the file holds.
    const bytes = new Uint8Array(40);
    new DataView(bytes.buffer).setBigUint64(0, 1000n, true);
    await expectRefused(bytes, /header length field says 1000 bytes but the file has only 32 bytes after it/);
  });

  it('refuses a header that is not JSON, or not an object', async () => {
    await expectRefused(assembleSafetensors('{"w": {"dtype": "F32",'), /not valid JSON/);
    await expectRefused(assembleSafetensors(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])), /not valid JSON/);
    await expectRefused(assembleSafetensors('[1, 2]'), /not a JSON object/);
  });

  it('refuses bad __metadata__', async () => {
    await expectRefused(assembleSafetensors(JSON.stringify({ __metadata__: { n: 3 } })), /"__metadata__.n" must be a string/);
    await expectRefused(assembleSafetensors(JSON.stringify({ __metadata__: [] })), /"__metadata__" must be an object/);
  });

  it('refuses offsets outside the data area', async () => {
    const json = JSON.stringify({ w: entry('F32', [4], 0, 16), x: entry('F32', [2], 16, 24) });
    await expectRefused(assembleSafetensors(json, new Uint8Array(20)), /\[16, 24\] lie outside the data area of 20 bytes/, 'x');
    const backwards = JSON.stringify({ w: entry('F32', [0], 8, 4) });
    await expectRefused(assembleSafetensors(backwards, new Uint8Array(8)), /outside the data area/, 'w');
  });

  it('refuses overlapping tensors', async () => {
    const json = JSON.stringify({ a: entry('F32', [4], 0, 16), b: entry('F32', [4], 12, 28) });
    await expectRefused(assembleSafetensors(json, new Uint8Array(28)), /overlap tensor "a"/, 'b');
  });

  it('refuses a byte length that does not match shape × dtype size', async () => {
    const json = JSON.stringify({ w: entry('F16', [2, 3], 0, 24) });
    await expectRefused(assembleSafetensors(json, new Uint8Array(24)), /shape \[2, 3\] of F16 needs 12 bytes but .* hold 24/, 'w');
  });

  it('refuses malformed shapes and offsets', async () => {
    await expectRefused(assembleSafetensors(JSON.stringify({ w: entry('F32', [-1], 0, 0) })), /not a list of non-negative integers/, 'w');
    await expectRefused(assembleSafetensors(JSON.stringify({ w: { dtype: 'F32', shape: [1] } }), new Uint8Array(4)), /data_offsets .* not a pair/, 'w');
    await expectRefused(assembleSafetensors(JSON.stringify({ w: { shape: [1], data_offsets: [0, 4] } }), new Uint8Array(4)), /no dtype/, 'w');
  });

  it('refuses an already quantized checkpoint (I32 qweight) naming the dtype and tensor', async () => {
    const bytes = buildSafetensors([
      { name: 'model.layers.0.self_attn.q_proj.scales', dtype: 'F16', shape: [1, 64] },
      { name: 'model.layers.0.self_attn.q_proj.qweight', dtype: 'I32', shape: [8, 64] },
    ]);
    await expectRefused(bytes, /dtype I32 is not supported.*already quantized/, 'model.layers.0.self_attn.q_proj.qweight');
  });

  it.each(['F64', 'I8', 'U8', 'I64', 'BOOL', 'toString'])('refuses dtype %s', async (dtype) => {
    const json = JSON.stringify({ w: entry(dtype, [1], 0, 8) });
    await expectRefused(assembleSafetensors(json, new Uint8Array(8)), new RegExp(`dtype ${dtype} is not supported`), 'w');
  });
});

describe('readTensorF32', () => {
  it('reads F32, F16 and BF16 tensors by range, exactly', async () => {
    const bytes = buildSafetensors([
      { name: 'f32', dtype: 'F32', shape: [3], data: f32Bytes([1.25, -2, 3e-40]) },
      { name: 'f16', dtype: 'F16', shape: [2, 2], data: u16Bytes([0x3c00, 0x0001, 0x7c00, 0xc000]) },
      { name: 'bf16', dtype: 'BF16', shape: [1, 3], data: u16Bytes([0x3f80, 0x0001, 0xff80]) },
    ]);
    const reads: [number, number][] = [];
    const base = memorySource(FILE, bytes);
    const source = { ...base, read: (o: number, n: number) => (reads.push([o, n]), base.read(o, n)) };
    const h = await readSafetensorsHeader(source);
    reads.length = 0;
    expect(Array.from(await readTensorF32(source, h, 'f32'))).toEqual([1.25, -2, Math.fround(3e-40)]);
    expect(Array.from(await readTensorF32(source, h, 'f16'))).toEqual([1, 2 ** -24, Infinity, -2]);
    expect(Array.from(await readTensorF32(source, h, 'bf16'))).toEqual([1, 2 ** -133, -Infinity]);
    expect(reads).toEqual([[h.dataOffset, 12], [h.dataOffset + 12, 8], [h.dataOffset + 20, 6]]);
  });

  it('names the file and the tensor when a tensor is absent', async () => {
    const bytes = buildSafetensors([{ name: 'w', dtype: 'F32', shape: [1] }]);
    const source = memorySource(FILE, bytes);
    const h = await readSafetensorsHeader(source);
    await expect(readTensorF32(source, h, 'nope')).rejects.toThrow(/model\.safetensors, tensor "nope": no such tensor/);
  });
});
