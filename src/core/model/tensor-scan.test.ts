/** The scan before a run: NaN/±Inf refused by tensor and file, largest magnitudes for the F16 range check. */
import { describe, it, expect } from 'vitest';
import { bitsToValue, scanBits, scanTensors, usedFloatTensors, type ScanProgress } from './tensor-scan';
import { openCheckpoint } from './checkpoint';
import { CheckpointError } from './checkpoint-error';
import { float32ToHalfBytes } from './float-convert';
import { f32Bytes, u16Bytes } from '../../testing/safetensors-builder';
import { editedModel, sourcesOf, toBfloat16Bits } from '../../testing/model-variants';
import { openSharedCheckpoint, STORIES_260K, MAKEMORE_NAMES } from '../../testing/shared-models';

describe('scanBits', () => {
  it('counts NaN and ±Inf and finds the largest finite magnitude in F32, F16 and BF16 bit patterns', () => {
    const values = Float32Array.from([1, -3.5, -0, Number.NaN, Number.NEGATIVE_INFINITY, 2, 1e-40, Number.POSITIVE_INFINITY]);
    const f32 = scanBits(f32Bytes(values), 'F32');
    expect(f32).toEqual({ nan: 1, inf: 2, firstBad: 3, maxBits: f32.maxBits });
    expect(bitsToValue(f32.maxBits, 'F32')).toBe(3.5);
    const f16 = scanBits(float32ToHalfBytes(values), 'F16');
    expect([f16.nan, f16.inf, f16.firstBad, bitsToValue(f16.maxBits, 'F16')]).toEqual([1, 2, 3, 3.5]);
    const bf16 = scanBits(u16Bytes(toBfloat16Bits(values)), 'BF16');
    expect([bf16.nan, bf16.inf, bf16.firstBad, bitsToValue(bf16.maxBits, 'BF16')]).toEqual([1, 2, 3, 3.5]);
    // The extremes of each format are finite; the largest F16 is 65504, and BF16 reaches ~3.4e38.
    expect(bitsToValue(scanBits(u16Bytes([0xfbff, 0x0001]), 'F16').maxBits, 'F16')).toBe(65504);
    expect(scanBits(u16Bytes([0x7f7f]), 'BF16')).toMatchObject({ nan: 0, inf: 0 });
    expect(bitsToValue(scanBits(u16Bytes([0x7f7f]), 'BF16').maxBits, 'BF16')).toBeCloseTo(3.39e38, -36);
    expect(scanBits(new Uint8Array(0), 'F32')).toEqual({ nan: 0, inf: 0, firstBad: -1, maxBits: 0 });
    // An odd count of 16-bit values: the last one is read on its own.
    expect(scanBits(u16Bytes([0x3c00, 0x4000, 0x7e00]), 'F16')).toEqual({ nan: 1, inf: 0, firstBad: 2, maxBits: 0x4000 });
    expect(scanBits(u16Bytes([0x3c00, 0xfc00, 0x4400]), 'F16')).toEqual({ nan: 0, inf: 1, firstBad: 1, maxBits: 0x4400 });
  });

  it('reads bytes that do not start on an element boundary of their buffer', () => {
    const bytes = new Uint8Array(13);
    bytes.set(f32Bytes([2, -9, Number.NaN]), 1);
    expect(scanBits(bytes.subarray(1), 'F32')).toMatchObject({ nan: 1, firstBad: 2 });
  });
});

