/**
 * The GGUF writer's parts against hand-worked bytes and an independent reader
 * (src/testing/gguf-reader.ts, which shares no code with them).
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeBlocks, blockMisfit, f16Rows, ropeRowOrder, type QuantizedRows } from './blocks';
import { gguf, ggufFile } from './writer';
import { ggufTokenizer, ggufTokenizerKind, GgufTokenizerError } from './tokenizer';
import { ggufTypeOf, planGguf } from './plan';
import { imatrixFile } from './imatrix';
import { GGUF_ARCHITECTURES, architectureKeys, qNormFactor } from './architectures';
import { ggufTensorNames } from './tensor-map';
import { floatToHalf, halfToFloat } from '../../model/float-convert';
import { parseModelConfig } from '../../model/config';
import { modelLayout } from '../../model/architecture';
import { rtnReference } from '../../rtn';
import { seededRandom } from '../../random';
import { randomMatrix } from '../../../testing/random';
import { blockFields, dequantize, kvArray, kvValue, readGguf } from '../../../testing/gguf-reader';
import { sharedModelDir, STORIES_260K, MAKEMORE_NAMES } from '../../../testing/shared-models';
import { fileBytes } from '../../../testing/export-files';


const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

/** One row, 32 columns, one group: codes 0..15 then 15..0. */
function oneBlock(scale: number, zero: number, codes = Uint8Array.from({ length: 32 }, (_, j) => (j < 16 ? j : 31 - j))): QuantizedRows {
  return { rows: 1, cols: 32, codes, scales: [scale], zeros: [zero], gIdx: new Int32Array(32) };
}

