import { describe, expect, it } from 'vitest';
import {
  bf16ToF32,
  f16ToF32,
  parseSafetensors,
  readGptqCheckpoint,
  unpackBits,
  type GptqCheckpointFiles,
} from './gptq-checkpoint-reader';

// ---------------------------------------------------------------------------------------------
// Hand assembly of safetensors bytes (test-only; shares nothing with the project's builder)
// ---------------------------------------------------------------------------------------------

function u32le(words: number[]): Uint8Array {
  const b = new Uint8Array(words.length * 4);
  words.forEach((w, i) => {
    const u = w >>> 0;
    b[4 * i] = u & 0xff;
    b[4 * i + 1] = (u >>> 8) & 0xff;
    b[4 * i + 2] = (u >>> 16) & 0xff;
    b[4 * i + 3] = (u >>> 24) & 0xff;
  });
  return b;
}

function u16le(halves: number[]): Uint8Array {
  const b = new Uint8Array(halves.length * 2);
  halves.forEach((h, i) => {
    b[2 * i] = h & 0xff;
    b[2 * i + 1] = (h >>> 8) & 0xff;
  });
  return b;
}

/** 8-byte LE header length + header text + data, exactly as given (for malformed-file tests). */
function rawFile(headerText: string, data: Uint8Array, declaredLen?: number): Uint8Array {
  const h = new TextEncoder().encode(headerText);
  const out = new Uint8Array(8 + h.length + data.length);
  const len = declaredLen ?? h.length;
  out[0] = len & 0xff;
  out[1] = (len >>> 8) & 0xff;
  out[2] = (len >>> 16) & 0xff;
  out[3] = (len >>> 24) & 0xff;
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

interface Entry {
  name: string;
  dtype: string;
  shape: number[];
  bytes: Uint8Array;
}

/** Tensors laid out back to back in the given order; header padded with spaces to 8 bytes. */
function buildFile(entries: Entry[], metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let off = 0;
  for (const e of entries) {
    header[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [off, off + e.bytes.length] };
    off += e.bytes.length;
  }
  let text = JSON.stringify(header);
  while ((8 + text.length) % 8 !== 0) text += ' ';
  const data = new Uint8Array(off);
  off = 0;
  for (const e of entries) {
    data.set(e.bytes, off);
    off += e.bytes.length;
  }
  return rawFile(text, data);
}

// ---------------------------------------------------------------------------------------------
// Bitstream
// ---------------------------------------------------------------------------------------------

describe('unpackBits', () => {
  it('decodes the §2.2 golden v1 sym qzeros words', () => {
    // 2-bit: 0x55555555 = 01 01 … → sixteen 1s
    expect([...unpackBits(Uint32Array.of(0x55555555), 2, 16)]).toEqual(new Array(16).fill(1));
    // 4-bit: 0x77777777 → eight 7s
    expect([...unpackBits(Uint32Array.of(0x77777777), 4, 8)]).toEqual(new Array(8).fill(7));
    expect(0x77777777).toBe(2004318071);
    // 8-bit: 0x7F7F7F7F → four 127s
    expect([...unpackBits(Uint32Array.of(0x7f7f7f7f), 8, 4)]).toEqual([127, 127, 127, 127]);
    // 3-bit: three words → 32 values of 3
    const w3 = Uint32Array.of(0xdb6db6db, 0xb6db6db6, 0x6db6db6d);
    expect([...unpackBits(w3, 3, 32)]).toEqual(new Array(32).fill(3));
  });

  it('reads values least-significant first, in order', () => {
    expect([...unpackBits(Uint32Array.of(0x76543210), 4, 8)]).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect([...unpackBits(Uint32Array.of(0x04030201), 8, 4)]).toEqual([1, 2, 3, 4]);
    // 0xE4 = 0b11_10_01_00
    expect([...unpackBits(Uint32Array.of(0xe4), 2, 4)]).toEqual([0, 1, 2, 3]);
    // the top bit of a word is an ordinary bit (unsigned)
    expect([...unpackBits(Uint32Array.of(0x80000000), 4, 8)]).toEqual([0, 0, 0, 0, 0, 0, 0, 8]);
    // a prefix of the stream may be read
    expect([...unpackBits(Uint32Array.of(0x76543210, 0xfedcba98), 4, 3)]).toEqual([0, 1, 2]);
  });

  it('3-bit hand-worked example: value k = k mod 8, 32 values in 3 words', () => {
    // The stream has period 24 bits (8 values × 3). Value k occupies stream bits [3k, 3k+3).
    //
    // Word 0 (stream bits 0..31): values 0..9 at offsets 0,3,…,27:
    //   v1=1@3 → bit 3; v2=2(010)@6 → bit 7; v3=3(011)@9 → bits 9,10; v4=4(100)@12 → bit 14;
    //   v5=5(101)@15 → bits 15,17; v6=6(110)@18 → bits 19,20; v7=7@21 → bits 21,22,23;
    //   v8=0@24; v9=1@27 → bit 27;
    //   value 10 = 2 (010) straddles: its bits 0,1 go to word-0 bits 30,31 → bit 31 set.
    //   Nibbles (low→high): 8, 8, 6, C, A, F, 8, 8  → 0x88FAC688
    // Word 1 (stream bits 32..63):
    //   bit 0 = bit 2 of value 10 (=2) → 0;
    //   v11=3@1 → 1,2; v12=4@4 → 6; v13=5@7 → 7,9; v14=6@10 → 11,12; v15=7@13 → 13,14,15;
    //   v16=0@16; v17=1@19 → 19; v18=2@22 → 23; v19=3@25 → 25,26; v20=4@28 → 30;
    //   value 21 = 5 (101) straddles: its bit 0 (=1) goes to word-1 bit 31.
    //   Nibbles: 6, C, A, F, 8, 8, 6, C  → 0xC688FAC6
    // Word 2 (stream bits 64..95):
    //   bits 0,1 = bits 1,2 of value 21 (=5 → 0,1) → bit 1 set;
    //   v22=6@2 → 3,4; v23=7@5 → 5,6,7; v24=0@8; v25=1@11 → 11; v26=2@14 → 15;
    //   v27=3@17 → 17,18; v28=4@20 → 22; v29=5@23 → 23,25; v30=6@26 → 27,28; v31=7@29 → 29,30,31.
    //   Nibbles: A, F, 8, 8, 6, C, A, F  → 0xFAC688FA
    // Cross-check: the 24-bit period is P = 0xFAC688; word0 = P | P<<24, word1 starts 8 bits into
    // P, word2 16 bits into P — consistent with the three words above.
    const words = Uint32Array.of(0x88fac688, 0xc688fac6, 0xfac688fa);
    const got = unpackBits(words, 3, 32);
    expect([...got]).toEqual(Array.from({ length: 32 }, (_, k) => k % 8));
    expect(got[10]).toBe(2);
    expect(got[21]).toBe(5);
  });

  it('3-bit straddling values 10 and 21 in isolation', () => {
    // Only value 10 = 7 (111): stream bits 30,31,32 → word0 bits 30,31 and word1 bit 0.
    expect([...unpackBits(Uint32Array.of(0xc0000000, 0x00000001, 0), 3, 32)]).toEqual(
      Array.from({ length: 32 }, (_, k) => (k === 10 ? 7 : 0)),
    );
    // Only value 21 = 7: stream bits 63,64,65 → word1 bit 31, word2 bits 0,1.
    expect([...unpackBits(Uint32Array.of(0, 0x80000000, 0x00000003), 3, 32)]).toEqual(
      Array.from({ length: 32 }, (_, k) => (k === 21 ? 7 : 0)),
    );
    // Only value 21 = 6 (110): bit 0 = 0 → word1 bit 31 clear; bits 1,2 → word2 bits 0,1.
    expect(unpackBits(Uint32Array.of(0, 0, 0x00000003), 3, 32)[21]).toBe(6);
    // Only value 10 = 4 (100): bits 0,1 clear; bit 2 → word1 bit 0.
    expect(unpackBits(Uint32Array.of(0, 0x00000001, 0), 3, 32)[10]).toBe(4);
    // Second block of 32 (words 3..5): value 42 (= 32 + 10) = 7 straddles words 3 and 4.
    const six = Uint32Array.of(0, 0, 0, 0xc0000000, 0x00000001, 0);
    const got = unpackBits(six, 3, 64);
    expect(got[42]).toBe(7);
    expect([...got].reduce((a, b) => a + b, 0)).toBe(7);
  });

  it('rejects reading past the end and bad arguments', () => {
    expect(() => unpackBits(Uint32Array.of(0), 4, 9)).toThrow();
    expect(() => unpackBits(Uint32Array.of(0, 0), 3, 22)).toThrow();
    expect(() => unpackBits(Uint32Array.of(0), 5 as 4, 1)).toThrow();
    expect(() => unpackBits(Uint32Array.of(0), 4, -1)).toThrow();
  });
});

// ---------------------------------------------------------------------------------------------
// Half / bfloat16
// ---------------------------------------------------------------------------------------------

describe('f16ToF32 / bf16ToF32', () => {
  it('decodes the F16 table', () => {
    expect(f16ToF32(0x3c00)).toBe(1);
    expect(f16ToF32(0xc000)).toBe(-2);
    expect(f16ToF32(0x0001)).toBe(2 ** -24); // smallest subnormal
    expect(f16ToF32(0x03ff)).toBe(1023 * 2 ** -24); // largest subnormal
    expect(f16ToF32(0x0400)).toBe(2 ** -14); // smallest normal
    expect(f16ToF32(0x7c00)).toBe(Infinity);
    expect(f16ToF32(0xfc00)).toBe(-Infinity);
    expect(f16ToF32(0x7bff)).toBe(65504);
    expect(f16ToF32(0x7e00)).toBeNaN();
    expect(f16ToF32(0x7c01)).toBeNaN();
    expect(Object.is(f16ToF32(0x8000), -0)).toBe(true);
    expect(f16ToF32(0x0000)).toBe(0);
    expect(f16ToF32(0x3555)).toBe(1365 / 4096); // 0.333251953125
    expect(f16ToF32(0x3800)).toBe(0.5);
    expect(f16ToF32(0x4200)).toBe(3);
  });

  it('decodes BF16', () => {
    expect(bf16ToF32(0x3f80)).toBe(1);
    expect(bf16ToF32(0xc000)).toBe(-2);
    expect(bf16ToF32(0xc040)).toBe(-3);
    expect(bf16ToF32(0x0001)).toBe(2 ** -133); // smallest subnormal
    expect(bf16ToF32(0x0080)).toBe(2 ** -126); // smallest normal
    expect(bf16ToF32(0x7f7f)).toBe((2 - 2 ** -7) * 2 ** 127); // largest finite
    expect(bf16ToF32(0x7f80)).toBe(Infinity);
    expect(bf16ToF32(0xff80)).toBe(-Infinity);
    expect(bf16ToF32(0x7fc0)).toBeNaN();
    expect(Object.is(bf16ToF32(0x8000), -0)).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// safetensors
// ---------------------------------------------------------------------------------------------

describe('parseSafetensors', () => {
  it('parses tensors and __metadata__', () => {
    const file = buildFile(
      [
        { name: 'a', dtype: 'F16', shape: [2], bytes: u16le([0x3c00, 0xc000]) },
        { name: 'b', dtype: 'I32', shape: [1, 2], bytes: u32le([7, 0xffffffff]) },
        { name: 'empty', dtype: 'F32', shape: [0, 3], bytes: new Uint8Array(0) },
      ],
      { format: 'pt' },
    );
    const t = parseSafetensors(file);
    expect(t.metadata).toEqual({ format: 'pt' });
    expect([...t.keys()].sort()).toEqual(['a', 'b', 'empty']);
    expect(t.get('a')).toEqual({ dtype: 'F16', shape: [2], data: Uint8Array.of(0x00, 0x3c, 0x00, 0xc0) });
    expect(t.get('b')!.shape).toEqual([1, 2]);
    expect([...t.get('b')!.data]).toEqual([7, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
    expect(t.get('empty')!.data.length).toBe(0);
  });

  it('accepts offsets in any header order and no metadata', () => {
    const header = '{"y":{"dtype":"U8","shape":[1],"data_offsets":[1,2]},"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}';
    const t = parseSafetensors(rawFile(header, Uint8Array.of(10, 20)));
    expect(t.metadata).toBeNull();
    expect([...t.get('x')!.data]).toEqual([10]);
    expect([...t.get('y')!.data]).toEqual([20]);
  });

  it('rejects malformed files', () => {
    const ok = '{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
    const data8 = new Uint8Array(8);
    expect(() => parseSafetensors(rawFile(ok, data8))).not.toThrow();
    expect(() => parseSafetensors(new Uint8Array(4))).toThrow(/too short/);
    expect(() => parseSafetensors(rawFile(ok, data8, 10_000))).toThrow(/exceeds/);
    // end beyond the buffer
    expect(() => parseSafetensors(rawFile(ok, new Uint8Array(4)))).toThrow(/out of range/);
    // size ≠ product(shape)·sizeof
    expect(() => parseSafetensors(rawFile('{"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', data8))).toThrow(/expected 12/);
    // begin > end
    expect(() => parseSafetensors(rawFile('{"x":{"dtype":"U8","shape":[0],"data_offsets":[8,0]}}', data8))).toThrow();
    // hole before a tensor
    expect(() => parseSafetensors(rawFile('{"x":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', data8))).toThrow(/hole/);
    // trailing bytes
    expect(() => parseSafetensors(rawFile('{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', data8))).toThrow(/trailing/);
    // overlap
    expect(() =>
      parseSafetensors(
        rawFile(
          '{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"y":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}',
          data8,
        ),
      ),
    ).toThrow(/overlaps/);
    // unknown dtype, extra key, bad shape, non-string metadata, not JSON, not an object
    expect(() => parseSafetensors(rawFile('{"x":{"dtype":"F12","shape":[2],"data_offsets":[0,8]}}', data8))).toThrow(/dtype/);
    expect(() =>
      parseSafetensors(rawFile('{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"extra":1}}', data8)),
    ).toThrow(/exactly/);
    expect(() => parseSafetensors(rawFile('{"x":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}', data8))).toThrow(/shape/);
    expect(() => parseSafetensors(rawFile('{"x":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}}', data8))).toThrow(/shape/);
    expect(() =>
      parseSafetensors(rawFile('{"__metadata__":{"n":1},"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', data8)),
    ).toThrow(/__metadata__/);
    expect(() => parseSafetensors(rawFile('{"x":', data8))).toThrow(/JSON/);
    expect(() => parseSafetensors(rawFile('[1]', new Uint8Array(0)))).toThrow();
  });
});

// ---------------------------------------------------------------------------------------------
// Full checkpoints
// ---------------------------------------------------------------------------------------------

const P = 'model.layers.0.self_attn.q_proj';
// 4-bit layer: K = 16, N = 8, group_size 8 → G = 2; qweight [16·4/32 = 2, 8], qzeros [2, 8·4/32 = 1].
// Codes q[k, n] = (k + n) mod 16. Column n of qweight is the 4-bit stream q[0..15, n], nibble j of
// word r = q[8r + j, n]; written high nibble first:
//   n=0: r0 = 0x76543210 (values 0..7),  r1 = 0xFEDCBA98 (8..15)
//   n=1: r0 = 0x87654321 (1..8),          r1 = 0x0FEDCBA9 (9..15, 0)
//   n=2: 0x98765432 / 0x10FEDCBA   n=3: 0xA9876543 / 0x210FEDCB   n=4: 0xBA987654 / 0x3210FEDC
//   n=5: 0xCBA98765 / 0x43210FED   n=6: 0xDCBA9876 / 0x543210FE   n=7: 0xEDCBA987 / 0x6543210F
// qweight is stored row-major [r, n].
const QWEIGHT_ROW0 = [0x76543210, 0x87654321, 0x98765432, 0xa9876543, 0xba987654, 0xcba98765, 0xdcba9876, 0xedcba987];
const QWEIGHT_ROW1 = [0xfedcba98, 0x0fedcba9, 0x10fedcba, 0x210fedcb, 0x3210fedc, 0x43210fed, 0x543210fe, 0x6543210f];
// scales group 0: [0.5, 1, 2, 0.25, 1.5, 0.125, 3, 0.75]; group 1: all 0x3555 = 1365/4096.
const SCALES_G0 = [0x3800, 0x3c00, 0x4000, 0x3400, 0x3e00, 0x3000, 0x4200, 0x3a00];
const S1 = 1365 / 4096;
const SCALES_G1 = new Array(8).fill(0x3555);
const BIAS = [0x3c00, 0xc000, 0, 0, 0, 0, 0, 0x3800]; // [1, -2, 0, 0, 0, 0, 0, 0.5]
const TRIVIAL_GIDX = Array.from({ length: 16 }, (_, k) => Math.floor(k / 8));

function quantConfig(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    bits: 4,
    group_size: 8,
    desc_act: false,
    sym: true,
    quant_method: 'gptq',
    checkpoint_format: 'gptq',
    format: 'gptq',
    pack_dtype: 'int32',
    ...over,
  };
}

function layerEntries(
  o: { qzeros?: number[]; gIdx?: number[]; qzerosShape?: number[]; scalesDtype?: string; prefix?: string } = {},
): Entry[] {
  const p = o.prefix ?? P;
  const scalesBytes =
    o.scalesDtype === 'F32'
      ? u32le([...SCALES_G0, ...SCALES_G1].map(() => 0x3f800000))
      : u16le([...SCALES_G0, ...SCALES_G1]);
  return [
    { name: `${p}.qweight`, dtype: 'I32', shape: [2, 8], bytes: u32le([...QWEIGHT_ROW0, ...QWEIGHT_ROW1]) },
    { name: `${p}.qzeros`, dtype: 'I32', shape: o.qzerosShape ?? [2, 1], bytes: u32le(o.qzeros ?? [0x77777777, 0x77777777]) },
    { name: `${p}.scales`, dtype: o.scalesDtype ?? 'F16', shape: [2, 8], bytes: scalesBytes },
    { name: `${p}.g_idx`, dtype: 'I32', shape: [16], bytes: u32le(o.gIdx ?? TRIVIAL_GIDX) },
    { name: `${p}.bias`, dtype: 'F16', shape: [8], bytes: u16le(BIAS) },
  ];
}

const OTHER_ENTRIES: Entry[] = [
  { name: 'model.embed_tokens.weight', dtype: 'F16', shape: [2, 2], bytes: u16le([0x3c00, 0xc000, 0x0001, 0x7bff]) },
  { name: 'model.norm.weight', dtype: 'F32', shape: [2], bytes: u32le([0x3fc00000, 0x80000000]) }, // [1.5, -0]
  { name: 'lm_head.weight', dtype: 'BF16', shape: [1, 2], bytes: u16le([0x3f80, 0xc040]) }, // [1, -3]
];

function files(
  qc: Record<string, unknown>,
  entries: Entry[],
  quantizeConfig: Record<string, unknown> | null = qc,
): GptqCheckpointFiles {
  const f: GptqCheckpointFiles = {
    'model.safetensors': buildFile(entries, { format: 'pt' }),
    'config.json': JSON.stringify({ model_type: 'llama', quantization_config: qc }),
  };
  if (quantizeConfig) f['quantize_config.json'] = JSON.stringify(quantizeConfig);
  return f;
}

describe('readGptqCheckpoint', () => {
  it('reads a hand-made 4-bit v1 sym checkpoint (K=16, N=8, group 8)', () => {
    const ck = readGptqCheckpoint(files(quantConfig(), [...OTHER_ENTRIES, ...layerEntries()]));
    expect(ck.quant).toEqual({ bits: 4, groupSize: 8, sym: true, descAct: false, checkpointFormat: 'gptq' });
    expect(ck.metadata).toEqual({ format: 'pt' });
    expect([...ck.layers.keys()]).toEqual([P]);
    const L = ck.layers.get(P)!;
    expect(L.inFeatures).toBe(16);
    expect(L.outFeatures).toBe(8);
    // codes [N, K]
    for (let n = 0; n < 8; n++) for (let k = 0; k < 16; k++) expect(L.codes[n * 16 + k]).toBe((k + n) % 16);
    // v1: stored 7 (0x77777777) → true zero 8
    expect([...L.zeros]).toEqual(new Array(16).fill(8));
    expect([...L.scales.subarray(0, 8)]).toEqual([0.5, 1, 2, 0.25, 1.5, 0.125, 3, 0.75]);
    expect([...L.scales.subarray(8)]).toEqual(new Array(8).fill(S1));
    expect([...L.gIdx]).toEqual(TRIVIAL_GIDX);
    // W[n, k] = scale[g, n] · (q − 8), worked by hand:
    const W = (n: number, k: number) => L.W[n * 16 + k];
    expect(W(0, 0)).toBe(-4); // q=0, s=0.5
    expect(W(2, 5)).toBe(-2); // q=7, s=2
    expect(W(6, 3)).toBe(3); // q=9, s=3
    expect(W(4, 7)).toBe(4.5); // q=11, s=1.5
    expect(W(5, 2)).toBe(-0.125); // q=7, s=0.125
    expect(W(0, 8)).toBe(0); // q=8, group 1
    expect(W(7, 15)).toBe(-0.66650390625); // q=6, s=1365/4096 → −2·1365/4096
    expect(W(3, 9)).toBe(1.3330078125); // q=12 → 4·1365/4096
    expect(W(1, 15)).toBe(-2.666015625); // q=0 → −8·1365/4096
    expect([...L.bias!]).toEqual([1, -2, 0, 0, 0, 0, 0, 0.5]);
    // others
    expect([...ck.others.keys()].sort()).toEqual(['lm_head.weight', 'model.embed_tokens.weight', 'model.norm.weight']);
    const emb = ck.others.get('model.embed_tokens.weight')!;
    expect(emb.dtype).toBe('F16');
    expect(emb.shape).toEqual([2, 2]);
    expect([...emb.values]).toEqual([1, -2, Math.fround(2 ** -24), 65504]);
    const norm = ck.others.get('model.norm.weight')!.values;
    expect(norm[0]).toBe(1.5);
    expect(Object.is(norm[1], -0)).toBe(true);
    expect([...ck.others.get('lm_head.weight')!.values]).toEqual([1, -3]);
  });

  it('gptq_v2 stores the true zero (no +1)', () => {
    // same words, v2 → zeros 7 (asym, otherwise the sym check fires)
    const qc = quantConfig({ sym: false, checkpoint_format: 'gptq_v2', format: 'gptq_v2' });
    const L = readGptqCheckpoint(files(qc, layerEntries())).layers.get(P)!;
    expect([...L.zeros]).toEqual(new Array(16).fill(7));
    expect(L.W[0]).toBe(-3.5); // 0.5 · (0 − 7)
    // v2 sym: stored 8 in every nibble
    const qc2 = quantConfig({ checkpoint_format: 'gptq_v2', format: undefined });
    const L2 = readGptqCheckpoint(files(qc2, layerEntries({ qzeros: [0x88888888, 0x88888888] }))).layers.get(P)!;
    expect([...L2.zeros]).toEqual(new Array(16).fill(8));
    expect(L2.W[0]).toBe(-4);
    // `format` alone is accepted too
    const qc3 = quantConfig({ checkpoint_format: undefined, format: 'gptq_v2' });
    expect(readGptqCheckpoint(files(qc3, layerEntries({ qzeros: [0x88888888, 0x88888888] }))).quant.checkpointFormat).toBe('gptq_v2');
    // neither → gptq
    const qc4 = quantConfig({ checkpoint_format: undefined, format: undefined });
    expect(readGptqCheckpoint(files(qc4, layerEntries())).quant.checkpointFormat).toBe('gptq');
  });

  it('v1 asym adds 1 to each field with no wrap-around (stored 15 → zero 16)', () => {
    // group 0 stored nibbles n=0..7: [0, 9, 10, 11, 12, 13, 14, 15] → 0xFEDCBA90; group 1 all 0.
    const qc = quantConfig({ sym: false });
    const L = readGptqCheckpoint(files(qc, layerEntries({ qzeros: [0xfedcba90, 0x00000000] }))).layers.get(P)!;
    expect([...L.zeros.subarray(0, 8)]).toEqual([1, 10, 11, 12, 13, 14, 15, 16]);
    expect([...L.zeros.subarray(8)]).toEqual(new Array(8).fill(1));
    expect(L.W[7 * 16 + 0]).toBe(-6.75); // n=7, k=0: q=7, s=0.75, z=16 → 0.75·(−9)
    expect(L.W[0]).toBe(-0.5); // n=0, k=0: q=0, s=0.5, z=1
    expect(L.W[1 * 16 + 8]).toBe(8 * S1); // n=1, k=8: q=9, z=1, group 1
  });

  it('uses g_idx (desc_act) to pick each column’s group', () => {
    const gIdx = Array.from({ length: 16 }, (_, k) => k % 2);
    const L = readGptqCheckpoint(files(quantConfig({ desc_act: true }), layerEntries({ gIdx }))).layers.get(P)!;
    expect([...L.gIdx]).toEqual(gIdx);
    expect(L.W[0 * 16 + 1]).toBe(-7 * S1); // q=1, group 1
    expect(L.W[0 * 16 + 8]).toBe(0); // q=8, group 0
    expect(L.W[2 * 16 + 4]).toBe(-4); // q=6, group 0, s=2
    expect(L.W[2 * 16 + 5]).toBe(-S1); // q=7, group 1
    // same g_idx with desc_act false: loaders would ignore it → rejected
    expect(() => readGptqCheckpoint(files(quantConfig(), layerEntries({ gIdx })))).toThrow(/desc_act is false/);
    // wrong group populations under desc_act
    const lopsided = [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1];
    expect(() => readGptqCheckpoint(files(quantConfig({ desc_act: true }), layerEntries({ gIdx: lopsided })))).toThrow(/group 0 has 9/);
    expect(() =>
      readGptqCheckpoint(files(quantConfig({ desc_act: true }), layerEntries({ gIdx: lopsided })), { checkGroupCounts: false }),
    ).not.toThrow();
  });

  it('reads a 3-bit layer (K=32, N=32, one group) with the hand-worked words', () => {
    // qweight [32·3/32 = 3, 32]: every column is the k mod 8 stream from the unpackBits test.
    // qzeros [1, 32·3/32 = 3]: golden v1 sym 3-bit words → stored 3 → zero 4. scales all 1.
    const col = [0x88fac688, 0xc688fac6, 0xfac688fa];
    const qweight = col.flatMap((w) => new Array(32).fill(w));
    const entries: Entry[] = [
      { name: 'model.layers.1.mlp.up_proj.qweight', dtype: 'I32', shape: [3, 32], bytes: u32le(qweight) },
      { name: 'model.layers.1.mlp.up_proj.qzeros', dtype: 'I32', shape: [1, 3], bytes: u32le([0xdb6db6db, 0xb6db6db6, 0x6db6db6d]) },
      { name: 'model.layers.1.mlp.up_proj.scales', dtype: 'F16', shape: [1, 32], bytes: u16le(new Array(32).fill(0x3c00)) },
      { name: 'model.layers.1.mlp.up_proj.g_idx', dtype: 'I32', shape: [32], bytes: u32le(new Array(32).fill(0)) },
    ];
    for (const gs of [32, -1]) {
      const ck = readGptqCheckpoint(files(quantConfig({ bits: 3, group_size: gs }), entries));
      const L = ck.layers.get('model.layers.1.mlp.up_proj')!;
      expect(L.inFeatures).toBe(32);
      expect(L.outFeatures).toBe(32);
      expect(L.bias).toBeUndefined();
      expect([...L.zeros]).toEqual(new Array(32).fill(4));
      for (let n = 0; n < 32; n++) for (let k = 0; k < 32; k++) expect(L.W[n * 32 + k]).toBe((k % 8) - 4);
      expect(L.codes[5 * 32 + 10]).toBe(2);
      expect(L.codes[5 * 32 + 21]).toBe(5);
      expect(ck.others.size).toBe(0);
    }
  });

  it('validates config files', () => {
    const ent = layerEntries();
    expect(() => readGptqCheckpoint(files(quantConfig({ bits: 5 }), ent))).toThrow(/bits/);
    expect(() => readGptqCheckpoint(files(quantConfig({ group_size: 0 }), ent))).toThrow(/group_size/);
    expect(() => readGptqCheckpoint(files(quantConfig({ desc_act: undefined }), ent))).toThrow(/desc_act/);
    expect(() => readGptqCheckpoint(files(quantConfig({ quant_method: 'awq' }), ent))).toThrow(/quant_method/);
    expect(() => readGptqCheckpoint(files(quantConfig({ format: 'gptq_v2' }), ent))).toThrow(/disagrees/);
    expect(() => readGptqCheckpoint(files(quantConfig({ checkpoint_format: 'marlin', format: undefined }), ent))).toThrow(/marlin/);
    expect(() => readGptqCheckpoint(files(quantConfig(), ent, quantConfig({ bits: 8 })))).toThrow(/disagrees.*bits/);
    expect(() => readGptqCheckpoint(files(quantConfig(), ent, quantConfig({ desc_act: true })))).toThrow(/descAct/);
    // quantize_config.json is optional; without quant_method it is still fine
    expect(() => readGptqCheckpoint(files(quantConfig(), ent, null))).not.toThrow();
    expect(() => readGptqCheckpoint(files(quantConfig(), ent, quantConfig({ quant_method: undefined })))).not.toThrow();
    // missing sym defaults to true (AutoGPTQ)
    expect(readGptqCheckpoint(files(quantConfig({ sym: undefined }), ent, null)).quant.sym).toBe(true);
    const noQc: GptqCheckpointFiles = { 'model.safetensors': buildFile(ent), 'config.json': '{"model_type":"llama"}' };
    expect(() => readGptqCheckpoint(noQc)).toThrow(/quantization_config/);
  });

  it('validates layer tensors', () => {
    const qc = quantConfig();
    expect(() => readGptqCheckpoint(files(qc, layerEntries({ qzerosShape: [1, 2] })))).toThrow(/qzeros: shape/);
    expect(() => readGptqCheckpoint(files(qc, layerEntries({ scalesDtype: 'F32' })))).toThrow(/scales: dtype F32/);
    expect(() => readGptqCheckpoint(files(qc, layerEntries().filter((e) => !e.name.endsWith('g_idx'))))).toThrow(/g_idx: missing/);
    expect(() => readGptqCheckpoint(files(qc, layerEntries().filter((e) => !e.name.endsWith('qzeros'))))).toThrow(/qzeros: missing/);
    // group_size 4 ⇒ G = 4, but the tensors have G = 2
    expect(() => readGptqCheckpoint(files(quantConfig({ group_size: 4 }), layerEntries()))).toThrow(/shape/);
    // g_idx out of [0, G)
    const bad = [...TRIVIAL_GIDX];
    bad[3] = 2;
    expect(() => readGptqCheckpoint(files(quantConfig({ desc_act: true }), layerEntries({ gIdx: bad })))).toThrow(/out of \[0, 2\)/);
    bad[3] = -1;
    expect(() => readGptqCheckpoint(files(quantConfig({ desc_act: true }), layerEntries({ gIdx: bad })))).toThrow(/out of/);
    // sym but a zero is not 2^(bits-1)
    expect(() => readGptqCheckpoint(files(qc, layerEntries({ qzeros: [0x77777777, 0x77777776] })))).toThrow(/sym/);
    expect(() =>
      readGptqCheckpoint(files(qc, layerEntries({ qzeros: [0x77777777, 0x77777776] })), { checkSymZeros: false }),
    ).not.toThrow();
    // bias of the wrong length
    const badBias = layerEntries().map((e) =>
      e.name.endsWith('.bias') ? { ...e, shape: [4], bytes: u16le([0, 0, 0, 0]) } : e,
    );
    expect(() => readGptqCheckpoint(files(qc, badBias))).toThrow(/bias/);
    // a plain weight next to the qweight
    const dup: Entry = { name: `${P}.weight`, dtype: 'F16', shape: [1], bytes: u16le([0]) };
    expect(() => readGptqCheckpoint(files(qc, [...layerEntries(), dup]))).toThrow(/both/);
    // orphan scales
    const orphan: Entry = { name: 'model.layers.3.mlp.down_proj.scales', dtype: 'F16', shape: [1], bytes: u16le([0]) };
    expect(() => readGptqCheckpoint(files(qc, [...layerEntries(), orphan]))).toThrow(/no matching qweight/);
    // non-float other tensor
    const ids: Entry = { name: 'position_ids', dtype: 'I64', shape: [1], bytes: new Uint8Array(8) };
    expect(() => readGptqCheckpoint(files(qc, [...layerEntries(), ids]))).toThrow(/floating-point/);
    // qweight rows not a whole number of 3-bit blocks
    const q3: Entry[] = [{ name: `${P}.qweight`, dtype: 'I32', shape: [2, 32], bytes: u32le(new Array(64).fill(0)) }];
    expect(() => readGptqCheckpoint(files(quantConfig({ bits: 3 }), q3))).toThrow(/multiple of 3/);
  });
});
