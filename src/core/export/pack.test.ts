import { describe, expect, it } from 'vitest';
import { packQweight, packQzeros, unpackQweight, unpackQzeros, packedLength, PACKABLE_BITS } from './pack';
import { packLinear, storedZeros, unpackLinear, isTrivialGroupIndex } from './gptq-linear';
import { rtnReference } from '../rtn';
import { gptqReference } from '../gptq-reference';
import { seededRandom } from '../random';
import { randomMatrix, randomSpd } from '../../testing/random';
import { halfToFloat, floatToHalf } from '../model/float-convert';
import { readGptqCheckpoint, unpackBits } from '../../testing/gptq-checkpoint-reader';

const hex = (words: ArrayLike<number>) => Array.from(words, (w) => `0x${(w >>> 0).toString(16).toUpperCase().padStart(8, '0')}`);

describe('GPTQ packing', () => {
  it('symmetric grids pack the golden v1 qzeros words (stored zero − 1)', () => {
    const golden: Record<number, string[]> = {
      2: ['0x55555555'],
      3: ['0xDB6DB6DB', '0xB6DB6DB6', '0x6DB6DB6D'],
      4: ['0x77777777'],
      8: ['0x7F7F7F7F'],
    };
    const rand = seededRandom(3);
    for (const bits of PACKABLE_BITS) {
      const N = 32;
      const K = 64;
      const r = rtnReference(randomMatrix(N, K, rand), N, K, { bits, groupSize: 32, sym: true });
      const p = packLinear(r, bits, 'gptq');
      const perRow = packedLength(N, bits);
      expect(p.qzeros.length).toBe(2 * perRow);
      const words = hex(p.qzeros);
      const expected = Array.from({ length: 2 * perRow }, (_, i) => golden[bits][i % golden[bits].length]);
      expect(words).toEqual(expected);
    }
  });

  it('packs a 3-bit run into the 10|1|10|1|10 layout worked out by hand', () => {
    // Codes q[k] = k mod 8 for k = 0..31 of one output column (N = 1): three words.
    // 0..7 at 3 bits each are the octal digits 76543210 = 0xFAC688 (bits 0–23).
    // Word 0: values 0..9 at bit offsets 0..27: 0xFAC688 | 0<<24 | 1<<27 = 0x08FAC688; value 10 (= 2,
    //   binary 010) puts its low two bits (10b) at bits 30–31: 0x80000000. Word 0 = 0x88FAC688.
    // Word 1: bit 2 of value 10 (0) at bit 0; values 11..20 (3,4,5,6,7,0,1,2,3,4) at 1,4,…,28:
    //   3<<1 | 4<<4 | 5<<7 | 6<<10 | 7<<13 | 0<<16 | 1<<19 | 2<<22 | 3<<25 | 4<<28 = 0x4688FAC6;
    //   bit 0 of value 21 (= 5, binary 101) at bit 31: 0x80000000. Word 1 = 0xC688FAC6.
    // Word 2: bits 1–2 of value 21 (10b = 2) at bits 0–1; values 22..31 (6,7,0,1,2,3,4,5,6,7) at 2,5,…,29:
    //   2 | 6<<2 | 7<<5 | 0<<8 | 1<<11 | 2<<14 | 3<<17 | 4<<20 | 5<<23 | 6<<26 | 7<<29 = 0xFAC688FA.
    const K = 32;
    const codes = Uint8Array.from({ length: K }, (_, k) => k % 8);
    const words = packQweight(codes, 1, K, 3);
    expect(hex(words)).toEqual(['0x88FAC688', '0xC688FAC6', '0xFAC688FA']);
    expect(Array.from(unpackQweight(words, 1, K, 3))).toEqual(Array.from(codes));
  });

  it('packs 2/4/8 bits with value j of a word at bits [bits·j, bits·(j+1))', () => {
    expect(hex(packQweight(Uint8Array.from([1, 2, 3, 0, 3, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 3]), 1, 16, 2))).toEqual(['0xC0001B39']);
    expect(hex(packQweight(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 15]), 1, 8, 4))).toEqual(['0xF7654321']);
    expect(hex(packQweight(Uint8Array.from([0x12, 0x34, 0x56, 0xff]), 1, 4, 8))).toEqual(['0xFF563412']);
  });

  it('qweight runs down the input dimension, one column per output feature', () => {
    // N = 2 outputs, K = 8 inputs, 4 bits: qweight is [1, 2], word n holds row n of the codes.
    const codes = Uint8Array.from([1, 1, 1, 1, 1, 1, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(hex(packQweight(codes, 2, 8, 4))).toEqual(['0x11111111', '0x98765432']);
  });

  it('round-trips random codes and zeros for every width, and agrees with an independent bit-stream reader', () => {
    const rand = seededRandom(11);
    for (const bits of PACKABLE_BITS) {
      const N = 64;
      const K = 96;
      const G = 3;
      const codes = Uint8Array.from({ length: N * K }, () => Math.floor(rand() * 2 ** bits));
      const zeros = Uint8Array.from({ length: G * N }, () => Math.floor(rand() * 2 ** bits));
      const qweight = packQweight(codes, N, K, bits);
      const qzeros = packQzeros(zeros, G, N, bits);
      expect(unpackQweight(qweight, N, K, bits)).toEqual(codes);
      expect(unpackQzeros(qzeros, G, N, bits)).toEqual(zeros);
      // Column n of qweight as its own word run, read by the test-side reader.
      const rows = packedLength(K, bits);
      for (const n of [0, 17, N - 1]) {
        const column = Uint32Array.from({ length: rows }, (_, r) => qweight[r * N + n]);
        expect(Array.from(unpackBits(column, bits, K))).toEqual(Array.from(codes.subarray(n * K, (n + 1) * K)));
      }
      expect(Array.from(unpackBits(qzeros.subarray(0, packedLength(N, bits)), bits, N))).toEqual(Array.from(zeros.subarray(0, N)));
    }
  });

  it('refuses what would corrupt a word: codes out of range, v1 zeros of 0, partial words', () => {
    expect(() => packQweight(Uint8Array.from([16, 0, 0, 0, 0, 0, 0, 0]), 1, 8, 4)).toThrow(/does not fit in 4 bits/);
    expect(() => storedZeros(Uint8Array.from([3, 0]), 'gptq')).toThrow(/gptq_v2/);
    expect(Array.from(storedZeros(Uint8Array.from([3, 0]), 'gptq_v2'))).toEqual([3, 0]);
    expect(() => packQweight(new Uint8Array(12), 1, 12, 4)).toThrow(/whole 32-bit words/);
    expect(() => packQweight(new Uint8Array(16), 1, 16, 3)).toThrow(/multiple of 32/);
  });

  it('unpackLinear gives back the codes, zeros and F16 scales of GPTQ with act-order, asym, every width', () => {
    const rand = seededRandom(5);
    for (const bits of PACKABLE_BITS) {
      const N = 32;
      const K = 96;
      const W = randomMatrix(N, K, rand);
      const H = randomSpd(K, rand);
      const r = gptqReference(W, H, N, K, { bits, groupSize: 32, sym: false, actOrder: true });
      expect(isTrivialGroupIndex(r.gIdx, 32)).toBe(false);
      const back = unpackLinear(packLinear(r, bits, 'gptq_v2'), N, K, bits, 'gptq_v2');
      expect(back.codes).toEqual(r.codes);
      expect(Array.from(back.zeros)).toEqual(Array.from(r.zeros));
      for (let i = 0; i < r.scales.length; i++) expect(back.scales[i]).toBe(halfToFloat(floatToHalf(r.scales[i])));
      for (let n = 0; n < N; n++) {
        for (let k = 0; k < K; k++) {
          const g = r.gIdx[k];
          const s = halfToFloat(floatToHalf(r.scales[g * N + n]));
          expect(back.W[n * K + k]).toBe(Math.fround(s * (r.codes[n * K + k] - r.zeros[g * N + n])));
        }
      }
    }
  });
});