describe('scanTensors', () => {
  it('gives each used tensor\'s largest magnitude, read in pieces or whole alike, with progress', async () => {
    for (const model of [STORIES_260K, MAKEMORE_NAMES]) {
      const ckpt = await openSharedCheckpoint(model);
      const events: ScanProgress[] = [];
      const stats = await scanTensors(ckpt, { chunkBytes: 1000, onProgress: (p) => events.push(p) });
      expect([...stats.keys()]).toEqual(usedFloatTensors(ckpt));
      for (const [name, s] of stats) {
        const values = await ckpt.readTensor(name);
        expect(s.maxAbs, name).toBe(values.reduce((m, v) => Math.max(m, Math.abs(v)), 0));
      }
      expect(await scanTensors(ckpt)).toEqual(stats);
      const total = [...stats.keys()].reduce((s, n) => s + ckpt.tensors.get(n)!.end - ckpt.tensors.get(n)!.begin, 0);
      expect(events.at(-1)).toEqual({ bytesDone: total, bytesTotal: total, tensorsDone: stats.size, tensorsTotal: stats.size });
      expect(events.every((e, i) => i === 0 || e.bytesDone > events[i - 1].bytesDone)).toBe(true);
    }
  });

  const refusal = async (files: Map<string, Uint8Array>, chunkBytes?: number) => {
    const ckpt = await openCheckpoint(sourcesOf(files));
    const error = await scanTensors(ckpt, { chunkBytes }).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(CheckpointError);
    return error as CheckpointError;
  };

  it('refuses a NaN in the final norm, naming the file, the tensor and where', async () => {
    const e = await refusal(await editedModel(STORIES_260K, { tensor: (n, v) => { if (n === 'model.norm.weight') v[17] = Number.NaN; } }));
    expect(e.message).toMatch(/^model\.safetensors, tensor "model\.norm\.weight": 1 NaN value \(the first at \[17\] of \[64\]\)/);
    expect(e.message).toMatch(/download it again or repair that tensor/);
    expect([e.file, e.tensor]).toEqual(['model.safetensors', 'model.norm.weight']);
  });

  it('refuses ±Inf in the embedding row of a token the texts never use, even in a later piece', async () => {
    const files = await editedModel(STORIES_260K, {
      tensor: (n, v) => {
        if (n === 'model.embed_tokens.weight') {
          v[500 * 64 + 3] = Number.POSITIVE_INFINITY;
          v[511 * 64] = Number.NEGATIVE_INFINITY;
        }
      },
    });
    const e = await refusal(files, 4096);
    expect(e.message).toMatch(/tensor "model\.embed_tokens\.weight": 2 ±Inf values \(the first at \[row 500, column 3\] of \[512, 64\]\)/);
  });

  it('refuses NaN in a block linear, an LM head stored as BF16 or F16, and a bias', async () => {
    const bf16 = await refusal(await editedModel(STORIES_260K, {
      dtype: 'BF16',
      tensor: (n, v) => { if (n === 'model.layers.2.mlp.up_proj.weight') v.fill(Number.NaN, 100, 103); },
    }));
    expect(bf16.message).toMatch(/tensor "model\.layers\.2\.mlp\.up_proj\.weight": 3 NaN values \(the first at \[row 1, column 36\] of \[172, 64\]\)/);
    const f16 = await refusal(await editedModel(MAKEMORE_NAMES, {
      dtype: 'F16',
      tensor: (n, v) => { if (n === 'lm_head.weight') v[5] = 1e6; }, // beyond F16: stored as +Inf
    }));
    expect(f16.message).toMatch(/tensor "lm_head\.weight": 1 ±Inf value \(the first at \[row 0, column 5\]/);
    const bias = await refusal(await editedModel(MAKEMORE_NAMES, { tensor: (n, v) => { if (n === 'transformer.h.3.attn.c_attn.bias') v[191] = Number.NaN; } }));
    expect(bias.message).toMatch(/tensor "transformer\.h\.3\.attn\.c_attn\.bias": 1 NaN value \(the first at \[191\] of \[192\]\)/);
  });

  it('records the largest magnitude of a BF16 outlier that F16 cannot hold', async () => {
    const ckpt = await openCheckpoint(sourcesOf(await editedModel(STORIES_260K, {
      dtype: 'BF16',
      tensor: (n, v) => { if (n === 'model.layers.1.mlp.down_proj.weight') v[3 * 172 + 5] = -1.5e6; },
    })));
    const stats = await scanTensors(ckpt);
    expect(stats.get('model.layers.1.mlp.down_proj.weight')!.maxAbs).toBe(1499136); // -1.5e6 in BF16
    expect(stats.get('model.layers.0.mlp.down_proj.weight')!.maxAbs).toBeLessThan(10);
  });
});
