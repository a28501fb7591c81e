/**
 * GPTQ's int32 packing (docs: gptq-reference.md §2.2). A run of `bits`-wide values is one
 * little-endian bit stream: value i occupies bits [i·bits, (i+1)·bits), word r holds bits
 * [32r, 32r + 32). For 2/4/8 bits a value never crosses a word; for 3 bits values 10 and 21 of
 * every 32 straddle two words (the 10|1|10|1|10 layout), which the same rule gives.
 *
 *   qweight [K·bits/32, N]: column n's codes q[0..K−1, n] as one stream down the rows.
 *   qzeros  [G, N·bits/32]: group g's zero points along n as one stream across the row.
 */

/** Bit widths the GPTQ formats and their loaders take. */
export const PACKABLE_BITS = [2, 3, 4, 8] as const;
export type PackableBits = (typeof PACKABLE_BITS)[number];

export function isPackable(bits: number): bits is PackableBits {
  return (PACKABLE_BITS as readonly number[]).includes(bits);
}

/** Words needed for `count` values of `bits` bits; count·bits must be a multiple of 32. */
export function packedLength(count: number, bits: number): number {
  if ((count * bits) % 32 !== 0) {
    throw new RangeError(`${count} values of ${bits} bits do not fill whole 32-bit words (need a multiple of ${32 / gcd(32, bits)})`);
  }
  return (count * bits) / 32;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** ORs value v (below 2^bits) into the stream `words` at stream position i, word stride `stride`. */
function put(words: Uint32Array, base: number, stride: number, i: number, bits: number, v: number): void {
  const bit = i * bits;
  const r = bit >>> 5;
  const shift = bit & 31;
  words[base + r * stride] |= v << shift;
  if (shift + bits > 32) words[base + (r + 1) * stride] |= v >>> (32 - shift);
}

/** The value at stream position i. */
function get(words: Uint32Array, base: number, stride: number, i: number, bits: number): number {
  const bit = i * bits;
  const r = bit >>> 5;
  const shift = bit & 31;
  let v = words[base + r * stride] >>> shift;
  if (shift + bits > 32) v |= words[base + (r + 1) * stride] << (32 - shift);
  return v & ((1 << bits) - 1);
}

function checkValue(v: number, bits: number, what: string): void {
  if (!(v >= 0 && v < 2 ** bits && Number.isInteger(v))) {
    throw new RangeError(`${what} ${v} does not fit in ${bits} bits`);
  }
}

/** qweight [K·bits/32, N] from codes [N, K] (row n = output feature n, as the quantizer gives them). */
export function packQweight(codes: ArrayLike<number>, N: number, K: number, bits: PackableBits): Uint32Array {
  const rows = packedLength(K, bits);
  const words = new Uint32Array(rows * N);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      const q = codes[n * K + k];
      checkValue(q, bits, `code at [${n}, ${k}]`);
      put(words, n, N, k, bits, q);
    }
  }
  return words;
}

/** codes [N, K] from qweight [K·bits/32, N]. */
export function unpackQweight(words: Uint32Array, N: number, K: number, bits: PackableBits): Uint8Array {
  const codes = new Uint8Array(N * K);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) codes[n * K + k] = get(words, n, N, k, bits);
  }
  return codes;
}

/**
 * qzeros [G, N·bits/32] from zero points [G, N] as stored: the caller has already applied the
 * format's convention (v1 stores zero − 1, gptq_v2 the zero itself).
 */
export function packQzeros(stored: ArrayLike<number>, G: number, N: number, bits: PackableBits): Uint32Array {
  const cols = packedLength(N, bits);
  const words = new Uint32Array(G * cols);
  for (let g = 0; g < G; g++) {
    for (let n = 0; n < N; n++) {
      const z = stored[g * N + n];
      checkValue(z, bits, `stored zero point at [${g}, ${n}]`);
      put(words, g * cols, 1, n, bits, z);
    }
  }
  return words;
}

/** Stored zero points [G, N] from qzeros [G, N·bits/32]. */
export function unpackQzeros(words: Uint32Array, G: number, N: number, bits: PackableBits): Uint8Array {
  const cols = packedLength(N, bits);
  const out = new Uint8Array(G * N);
  for (let g = 0; g < G; g++) {
    for (let n = 0; n < N; n++) out[g * N + n] = get(words, g * cols, 1, n, bits);
  }
  return out;
}
