/**
 * Float tensors written as F16 from pieces read by range (the export's halfPieces): the same bytes
 * as converting the whole tensor, never more than a piece at a time, and a value beyond float16
 * named by its index in the tensor, not in the piece.
 */
import { describe, expect, it } from 'vitest';
import { editedModel, sourcesOf } from '../testing/model-variants';
import { STORIES_260K } from '../testing/shared-models';
import { openCheckpoint } from '../core/model/checkpoint';
import { checkedHalfBytes } from '../core/export/f16';
import { halfPieces } from './export-checkpoint';

/** The pieces of `name` with their sizes. */
async function piecesOf(ckpt: Awaited<ReturnType<typeof openCheckpoint>>, name: string, pieceBytes?: number): Promise<{ bytes: Uint8Array; sizes: number[] }> {
  const parts: Uint8Array[] = [];
  for await (const p of halfPieces(ckpt, name, pieceBytes)) parts.push(p);
  const bytes = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) (bytes.set(p, at), (at += p.length));
  return { bytes, sizes: parts.map((p) => p.length) };
}

const EMBED = 'model.embed_tokens.weight';

describe('F16 bytes in pieces', () => {
  it('equal the whole tensor converted at once, for pieces that do and do not divide the rows', async () => {
    const ckpt = await openCheckpoint(sourcesOf(await editedModel(STORIES_260K, { dtype: 'BF16' })));
    const whole = checkedHalfBytes(await ckpt.readTensor(EMBED), EMBED);
    // 512 rows of 64: 16 rows (32 pieces) and 15 rows (35 pieces, the last of 2).
    for (const [pieceBytes, rows] of [[16 * 64 * 4, 16], [15 * 64 * 4, 15]]) {
      const { bytes, sizes } = await piecesOf(ckpt, EMBED, pieceBytes);
      expect(bytes).toEqual(whole);
      expect(sizes.length).toBe(Math.ceil(512 / rows));
      expect(Math.max(...sizes)).toBe(rows * 64 * 2);
    }
    const norm = 'model.norm.weight';
    expect((await piecesOf(ckpt, norm, 256)).bytes).toEqual(checkedHalfBytes(await ckpt.readTensor(norm), norm));
  });

  it('copy an F16 tensor\'s bytes as stored, in pieces', async () => {
    const ckpt = await openCheckpoint(sourcesOf(await editedModel(STORIES_260K, { dtype: 'F16' })));
    const { bytes, sizes } = await piecesOf(ckpt, EMBED, 16 * 64 * 4);
    expect(bytes).toEqual((await ckpt.readTensorBytes(EMBED)).bytes);
    expect(sizes.length).toBe(32);
  });

  it('name a value beyond float16 by its index in the tensor', async () => {
    const at = 300 * 64 + 5;
    const ckpt = await openCheckpoint(sourcesOf(await editedModel(STORIES_260K, { tensor: (n, v) => { if (n === EMBED) v[at] = 1e6; } })));
    await expect(piecesOf(ckpt, EMBED, 16 * 64 * 4)).rejects.toThrow(`tensor "${EMBED}": value 1000000 at index ${at} does not fit float16`);
  });
});