/** Minimal hand-assembled checkpoint holding one packed layer, for the independent reader. */
function oneLayerCheckpoint(r: ReturnType<typeof rtnReference>, bits: 2 | 3 | 4 | 8, format: 'gptq' | 'gptq_v2', groupSize: number, descAct: boolean) {
  const p = packLinear(r, bits, format);
  const tensors: [string, string, number[], Uint8Array][] = [
    ['model.layers.0.mlp.up_proj.qweight', 'I32', [(r.cols * bits) / 32, r.rows], new Uint8Array(p.qweight.buffer)],
    ['model.layers.0.mlp.up_proj.qzeros', 'I32', [r.groups, (r.rows * bits) / 32], new Uint8Array(p.qzeros.buffer)],
    ['model.layers.0.mlp.up_proj.scales', 'F16', [r.groups, r.rows], new Uint8Array(p.scales.buffer)],
    ['model.layers.0.mlp.up_proj.g_idx', 'I32', [r.cols], new Uint8Array(p.gIdx.buffer)],
  ];
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const [name, dtype, shape, bytes] of tensors) {
    header[name] = { dtype, shape, data_offsets: [offset, offset + bytes.length] };
    offset += bytes.length;
  }
  const h = new TextEncoder().encode(JSON.stringify(header));
  const file = new Uint8Array(8 + h.length + offset);
  new DataView(file.buffer).setUint32(0, h.length, true);
  file.set(h, 8);
  let at = 8 + h.length;
  for (const [, , , bytes] of tensors) {
    file.set(bytes, at);
    at += bytes.length;
  }
  const config = { quantization_config: { quant_method: 'gptq', bits, group_size: groupSize, sym: format === 'gptq', desc_act: descAct, checkpoint_format: format } };
  return { 'model.safetensors': file, 'config.json': JSON.stringify(config) };
}

describe('the packer against the independent reader (written from the format description alone)', () => {
  it('agrees on every width, symmetric (v1) and asymmetric (v2), with and without act-order', () => {
    const rand = seededRandom(21);
    for (const bits of PACKABLE_BITS) {
      for (const sym of [true, false]) {
        for (const actOrder of [false, true]) {
          const N = 64;
          const K = 128;
          const W = randomMatrix(N, K, rand);
          const r = gptqReference(W, randomSpd(K, rand), N, K, { bits, groupSize: 32, sym, actOrder });
          const format = sym ? 'gptq' : 'gptq_v2';
          const descAct = !isTrivialGroupIndex(r.gIdx, 32);
          expect(descAct).toBe(actOrder);
          const read = readGptqCheckpoint(oneLayerCheckpoint(r, bits, format, 32, descAct));
          const layer = read.layers.get('model.layers.0.mlp.up_proj')!;
          expect(layer.codes).toEqual(Uint32Array.from(r.codes));
          expect(Array.from(layer.zeros)).toEqual(Array.from(r.zeros));
          expect(Array.from(layer.gIdx)).toEqual(Array.from(r.gIdx));
          const mine = unpackLinear(packLinear(r, bits, format), N, K, bits, format);
          expect(layer.W).toEqual(mine.W);
        }
      }
    }
  });
});