describe('GGUF blocks', () => {
  it('Q4_0: f16 d, then byte j = q[j] | q[j+16] << 4 (not adjacent pairs)', () => {
    const bytes = encodeBlocks('Q4_0', oneBlock(0.5, 8));
    expect(bytes.length).toBe(18);
    expect(hex(bytes.subarray(0, 2))).toBe('0038'); // 0.5 = 0x3800, little-endian
    // q[j] = j, q[j+16] = 15 − j: byte j = j | (15 − j) << 4
    expect(Array.from(bytes.subarray(2))).toEqual(Array.from({ length: 16 }, (_, j) => j | ((15 - j) << 4)));
  });

  it('Q4_1: f16 d, f16 m = −d·z, then the nibbles', () => {
    const bytes = encodeBlocks('Q4_1', oneBlock(0.25, 3));
    expect(bytes.length).toBe(20);
    const view = new DataView(bytes.buffer);
    expect(halfToFloat(view.getUint16(0, true))).toBe(0.25);
    expect(halfToFloat(view.getUint16(2, true))).toBe(-0.75);
    expect(bytes[4]).toBe(0 | (15 << 4));
  });

  it('Q4_1 rounds m from the F16 d, so d·q + m is the F16-scaled grid up to m\'s own rounding', () => {
    const s = 0.0123456;
    const bytes = encodeBlocks('Q4_1', oneBlock(s, 11));
    const view = new DataView(bytes.buffer);
    const d = halfToFloat(floatToHalf(s));
    expect(view.getUint16(0, true)).toBe(floatToHalf(s));
    expect(view.getUint16(2, true)).toBe(floatToHalf(-d * 11));
  });

  it('Q8_0: f16 d, then q − 128 as signed bytes', () => {
    const codes = Uint8Array.from({ length: 32 }, (_, j) => [0, 127, 128, 129, 255][j % 5]);
    const bytes = encodeBlocks('Q8_0', oneBlock(2, 128, codes));
    expect(bytes.length).toBe(34);
    expect(hex(bytes.subarray(0, 2))).toBe('0040');
    expect(Array.from(new Int8Array(bytes.buffer, 2, 32))).toEqual(Array.from(codes, (q) => q - 128));
  });

  it('refuses what is not exact: a zero other than 8 / 128, blocks mixing groups, in-features not a multiple of 32', () => {
    expect(() => encodeBlocks('Q4_0', oneBlock(1, 7))).toThrow(/zero point 7; Q4_0 needs the symmetric 8/);
    expect(() => encodeBlocks('Q8_0', oneBlock(1, 127))).toThrow(/Q8_0 needs the symmetric 128/);
    const mixed = { ...oneBlock(1, 8), scales: [1, 1], zeros: [8, 8], gIdx: Int32Array.from({ length: 32 }, (_, j) => j % 2) };
    expect(blockMisfit('Q4_0', mixed)).toMatch(/columns 0 and 1 share a Q4_0 block but belong to groups 0 and 1/);
    expect(() => encodeBlocks('Q4_0', mixed)).toThrow(/act-order without static groups/);
    expect(blockMisfit('Q4_0', { cols: 48, gIdx: new Int32Array(48) })).toMatch(/not a multiple of 32/);
    expect(() => encodeBlocks('Q4_0', { ...oneBlock(70000, 8) })).toThrow(/does not fit in F16/);
  });

  it('decodes through the independent reader to exactly s·(q − z) with F16 scales, on an RTN grid with groups of 64', () => {
    const rand = seededRandom(5);
    const rows = 8;
    const cols = 128;
    const W = randomMatrix(rows, cols, rand);
    for (const [type, bits, sym] of [['Q4_0', 4, true], ['Q4_1', 4, false], ['Q8_0', 8, true]] as const) {
      const r = rtnReference(W, rows, cols, { bits, groupSize: 64, sym });
      const data = encodeBlocks(type, r);
      const typeId = { Q4_0: 2, Q4_1: 3, Q8_0: 8 }[type];
      const tensor = { name: 'w', ne: [cols, rows], type: typeId, offset: 0, data };
      const { q } = blockFields(tensor);
      const values = dequantize(tensor);
      for (let i = 0; i < rows; i++) {
        for (let c = 0; c < cols; c++) {
          const g = r.gIdx[c];
          const code = r.codes[i * cols + c];
          expect(q[i * cols + c]).toBe(type === 'Q8_0' ? code - 128 : code);
          const d = halfToFloat(floatToHalf(r.scales[g * rows + i]));
          const z = r.zeros[g * rows + i];
          const expected = type === 'Q4_1' ? Math.fround(Math.fround(d * code) + halfToFloat(floatToHalf(-d * z))) : Math.fround(d * (code - z));
          expect(values[i * cols + c]).toBe(expected);
        }
      }
    }
  });

  it('the RoPE row order is the converter\'s reshape(heads, 2, d/2).swapaxes(1, 2)', () => {
    expect(Array.from(ropeRowOrder(1, 4))).toEqual([0, 2, 1, 3]);
    const heads = 3;
    const d = 8;
    const order = ropeRowOrder(heads, d);
    // Row (h, t, i) of the [heads, 2, d/2] view lands at (h, i, t) of the [heads, d/2, 2] view.
    for (let h = 0; h < heads; h++) {
      for (let t = 0; t < 2; t++) {
        for (let i = 0; i < d / 2; i++) expect(order[h * d + i * 2 + t]).toBe(h * d + t * (d / 2) + i);
      }
    }
    expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: heads * d }, (_, i) => i));
  });

  it('F16 rows refuse values F16 cannot hold', () => {
    expect(() => f16Rows(Float32Array.of(1, 1e6), 1, 2)).toThrow(/does not fit in F16; write this tensor as F32/);
  });
});

