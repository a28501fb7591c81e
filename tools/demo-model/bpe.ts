/**
 * Byte-level BPE as GPT-2 / Hugging Face tokenizers define it: the text is split by GPT-2's regex,
 * each piece's UTF-8 bytes are tokens, and learned merges join adjacent tokens, lowest rank first.
 * Ids: 0 = <|endoftext|>, 1 + b = byte b (b = 0..255), 257 + r = the result of merge r.
 */

export const EOT = '<|endoftext|>';
export const EOT_ID = 0;
export const BYTE_OFFSET = 1;
export const FIRST_MERGE_ID = BYTE_OFFSET + 256;

/** GPT-2's pre-tokenizer regex (the one Hugging Face's ByteLevel pre-tokenizer uses with use_regex). */
export const GPT2_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** GPT-2's bytes_to_unicode: every byte as a printable character ("Ġ" for space, "Ċ" for newline). */
export const BYTE_TO_CHAR: string[] = (() => {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  const table = new Array<string>(256);
  bs.forEach((b, i) => (table[b] = String.fromCharCode(cs[i])));
  return table;
})();

const CHAR_TO_BYTE = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));
const utf8 = new TextEncoder();

/** The pre-tokenized pieces of text. */
export function pretokenize(text: string): string[] {
  return text.match(GPT2_PATTERN) ?? [];
}

function pieceIds(piece: string): number[] {
  return Array.from(utf8.encode(piece), (b) => b + BYTE_OFFSET);
}

export interface Bpe {
  /** merges[r] = [left id, right id]; it makes id FIRST_MERGE_ID + r. */
  merges: [number, number][];
  /** Token strings by id, in the byte-to-unicode alphabet (tokens[0] = <|endoftext|>). */
  tokens: string[];
}

/** Learns vocabSize − 257 merges from text: each step merges the most frequent adjacent pair (ties: smallest ids). */
export function trainBpe(text: string, vocabSize: number): Bpe {
  const nMerges = vocabSize - FIRST_MERGE_ID;
  if (nMerges < 0) throw new RangeError(`vocab ${vocabSize} is smaller than 257 (byte tokens + <|endoftext|>)`);
  const counts = new Map<string, number>();
  for (const p of pretokenize(text)) counts.set(p, (counts.get(p) ?? 0) + 1);
  const words = [...counts.keys()].map(pieceIds);
  const freq = [...counts.values()];

  const tokens = [EOT, ...BYTE_TO_CHAR];
  const known = new Set(tokens);
  const merges: [number, number][] = [];
  const pairCount = new Float64Array(vocabSize * vocabSize);
  while (merges.length < nMerges) {
    pairCount.fill(0);
    for (let w = 0; w < words.length; w++) {
      const ids = words[w];
      for (let i = 0; i + 1 < ids.length; i++) pairCount[ids[i] * vocabSize + ids[i + 1]] += freq[w];
    }
    let best = -1;
    for (;;) {
      best = -1;
      let bestCount = 0;
      for (let k = 0; k < pairCount.length; k++) {
        if (pairCount[k] > bestCount) {
          bestCount = pairCount[k];
          best = k;
        }
      }
      // A pair whose string is already a token (made another way) is skipped: vocab keys must be unique.
      if (best < 0 || !known.has(tokens[Math.floor(best / vocabSize)] + tokens[best % vocabSize])) break;
      pairCount[best] = 0;
    }
    if (best < 0) break; // nothing left to merge
    const a = Math.floor(best / vocabSize);
    const b = best % vocabSize;
    const id = FIRST_MERGE_ID + merges.length;
    merges.push([a, b]);
    tokens.push(tokens[a] + tokens[b]);
    known.add(tokens[id]);
    for (let w = 0; w < words.length; w++) words[w] = mergeAll(words[w], a, b, id);
  }
  return { merges, tokens };
}

/** Replaces every non-overlapping (a, b), left to right, with id. */
function mergeAll(ids: number[], a: number, b: number, id: number): number[] {
  let found = false;
  for (let i = 0; i + 1 < ids.length; i++) if (ids[i] === a && ids[i + 1] === b) { found = true; break; }
  if (!found) return ids;
  const out: number[] = [];
  for (let i = 0; i < ids.length; i++) {
    if (i + 1 < ids.length && ids[i] === a && ids[i + 1] === b) {
      out.push(id);
      i++;
    } else {
      out.push(ids[i]);
    }
  }
  return out;
}

/** Encodes text with learned merges exactly as Hugging Face's BPE model does (lowest rank first). */
export class BpeEncoder {
  private readonly rank = new Map<number, number>();
  private readonly cache = new Map<string, number[]>();

  constructor(private readonly bpe: Bpe) {
    bpe.merges.forEach(([a, b], r) => this.rank.set(a * 65536 + b, r));
  }

  encodePiece(piece: string): number[] {
    const hit = this.cache.get(piece);
    if (hit) return hit;
    let ids = pieceIds(piece);
    for (;;) {
      let bestRank = Infinity;
      for (let i = 0; i + 1 < ids.length; i++) {
        const r = this.rank.get(ids[i] * 65536 + ids[i + 1]);
        if (r !== undefined && r < bestRank) bestRank = r;
      }
      if (bestRank === Infinity) break;
      const [a, b] = this.bpe.merges[bestRank];
      ids = mergeAll(ids, a, b, FIRST_MERGE_ID + bestRank);
    }
    this.cache.set(piece, ids);
    return ids;
  }

  encode(text: string): number[] {
    const out: number[] = [];
    for (const p of pretokenize(text)) for (const id of this.encodePiece(p)) out.push(id);
    return out;
  }

  decode(ids: readonly number[]): string {
    const bytes: number[] = [];
    for (const id of ids) {
      if (id === EOT_ID) {
        bytes.push(...utf8.encode(EOT));
        continue;
      }
      for (const ch of this.bpe.tokens[id]) bytes.push(CHAR_TO_BYTE.get(ch)!);
    }
    return new TextDecoder().decode(new Uint8Array(bytes));
  }
}

/** tokenizer.json in the standard Hugging Face format (GPT-2 style byte-level BPE). */
export function tokenizerJson(bpe: Bpe): object {
  const byteLevel = { add_prefix_space: false, trim_offsets: false, use_regex: true };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [
      { id: EOT_ID, content: EOT, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
    ],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', ...byteLevel },
    post_processor: { type: 'ByteLevel', ...byteLevel },
    decoder: { type: 'ByteLevel', ...byteLevel },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: Object.fromEntries(bpe.tokens.map((t, id) => [t, id])),
      // "left right" strings: byte-level tokens never contain a space, and every tokenizers version reads them.
      merges: bpe.merges.map(([a, b]) => `${bpe.tokens[a]} ${bpe.tokens[b]}`),
    },
  };
}
