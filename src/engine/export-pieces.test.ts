/**
 * Float tensors written as F16 from pieces read by range (the export's halfBytesInPieces): the
 * same bytes as converting the whole tensor, and a value beyond float16 named by its index in the
 * tensor, not in the piece.
 */
import { describe, expect, it } from 'vitest';
import { editedModel, sourcesOf } from '../testing/model-variants';
import { STORIES_260K } from '../testing/shared-models';
import { openCheckpoint } from '../core/model/checkpoint';
import { checkedHalfBytes } from '../core/export/f16';
import { halfBytesInPieces } from './export-checkpoint';

const EMBED = 'model.embed_tokens.weight';

describe('F16 bytes in pieces', () => {
  it('equal the whole tensor converted at once, for pieces that do and do not divide the rows', async () => {
    const ckpt = await openCheckpoint(sourcesOf(await editedModel(STORIES_260K, { dtype: 'BF16' })));
    const whole = checkedHalfBytes(await ckpt.readTensor(EMBED), EMBED);
    // 512 rows of 64: 16 rows (32 pieces) and 15 rows (35 pieces, the last of 2).
    for (const pieceBytes of [16 * 64 * 4, 15 * 64 * 4]) expect(await halfBytesInPieces(ckpt, EMBED, pieceBytes)).toEqual(whole);
    const norm = 'model.norm.weight';
    expect(await halfBytesInPieces(ckpt, norm, 256)).toEqual(checkedHalfBytes(await ckpt.readTensor(norm), norm));
  });

  it('name a value beyond float16 by its index in the tensor', async () => {
    const at = 300 * 64 + 5;
    const ckpt = await openCheckpoint(sourcesOf(await editedModel(STORIES_260K, { tensor: (n, v) => { if (n === EMBED) v[at] = 1e6; } })));
    await expect(halfBytesInPieces(ckpt, EMBED, 16 * 64 * 4)).rejects.toThrow(`tensor "${EMBED}": value 1000000 at index ${at} does not fit float16`);
  });
});