describe('GGUF writer', () => {
  it('writes metadata of every type and aligned tensors that the independent reader reads back', async () => {
    const file = ggufFile('t.gguf', [
      { key: 'a.u32', value: gguf.u32(7) },
      { key: 'a.i32', value: gguf.i32(-7) },
      { key: 'a.f32', value: gguf.f32(0.5) },
      { key: 'a.bool', value: gguf.bool(true) },
      { key: 'a.string', value: gguf.string('héllo') },
      { key: 'a.strings', value: gguf.strings(['x', 'Ġthe', '']) },
      { key: 'a.f32s', value: gguf.f32s([1, -2.5]) },
      { key: 'a.i32s', value: gguf.i32s([3, -4]) },
    ], [
      { name: 'one', type: 'F32', ne: [3], bytes: () => new Uint8Array(Float32Array.of(1, 2, 3).buffer) },
      { name: 'two', type: 'F16', ne: [2, 2], bytes: () => f16Rows(Float32Array.of(1, 2, 3, 4), 2, 2) },
      { name: 'three', type: 'Q8_0', ne: [32, 1], bytes: () => encodeBlocks('Q8_0', oneBlock(1, 128)) },
    ]);
    const bytes = await fileBytes(file);
    const read = readGguf(bytes);
    expect(read.version).toBe(3);
    expect(kvValue(read, 'a.u32', 4)).toBe(7);
    expect(kvValue(read, 'a.i32', 5)).toBe(-7);
    expect(kvValue(read, 'a.f32', 6)).toBe(0.5);
    expect(kvValue(read, 'a.bool', 7)).toBe(true);
    expect(kvValue(read, 'a.string', 8)).toBe('héllo');
    expect(kvArray(read, 'a.strings', 8)).toEqual(['x', 'Ġthe', '']);
    expect(kvArray(read, 'a.f32s', 6)).toEqual([1, -2.5]);
    expect(kvArray(read, 'a.i32s', 5)).toEqual([3, -4]);
    expect(read.order).toEqual(['one', 'two', 'three']);
    expect(read.dataStart % 32).toBe(0);
    expect(Array.from(dequantize(read.tensors.get('one')!))).toEqual([1, 2, 3]);
    expect(Array.from(dequantize(read.tensors.get('two')!))).toEqual([1, 2, 3, 4]);
    expect(read.tensors.get('two')!.offset).toBe(32); // 12 bytes of 'one' padded to 32
  });

  it('refuses repeated names, shapes the blocks do not divide, and bytes that do not match the shape', async () => {
    const t = { name: 'x', type: 'F32' as const, ne: [1], bytes: () => new Uint8Array(4) };
    expect(() => ggufFile('t', [], [t, t])).toThrow(/tensor "x" is written twice/);
    expect(() => ggufFile('t', [{ key: 'k', value: gguf.u32(1) }, { key: 'k', value: gguf.u32(2) }], [])).toThrow(/written twice/);
    expect(() => ggufFile('t', [], [{ ...t, type: 'Q4_0', ne: [48, 1] }])).toThrow(/multiple of 32/);
    expect(() => ggufFile('t', [{ key: 'k', value: gguf.u32(1.5) }], [])).toThrow(/must be an integer/);
    await expect(fileBytes(ggufFile('t', [], [{ ...t, ne: [2] }]))).rejects.toThrow(/4 bytes produced, 8 expected/);
  });

  it('takes a tensor in pieces, and refuses pieces that fall short of or run past its size', async () => {
    async function* pieces(...sizes: number[]) {
      for (const [i, n] of sizes.entries()) yield new Uint8Array(n).fill(i + 1);
    }
    const t = (...sizes: number[]) => ({ name: 'x', type: 'F32' as const, ne: [3], bytes: () => pieces(...sizes) });
    const read = readGguf(await fileBytes(ggufFile('t', [], [t(4, 8)])));
    expect(Array.from(new Uint8Array(read.tensors.get('x')!.data))).toEqual([1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2]);
    await expect(fileBytes(ggufFile('t', [], [t(4, 4)]))).rejects.toThrow(/"x" \(F32 \[3\]\): 8 bytes produced, 12 expected/);
    await expect(fileBytes(ggufFile('t', [], [t(8, 8)]))).rejects.toThrow(/16 or more bytes produced, 12 expected/);
  });
});

const tokenizerOf = (model: string) => ({
  tokenizerJson: readFileSync(join(sharedModelDir(model), 'tokenizer.json'), 'utf8'),
  tokenizerConfigJson: readFileSync(join(sharedModelDir(model), 'tokenizer_config.json'), 'utf8'),
});
const demoDir = join(__dirname, '../../../../public/demo');

