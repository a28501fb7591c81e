/**
 * A Hugging Face tokenizer.json as GGUF tokenizer metadata that makes llama.cpp produce the same
 * token ids (src/llama-vocab.cpp; key names in src/llama-arch.cpp ~372–405). Two kinds:
 *  - SentencePiece-style BPE (byte_fallback, spaces as "▁"): tokenizer.ggml.model "llama". llama.cpp's
 *    SPM tokenizer merges the adjacent pair whose merged token has the highest score, so each token
 *    scores −(rank of the first merge that makes it); the merges then happen in Hugging Face's order.
 *  - byte-level BPE: tokenizer.ggml.model "gpt2" with the merges in rank order and the
 *    pre-tokenizer named by tokenizer.ggml.pre (gpt-2, qwen2, llama-bpe), chosen from the regex.
 * Anything else is refused with a message, before the run (see ggufTokenizerKind).
 */
import { TOKEN_TYPE } from './constants';
import { gguf, type GgufKv } from './writer';

type Json = Record<string, unknown>;

/** The tokenizer has no faithful GGUF form (the message says why and what would work). */
export class GgufTokenizerError extends Error {
  override name = 'GgufTokenizerError';
}

export type GgufTokenizerKind = { model: 'llama'; addSpacePrefix: boolean } | { model: 'gpt2'; pre: string };

// Pre-tokenizer regexes as tokenizer.json spells them, and the name llama.cpp gives each
// (llama-vocab.cpp ~279–380 keeps the originals in comments beside its adapted copies).
const GPT2_REGEX = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
const QWEN2_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const LLAMA3_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const PRE_BY_REGEX = new Map([[GPT2_REGEX, 'gpt-2'], [QWEN2_REGEX, 'qwen2'], [LLAMA3_REGEX, 'llama-bpe']]);

const obj = (v: unknown): Json | null => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : null);
/** A normalizer / pre-tokenizer / decoder as its list of steps (a Sequence flattened). */
function steps(v: unknown, key: 'normalizers' | 'pretokenizers'): Json[] {
  const o = obj(v);
  if (!o) return [];
  if (o.type === 'Sequence') return ((o[key] as unknown[]) ?? []).flatMap((s) => steps(s, key));
  return [o];
}

function refuse(what: string): never {
  throw new GgufTokenizerError(`tokenizer.json: ${what}`);
}

/**
 * Which GGUF tokenizer reproduces this tokenizer.json's ids; throws a GgufTokenizerError saying
 * why when none does.
 */
export function ggufTokenizerKind(tokenizer: Json): GgufTokenizerKind {
  const model = obj(tokenizer.model);
  if (!model || model.type !== 'BPE') refuse(`the model is ${JSON.stringify(model?.type ?? null)}; the GGUF export handles BPE tokenizers (SentencePiece-style or byte-level)`);
  const normalizers = steps(tokenizer.normalizer, 'normalizers');
  const pre = steps(tokenizer.pre_tokenizer, 'pretokenizers');
  const byteLevel = pre.filter((p) => p.type === 'ByteLevel');
  if (model.byte_fallback === true) {
    // SentencePiece-style: a "▁" for each space, and either a Prepend normalizer or a Metaspace prefix.
    const replaces = normalizers.some((n) => n.type === 'Replace' && obj(n.pattern)?.String === ' ' && n.content === '▁');
    const prepends = normalizers.some((n) => n.type === 'Prepend' && n.prepend === '▁');
    const metaspace = pre.find((p) => p.type === 'Metaspace');
    const others = normalizers.filter((n) => !(n.type === 'Replace' || n.type === 'Prepend'));
    if (others.length > 0) refuse(`the normalizer step ${String(others[0].type)} has no GGUF equivalent`);
    if (metaspace && pre.length === 1 && metaspace.replacement === '▁' && metaspace.split !== true) {
      return { model: 'llama', addSpacePrefix: metaspace.prepend_scheme !== 'never' && metaspace.add_prefix_space !== false };
    }
    if (replaces && pre.length === 0) return { model: 'llama', addSpacePrefix: prepends };
    refuse('a byte-fallback BPE whose spaces are not written "▁" by the normalizer (or an unsplit Metaspace) has no GGUF equivalent');
  }
  if (byteLevel.length === 0) {
    refuse('a BPE without byte fallback and without a ByteLevel pre-tokenizer has no GGUF equivalent (llama.cpp reads such vocabularies as byte-level)');
  }
  if (normalizers.length > 0) refuse(`the normalizer step ${String(normalizers[0].type)} has no GGUF equivalent for a byte-level BPE`);
  if (byteLevel.some((b) => b.add_prefix_space === true)) refuse('ByteLevel add_prefix_space: true has no GGUF equivalent');
  let regex: string | null = null;
  for (const p of pre) {
    if (p.type === 'ByteLevel') {
      if (p.use_regex !== false) regex = regex === null ? GPT2_REGEX : refuse('two pre-tokenizer regexes');
    } else if (p.type === 'Split' && typeof obj(p.pattern)?.Regex === 'string' && p.behavior === 'Isolated' && p.invert !== true) {
      regex = regex === null ? (obj(p.pattern)!.Regex as string) : refuse('two pre-tokenizer regexes');
    } else {
      refuse(`the pre-tokenizer step ${String(p.type)} has no GGUF equivalent`);
    }
  }
  const name = regex === null ? null : PRE_BY_REGEX.get(regex);
  if (!name) refuse('its pre-tokenizer regex is not one llama.cpp names (gpt-2, qwen2, llama-bpe), so llama.cpp would split the text differently');
  return { model: 'gpt2', pre: name };
}