describe('GGUF tokenizer', () => {
  it('stories260K (SentencePiece-style BPE) becomes an SPM vocabulary scored by merge rank', async () => {
    const kvs = ggufTokenizer({ ...tokenizerOf(STORIES_260K), vocabSize: 512, bosTokenId: 1, eosTokenIds: [2] });
    const read = readGguf(await fileBytes(ggufFile('t', kvs, [])));
    expect(kvValue(read, 'tokenizer.ggml.model', 8)).toBe('llama');
    expect(read.kv.has('tokenizer.ggml.pre')).toBe(false);
    const tokens = kvArray<string>(read, 'tokenizer.ggml.tokens', 8);
    const scores = kvArray<number>(read, 'tokenizer.ggml.scores', 6);
    const types = kvArray<number>(read, 'tokenizer.ggml.token_type', 5);
    expect(tokens.length).toBe(512);
    const json = JSON.parse(tokenizerOf(STORIES_260K).tokenizerJson) as { model: { merges: [string, string][] } };
    const [a, b] = json.model.merges[0];
    expect(scores[tokens.indexOf(a + b)]).toBe(-0); // the first merge scores highest
    expect(scores[tokens.indexOf(json.model.merges[1].join(''))]).toBe(-1);
    expect(types.slice(0, 3)).toEqual([2, 3, 3]); // <unk> unknown, <s> and </s> control
    expect(types[tokens.indexOf('<0x0A>')]).toBe(6);
    expect(types[tokens.indexOf('▁the')]).toBe(1);
    expect(kvValue(read, 'tokenizer.ggml.bos_token_id', 4)).toBe(1);
    expect(kvValue(read, 'tokenizer.ggml.eos_token_id', 4)).toBe(2);
    expect(kvValue(read, 'tokenizer.ggml.unknown_token_id', 4)).toBe(0);
    expect(kvValue(read, 'tokenizer.ggml.add_bos_token', 7)).toBe(true);
    expect(kvValue(read, 'tokenizer.ggml.add_space_prefix', 7)).toBe(true);
  });

  it('the demo model (byte-level BPE) becomes a gpt2 vocabulary with its merges and pre "gpt-2"', async () => {
    const tokenizerJson = readFileSync(join(demoDir, 'tokenizer.json'), 'utf8');
    const kvs = ggufTokenizer({ tokenizerJson, tokenizerConfigJson: readFileSync(join(demoDir, 'tokenizer_config.json'), 'utf8'), vocabSize: 1024, bosTokenId: 0, eosTokenIds: [0] });
    const read = readGguf(await fileBytes(ggufFile('t', kvs, [])));
    expect(kvValue(read, 'tokenizer.ggml.model', 8)).toBe('gpt2');
    expect(kvValue(read, 'tokenizer.ggml.pre', 8)).toBe('gpt-2');
    const json = JSON.parse(tokenizerJson) as { model: { merges: ([string, string] | string)[]; vocab: Record<string, number> } };
    const merges = kvArray<string>(read, 'tokenizer.ggml.merges', 8);
    expect(merges.length).toBe(json.model.merges.length);
    expect(merges[0]).toBe(Array.isArray(json.model.merges[0]) ? json.model.merges[0].join(' ') : json.model.merges[0]);
    const tokens = kvArray<string>(read, 'tokenizer.ggml.tokens', 8);
    for (const [t, id] of Object.entries(json.model.vocab)) expect(tokens[id]).toBe(t);
    expect(kvArray<number>(read, 'tokenizer.ggml.token_type', 5)[0]).toBe(3);
    expect(kvValue(read, 'tokenizer.ggml.bos_token_id', 4)).toBe(0);
    expect(kvValue(read, 'tokenizer.ggml.add_bos_token', 7)).toBe(false);
    expect(read.kv.has('tokenizer.ggml.scores')).toBe(false);
  });

  it('pads a vocabulary smaller than the embedding with unused [PADn] tokens and refuses a larger one', async () => {
    const t = tokenizerOf(STORIES_260K);
    const read = readGguf(await fileBytes(ggufFile('t', ggufTokenizer({ ...t, vocabSize: 514, bosTokenId: 1, eosTokenIds: [2] }), [])));
    expect(kvArray<string>(read, 'tokenizer.ggml.tokens').slice(512)).toEqual(['[PAD512]', '[PAD513]']);
    expect(kvArray<number>(read, 'tokenizer.ggml.token_type').slice(512)).toEqual([5, 5]);
    expect(() => ggufTokenizer({ ...t, vocabSize: 500, bosTokenId: 1, eosTokenIds: [2] })).toThrow(/beyond the 500 rows of the token embedding/);
  });

  it('names the pre-tokenizer of Qwen2 and Llama 3 regexes and refuses what llama.cpp cannot split the same way', () => {
    const split = (regex: string) => ({
      model: { type: 'BPE', vocab: {}, merges: [] },
      pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Split', pattern: { Regex: regex }, behavior: 'Isolated', invert: false }, { type: 'ByteLevel', add_prefix_space: false, use_regex: false }] },
    });
    const qwen2 = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    expect(ggufTokenizerKind(split(qwen2))).toEqual({ model: 'gpt2', pre: 'qwen2' });
    expect(ggufTokenizerKind(split(qwen2.replace('\\p{N}|', '\\p{N}{1,3}|')))).toEqual({ model: 'gpt2', pre: 'llama-bpe' });
    expect(() => ggufTokenizerKind(split('\\w+'))).toThrow(/regex is not one llama.cpp names/);
    const makemore = JSON.parse(tokenizerOf(MAKEMORE_NAMES).tokenizerJson) as Record<string, unknown>;
    expect(() => ggufTokenizerKind(makemore)).toThrow(GgufTokenizerError);
    expect(() => ggufTokenizerKind({ model: { type: 'WordPiece' } })).toThrow(/handles BPE tokenizers/);
  });
});

const llamaConfig = (over: Record<string, unknown> = {}) => {
  const config = parseModelConfig(JSON.stringify({
    model_type: 'llama', hidden_size: 64, intermediate_size: 172, num_hidden_layers: 2, num_attention_heads: 8,
    num_key_value_heads: 4, vocab_size: 512, max_position_embeddings: 256, tie_word_embeddings: true, ...over,
  }));
  return { config, layout: modelLayout(config), ...tokenizerOf(STORIES_260K) };
};
const base = { bits: 4, groupSize: 32, sym: true, actOrder: false, staticGroups: false, seqlen: 64 };
const noPadding = { intermediate: null, unquantized: [] };

describe('GGUF plan', () => {
  it('maps 4-bit sym / asym and 8-bit sym onto Q4_0 / Q4_1 / Q8_0 and nothing else', () => {
    expect(ggufTypeOf({ bits: 4, sym: true })).toBe('Q4_0');
    expect(ggufTypeOf({ bits: 4, sym: false })).toBe('Q4_1');
    expect(ggufTypeOf({ bits: 8, sym: true })).toBe('Q8_0');
    for (const [bits, sym] of [[2, true], [3, false], [5, true], [8, false]] as const) expect(ggufTypeOf({ bits, sym })).toBeNull();
  });

  it('accepts groups of 32·k, one group per row, and act-order with static groups or per-row grids', () => {
    const m = llamaConfig();
    for (const s of [base, { ...base, groupSize: 128 }, { ...base, groupSize: -1, actOrder: true }, { ...base, actOrder: true, staticGroups: true }]) {
      const p = planGguf(m, s, noPadding);
      expect(p.refusal).toBeNull();
      expect(p.type).toBe('Q4_0');
    }
  });

  it('refuses grids without an exact type and offers the nearest setting that has one', () => {
    const m = llamaConfig();
    const cases: [Partial<typeof base>, RegExp, Partial<typeof base>, string][] = [
      [{ bits: 3 }, /3-bit symmetric weights have no exact GGUF block type/, { bits: 4, sym: true }, 'Q4_0'],
      [{ bits: 2, sym: false }, /2-bit asymmetric/, { bits: 4, sym: false }, 'Q4_1'],
      [{ bits: 8, sym: false }, /8-bit asymmetric/, { bits: 8, sym: true }, 'Q8_0'],
      [{ bits: 6 }, /6-bit/, { bits: 8, sym: true }, 'Q8_0'],
      [{ groupSize: 48 }, /groups of 48 columns do not fill GGUF's blocks of 32/, { groupSize: 64 }, 'Q4_0'],
      [{ groupSize: 16 }, /groups of 16/, { groupSize: 32 }, 'Q4_0'],
      [{ actOrder: true }, /act-order without static groups/, { actOrder: true, staticGroups: true }, 'Q4_0'],
      // Groups of 128 do not divide this model's 64 columns: the suggestion is a group size it can use.
      [{ bits: 5, groupSize: 128 }, /5-bit/, { bits: 8, sym: true, groupSize: 64 }, 'Q8_0'],
    ];
    for (const [over, why, fix, type] of cases) {
      const p = planGguf(m, { ...base, ...over }, noPadding);
      expect(p.type).toBeNull();
      expect(p.refusal).toMatch(why);
      expect(p.suggestion?.type).toBe(type);
      expect(p.suggestion?.settings).toMatchObject(fix);
      expect(planGguf(m, p.suggestion!.settings, noPadding).refusal).toBeNull();
    }
  });

  it('keeps as F16 the linears the run leaves unquantized and those whose in-features miss 32; refuses an unusable tokenizer', () => {
    const m = llamaConfig();
    const p = planGguf(m, base, { intermediate: null, unquantized: [{ name: 'mlp.down_proj', reason: 'in-features 172 is not a multiple of 32' }] });
    expect(p.floatLinears.map((f) => f.name)).toEqual(['mlp.down_proj']);
    expect(p.floatLinears[0].reason).toMatch(/leaves it unquantized/);
    expect(planGguf(m, base, { intermediate: { from: 172, to: 192 }, unquantized: [] }).floatLinears).toEqual([]);
    const odd = llamaConfig({ hidden_size: 80, num_attention_heads: 5, num_key_value_heads: 5, intermediate_size: 160 });
    expect(planGguf(odd, base, noPadding).floatLinears.map((f) => f.name)).toEqual(['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'self_attn.o_proj', 'mlp.gate_proj', 'mlp.up_proj']);
    const makemore = { ...llamaConfig(), ...tokenizerOf(MAKEMORE_NAMES) };
    expect(planGguf(makemore, base, noPadding).refusal).toMatch(/tokenizer.json: a BPE without byte fallback/);
  });

  it('names every tensor of llama and gpt2 layouts, tied heads without output.weight', () => {
    const { config, layout } = llamaConfig();
    const names = ggufTensorNames(layout, config, GGUF_ARCHITECTURES.llama!).map((t) => t.name);
    expect(names.slice(0, 4)).toEqual(['token_embd.weight', 'blk.0.attn_norm.weight', 'blk.0.ffn_norm.weight', 'blk.0.attn_q.weight']);
    expect(names).toContain('blk.1.ffn_down.weight');
    expect(names).not.toContain('output.weight');
    expect(names.at(-1)).toBe('output_norm.weight');
    const g = parseModelConfig(JSON.stringify({ model_type: 'gpt2', n_embd: 64, n_layer: 1, n_head: 4, vocab_size: 27, n_positions: 16, tie_word_embeddings: false }));
    const gNames = ggufTensorNames(modelLayout(g), g, GGUF_ARCHITECTURES.gpt2!).map((t) => t.name);
    expect(gNames).toEqual([
      'token_embd.weight', 'position_embd.weight', 'blk.0.attn_norm.weight', 'blk.0.attn_norm.bias', 'blk.0.ffn_norm.weight', 'blk.0.ffn_norm.bias',
      'blk.0.attn_qkv.weight', 'blk.0.attn_qkv.bias', 'blk.0.attn_output.weight', 'blk.0.attn_output.bias',
      'blk.0.ffn_up.weight', 'blk.0.ffn_up.bias', 'blk.0.ffn_down.weight', 'blk.0.ffn_down.bias',
      'output_norm.weight', 'output_norm.bias', 'output.weight',
    ]);
  });
});

describe('GGUF architecture metadata', () => {
  const keys = (kvs: { key: string; value: { type: string } }[]) => Object.fromEntries(kvs.map((kv) => [kv.key, kv.value.type]));

  it('writes llama\'s keys with llama.cpp\'s types, mistral as llama, and key/value lengths only when head_dim differs', () => {
    const { config } = llamaConfig();
    const k = keys(architectureKeys(GGUF_ARCHITECTURES.llama!, config, modelLayout(config), 192));
    expect(k).toEqual({
      'llama.context_length': 'u32', 'llama.embedding_length': 'u32', 'llama.block_count': 'u32', 'llama.feed_forward_length': 'u32',
      'llama.attention.head_count': 'u32', 'llama.attention.head_count_kv': 'u32', 'llama.attention.layer_norm_rms_epsilon': 'f32',
      'llama.rope.freq_base': 'f32', 'llama.rope.dimension_count': 'u32', 'llama.vocab_size': 'u32',
    });
    expect(GGUF_ARCHITECTURES.mistral).toBe(GGUF_ARCHITECTURES.llama);
    const wide = llamaConfig({ head_dim: 16 }).config;
    expect(keys(architectureKeys(GGUF_ARCHITECTURES.llama!, wide, modelLayout(wide), 192))).toMatchObject({ 'llama.attention.key_length': 'u32', 'llama.attention.value_length': 'u32' });
    const ff = architectureKeys(GGUF_ARCHITECTURES.llama!, config, modelLayout(config), 192).find((kv) => kv.key === 'llama.feed_forward_length')!;
    expect(ff.value).toEqual({ type: 'u32', value: 192 }); // the padded width the file holds
  });

  it('qwen2 keeps Hugging Face\'s rotate-half rows (NEOX), gpt2 has LayerNorm epsilon and no RoPE keys', () => {
    expect(GGUF_ARCHITECTURES.qwen2!.rope).toBe('neox');
    expect(GGUF_ARCHITECTURES.qwen2!.ropeRows).toEqual({});
    expect(GGUF_ARCHITECTURES.llama!.ropeRows).toEqual({ 'self_attn.q_proj': 'heads', 'self_attn.k_proj': 'kvHeads' });
    const q = parseModelConfig(JSON.stringify({ model_type: 'qwen2', hidden_size: 64, intermediate_size: 128, num_hidden_layers: 1, num_attention_heads: 4, num_key_value_heads: 2, vocab_size: 100 }));
    const qk = keys(architectureKeys(GGUF_ARCHITECTURES.qwen2!, q, modelLayout(q), 128));
    expect(qk['qwen2.rope.freq_base']).toBe('f32');
    expect(qk['qwen2.vocab_size']).toBeUndefined();
    expect(ggufTensorNames(modelLayout(q), q, GGUF_ARCHITECTURES.qwen2!).map((t) => t.name)).toContain('blk.0.attn_q.bias');
    const g = parseModelConfig(JSON.stringify({ model_type: 'gpt2', n_embd: 64, n_layer: 1, n_head: 4, vocab_size: 27, n_positions: 16 }));
    const gk = keys(architectureKeys(GGUF_ARCHITECTURES.gpt2!, g, modelLayout(g), 256));
    expect(gk['gpt2.attention.layer_norm_epsilon']).toBe('f32');
    expect(Object.keys(gk).some((key) => key.includes('rope'))).toBe(false);
  });
});

describe('GGUF of the families: what llama.cpp computes, and refusals by name', () => {
  const family = (raw: Record<string, unknown>) => {
    const config = parseModelConfig(JSON.stringify({
      hidden_size: 64, intermediate_size: 192, num_hidden_layers: 8, num_attention_heads: 8, num_key_value_heads: 4, vocab_size: 512,
      max_position_embeddings: 256, ...raw,
    }));
    return { config, layout: modelLayout(config), ...tokenizerOf(STORIES_260K) };
  };
  const plan = (raw: Record<string, unknown>, seqlen = 64) => planGguf(family(raw), { ...base, seqlen }, noPadding);

  it('opt is refused by name: llama.cpp has no OPT architecture', () => {
    const p = plan({ model_type: 'opt', ffn_dim: 128, num_attention_heads: 4, num_key_value_heads: undefined, word_embed_proj_dim: 64, do_layer_norm_before: true });
    expect(p.type).toBeNull();
    expect(p.refusal).toMatch(/llama.cpp has no OPT architecture/);
  });

  it('smollm3: the layers without RoPE must be llama.cpp\'s every 4th', () => {
    expect(plan({ model_type: 'smollm3' }).refusal).toBeNull(); // no_rope_layer_interval 4, SmolLM3Config's default
    const p = plan({ model_type: 'smollm3', no_rope_layers: [1, 1, 0, 1, 1, 1, 1, 1] });
    expect(p.refusal).toMatch(/layer 2 has no RoPE, and llama.cpp's smollm3 leaves out RoPE exactly on every 4th layer/);
  });

  it('phi3: a sliding window shorter than the run\'s windows is refused (llama.cpp attends over the whole context)', () => {
    expect(plan({ model_type: 'phi3', sliding_window: 32 }, 64).refusal).toMatch(/sliding window of 32 tokens, shorter than the run's windows of 64.*use seqlen ≤ 32/);
    expect(plan({ model_type: 'phi3', sliding_window: 32 }, 32).refusal).toBeNull();
    const names = ggufTensorNames(family({ model_type: 'phi3' }).layout, family({ model_type: 'phi3' }).config, GGUF_ARCHITECTURES.phi3!).map((t) => t.name);
    expect(names).toContain('blk.0.attn_qkv.weight');
    expect(names).not.toContain('rope_factors_long.weight');
    // llama.cpp's contexts are ≥ 256 tokens: with an original context of 32 it always takes the long factors.
    const longrope = { model_type: 'phi3', original_max_position_embeddings: 32, rope_scaling: { type: 'longrope', short_factor: [1, 1, 1, 1], long_factor: [2, 2, 2, 2] } };
    expect(plan(longrope, 32).refusal).toMatch(/windows of 32 tokens use longrope's short factors \(original context 32\).*use seqlen > 32/);
    expect(plan(longrope, 48).refusal).toBeNull();
  });

  it('qwen3 takes no llama3 RoPE scaling (only llama\'s graph reads rope_freqs); llama writes it as a tensor', () => {
    const llama3 = { rope_scaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 64 } };
    expect(plan({ model_type: 'qwen3', head_dim: 8, ...llama3 }).refusal).toMatch(/RoPE scaling "llama3" has no form in llama.cpp's qwen3/);
    const l = family({ model_type: 'llama', ...llama3 });
    expect(planGguf(l, base, noPadding).refusal).toBeNull();
    const rope = ggufTensorNames(l.layout, l.config, GGUF_ARCHITECTURES.llama!).find((t) => t.name === 'rope_freqs.weight');
    expect(rope?.role.kind === 'rope' && rope.role.values.length).toBe(4);
  });

  it('gemma3: sliding layers must follow llama.cpp\'s sliding_window_pattern; the q norm carries query_pre_attn_scalar', () => {
    const gemma = { model_type: 'gemma3_text', head_dim: 8, sliding_window: 16, query_pre_attn_scalar: 12 };
    const types = (full: number[]) => Array.from({ length: 8 }, (_, i) => (full.includes(i) ? 'full_attention' : 'sliding_attention'));
    expect(plan({ ...gemma, layer_types: types([2, 5]) }).refusal).toBeNull();
    expect(plan({ ...gemma, layer_types: types([0, 5]) }).refusal).toMatch(/are not "every P-th layer full"/);
    const g = family({ ...gemma, layer_types: types([2, 5]) });
    const k = Object.fromEntries(architectureKeys(GGUF_ARCHITECTURES.gemma3_text!, g.config, g.layout, 192).map((kv) => [kv.key, kv.value.value]));
    expect(k).toMatchObject({ 'gemma3.attention.sliding_window': 16, 'gemma3.attention.sliding_window_pattern': 3, 'gemma3.rope.freq_base_swa': 10000 });
    expect(qNormFactor(GGUF_ARCHITECTURES.gemma3_text!, g.config, g.layout)).toBeCloseTo(Math.sqrt(8 / 12), 7);
  });
});

describe('imatrix.gguf', () => {
  it('holds Σx² = diag(H)·N/2 per column and the token count N·seqlen, with the metadata llama-quantize requires', async () => {
    const diagH = Float32Array.of(0.5, 2, 0);
    const read = readGguf(await fileBytes(imatrixFile({ entries: [{ name: 'blk.0.attn_q.weight', diagH }], windows: 4, seqlen: 64, dataset: 'calib.txt' })));
    expect(kvValue(read, 'general.type', 8)).toBe('imatrix');
    expect(kvArray(read, 'imatrix.datasets', 8)).toEqual(['calib.txt']);
    expect(kvValue(read, 'imatrix.chunk_count', 4)).toBe(4);
    expect(kvValue(read, 'imatrix.chunk_size', 4)).toBe(64);
    const sums = read.tensors.get('blk.0.attn_q.weight.in_sum2')!;
    expect(sums.ne).toEqual([3, 1]);
    expect(Array.from(dequantize(sums))).toEqual([1, 4, 0]);
    const counts = read.tensors.get('blk.0.attn_q.weight.counts')!;
    expect(counts.ne).toEqual([1, 1]);
    expect(Array.from(dequantize(counts))).toEqual([256]);
  });
});