/** "left right" for a merge given either as that string or as a [left, right] pair. */
function mergePair(m: unknown): [string, string] {
  if (Array.isArray(m) && m.length === 2) return [String(m[0]), String(m[1])];
  if (typeof m === 'string') {
    const at = m.indexOf(' ', 1);
    if (at > 0) return [m.slice(0, at), m.slice(at + 1)];
  }
  return refuse(`a merge ${JSON.stringify(m)} is neither "left right" nor [left, right]`);
}

export interface TokenizerInputs {
  tokenizerJson: string;
  tokenizerConfigJson: string | null;
  /** Rows of the token embedding: the GGUF vocabulary has exactly this many tokens. */
  vocabSize: number;
  /** config.json's ids, used where tokenizer_config.json names no token. */
  bosTokenId: number | null;
  eosTokenIds: number[];
}

function parse(text: string, file: string): Json {
  try {
    const o = obj(JSON.parse(text));
    if (o) return o;
  } catch {
    // reported below
  }
  throw new GgufTokenizerError(`${file} is not a JSON object`);
}

/** A special token in tokenizer_config.json: a string or an AddedToken-like { content }. */
function content(v: unknown): string | null {
  if (typeof v === 'string') return v;
  const c = obj(v)?.content;
  return typeof c === 'string' ? c : null;
}

/**
 * The tokenizer.* metadata of the GGUF: model, pre (byte-level), tokens, scores (SPM), token
 * types, merges (byte-level), bos/eos/unk ids and the add_* flags. The vocabulary is padded with
 * unused "[PADn]" tokens to vocabSize, as llama.cpp's converter does; a tokenizer with more tokens
 * than the embedding has rows is refused. Throws GgufTokenizerError with the reason.
 */
export function ggufTokenizer(inputs: TokenizerInputs): GgufKv[] {
  const tokenizer = parse(inputs.tokenizerJson, 'tokenizer.json');
  const config = inputs.tokenizerConfigJson ? parse(inputs.tokenizerConfigJson, 'tokenizer_config.json') : {};
  const kind = ggufTokenizerKind(tokenizer);
  const model = tokenizer.model as Json;
  const vocab = obj(model.vocab) ?? refuse('model.vocab is missing');
  const n = inputs.vocabSize;
  const tokens: (string | null)[] = new Array<string | null>(n).fill(null);
  const types = new Int32Array(n).fill(TOKEN_TYPE.normal);
  const place = (text: string, id: unknown, type: number) => {
    if (!Number.isSafeInteger(id) || (id as number) < 0) refuse(`token ${JSON.stringify(text)} has id ${JSON.stringify(id)}`);
    if ((id as number) >= n) refuse(`token ${JSON.stringify(text)} has id ${String(id)}, beyond the ${n} rows of the token embedding`);
    tokens[id as number] = text;
    types[id as number] = type;
  };
  const byteToken = /^<0x[0-9A-F]{2}>$/;
  for (const [text, id] of Object.entries(vocab)) {
    place(text, id, kind.model === 'llama' && byteToken.test(text) ? TOKEN_TYPE.byte : TOKEN_TYPE.normal);
  }
  for (const t of (tokenizer.added_tokens as Json[] | undefined) ?? []) {
    place(String(t.content), t.id, t.special === true ? TOKEN_TYPE.control : TOKEN_TYPE.userDefined);
  }
  const unk = typeof model.unk_token === 'string' ? (vocab[model.unk_token] as number | undefined) : undefined;
  if (unk !== undefined) types[unk] = TOKEN_TYPE.unknown;
  const seen = new Set<string>();
  const list = tokens.map((t, id) => {
    const text = t ?? `[PAD${id}]`;
    if (t === null) types[id] = TOKEN_TYPE.unused;
    if (seen.has(text)) refuse(`token ${JSON.stringify(text)} appears twice; llama.cpp needs every token once`);
    seen.add(text);
    return text;
  });
  const merges = ((model.merges as unknown[] | undefined) ?? []).map(mergePair);

  const kvs: GgufKv[] = [{ key: 'tokenizer.ggml.model', value: gguf.string(kind.model) }];
  if (kind.model === 'gpt2') kvs.push({ key: 'tokenizer.ggml.pre', value: gguf.string(kind.pre) });
  kvs.push({ key: 'tokenizer.ggml.tokens', value: gguf.strings(list) });
  if (kind.model === 'llama') {
    // Score = −(rank of the first merge producing the token); tokens no merge makes score below all.
    const scores = new Float32Array(n).fill(-(merges.length + 1));
    const scored = new Set<string>();
    merges.forEach(([a, b], rank) => {
      const id = vocab[a + b];
      if (typeof id === 'number' && !scored.has(a + b)) {
        scored.add(a + b);
        scores[id] = -rank;
      }
    });
    kvs.push({ key: 'tokenizer.ggml.scores', value: gguf.f32s(scores) });
  }
  kvs.push({ key: 'tokenizer.ggml.token_type', value: gguf.i32s(types) });
  if (kind.model === 'gpt2') kvs.push({ key: 'tokenizer.ggml.merges', value: gguf.strings(merges.map(([a, b]) => `${a} ${b}`)) });

  const idOf = (key: string): number | null => {
    const c = content(config[key]);
    if (c === null) return null;
    const id = list.indexOf(c);
    return id >= 0 ? id : refuse(`tokenizer_config.json's ${key} ${JSON.stringify(c)} is not in the vocabulary`);
  };
  const bos = idOf('bos_token') ?? inputs.bosTokenId;
  const eos = idOf('eos_token') ?? inputs.eosTokenIds[0] ?? null;
  // llama.cpp's defaults would be wrong (SPM 1/2, BPE 11): write what the model uses.
  if (bos !== null) kvs.push({ key: 'tokenizer.ggml.bos_token_id', value: gguf.u32(bos) });
  if (eos !== null) kvs.push({ key: 'tokenizer.ggml.eos_token_id', value: gguf.u32(eos) });
  if (unk !== undefined) kvs.push({ key: 'tokenizer.ggml.unknown_token_id', value: gguf.u32(unk) });
  const flag = (key: string, fallback: boolean) => (typeof config[key] === 'boolean' ? (config[key] as boolean) : fallback);
  kvs.push({ key: 'tokenizer.ggml.add_bos_token', value: gguf.bool(flag('add_bos_token', addsBos(tokenizer, bos))) });
  kvs.push({ key: 'tokenizer.ggml.add_eos_token', value: gguf.bool(flag('add_eos_token', false)) });
  if (kind.model === 'llama') kvs.push({ key: 'tokenizer.ggml.add_space_prefix', value: gguf.bool(kind.addSpacePrefix) });
  return kvs;
}

/** Whether the post-processor puts BOS first (a TemplateProcessing whose single template starts with it). */
function addsBos(tokenizer: Json, bos: number | null): boolean {
  const post = obj(tokenizer.post_processor);
  if (!post || post.type !== 'TemplateProcessing' || bos === null) return false;
  const first = obj((post.single as unknown[] | undefined)?.[0]);
  const special = obj(first?.SpecialToken);
  const tokens = obj(post.special_tokens);
  const ids = obj(tokens?.[String(special?.id)])?.ids as unknown[] | undefined;
  return ids?.[0] === bos;
}
