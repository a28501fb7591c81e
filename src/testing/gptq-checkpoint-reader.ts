/**
 * An INDEPENDENT reader / dequantizer of GPTQ checkpoints, for tests only.
 *
 * Written from the format description alone (docs/gptq-reference.md §2) and deliberately
 * sharing no code with the project's exporter (src/core/export/) or its safetensors reader
 * (src/core/model/safetensors.ts), so that it can check the exporter bit for bit.
 *
 * Format summary (per quantized linear at HF module path P; K = in, N = out features):
 *   P.qweight  I32 [K·bits/32, N]  column n = q[0..K-1, n] as one little-endian bitstream
 *   P.qzeros   I32 [G, N·bits/32]  row g = z'[g, 0..N-1] as one little-endian bitstream
 *   P.scales   F16 [G, N]
 *   P.g_idx    I32 [K]             group of each input column, in [0, G)
 *   P.bias     F16 [N]             optional
 * with G = ceil(K / group_size) (1 when group_size = -1); bits and group_size are the config's unless
 * a `dynamic` rule matching the module's name (from its start, first match) overrides them. The bitstream rule "value i occupies
 * bits [i·bits, (i+1)·bits), word r holds bits [32r, 32r+32)" covers 3-bit (10|1|10|1|10) too.
 * v1 (`gptq`) stores zero − 1 and readers add 1 after unpacking each field (no wrap-around, so a
 * stored field of 2^bits − 1 reads as 2^bits); v2 (`gptq_v2`) stores the true zero.
 * Dequant: W[n, k] = scales[g_idx[k], n] · (q[k, n] − zero[g_idx[k], n]).
 */

// ---------------------------------------------------------------------------------------------
// Little-endian byte helpers (explicit byte assembly: independent of host endianness)
// ---------------------------------------------------------------------------------------------

function u16At(b: Uint8Array, o: number): number {
  return b[o] | (b[o + 1] << 8);
}

function u32At(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}

// ---------------------------------------------------------------------------------------------
// Half / bfloat16 decoders
// ---------------------------------------------------------------------------------------------

/** IEEE-754 binary16 bit pattern → number (exact; subnormals, ±0, ±inf and NaN handled). */
export function f16ToF32(h: number): number {
  if (!Number.isInteger(h) || h < 0 || h > 0xffff) throw new RangeError(`not a 16-bit pattern: ${h}`);
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24; // zero / subnormal: mant · 2^(1-15-10)
  if (exp === 0x1f) return mant === 0 ? sign * Infinity : NaN;
  return sign * 2 ** (exp - 15) * (1 + mant / 1024);
}

/** bfloat16 bit pattern → number (exact; subnormals, ±0, ±inf and NaN handled). */
export function bf16ToF32(h: number): number {
  if (!Number.isInteger(h) || h < 0 || h > 0xffff) throw new RangeError(`not a 16-bit pattern: ${h}`);
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 7) & 0xff;
  const mant = h & 0x7f;
  if (exp === 0) return sign * mant * 2 ** -133; // zero / subnormal: mant · 2^(1-127-7)
  if (exp === 0xff) return mant === 0 ? sign * Infinity : NaN;
  return sign * 2 ** (exp - 127) * (1 + mant / 128);
}

/** IEEE-754 binary32 bit pattern → number (own decoder, for symmetry with the above). */
function f32BitsToNumber(u: number): number {
  const sign = u & 0x80000000 ? -1 : 1;
  const exp = (u >>> 23) & 0xff;
  const mant = u & 0x7fffff;
  if (exp === 0) return sign * mant * 2 ** -149;
  if (exp === 0xff) return mant === 0 ? sign * Infinity : NaN;
  return sign * 2 ** (exp - 127) * (1 + mant / 8388608);
}

// ---------------------------------------------------------------------------------------------
// safetensors
// ---------------------------------------------------------------------------------------------

export interface RawTensor {
  dtype: string;
  shape: number[];
  /** A copy of the tensor's bytes (little-endian, row-major). */
  data: Uint8Array;
}

/** The parsed tensors, with the header's `__metadata__` (or null) attached as `metadata`. */
export type ParsedSafetensors = Map<string, RawTensor> & { metadata: Record<string, string> | null };

const DTYPE_SIZE: Record<string, number> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  I64: 8,
  U64: 8,
  F64: 8,
};

const MAX_HEADER_BYTES = 100_000_000;

/**
 * Minimal strict safetensors parser: 8-byte little-endian header length, UTF-8 JSON header,
 * then the data buffer. Checks: header fits the file, header is a JSON object, `__metadata__`
 * is a string→string map, every entry has exactly {dtype, shape, data_offsets}, known dtype,
 * integer non-negative shape, integer offsets with begin ≤ end ≤ buffer length,
 * end − begin = product(shape)·sizeof(dtype), and the tensors tile the data buffer exactly
 * (no overlap, no holes, nothing after the last tensor) — as the reference Rust loader requires.
 */
export function parseSafetensors(bytes: Uint8Array): ParsedSafetensors {
  if (bytes.length < 8) throw new Error(`safetensors: file too short (${bytes.length} bytes)`);
  const lenLo = u32At(bytes, 0);
  const lenHi = u32At(bytes, 4);
  if (lenHi !== 0 || lenLo > MAX_HEADER_BYTES) throw new Error('safetensors: header length too large');
  const headerLen = lenLo;
  if (8 + headerLen > bytes.length) {
    throw new Error(`safetensors: header length ${headerLen} exceeds file size ${bytes.length}`);
  }
  let headerText: string;
  try {
    headerText = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen));
  } catch {
    throw new Error('safetensors: header is not valid UTF-8');
  }
  if (!headerText.startsWith('{')) throw new Error('safetensors: header does not start with "{"');
  let header: unknown;
  try {
    header = JSON.parse(headerText);
  } catch (e) {
    throw new Error(`safetensors: header is not valid JSON: ${(e as Error).message}`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw new Error('safetensors: header is not a JSON object');
  }
  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;

  let metadata: Record<string, string> | null = null;
  const spans: { name: string; begin: number; end: number }[] = [];
  const out = new Map<string, RawTensor>();
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
        throw new Error('safetensors: __metadata__ is not an object');
      }
      metadata = {};
      for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof v !== 'string') throw new Error(`safetensors: __metadata__.${k} is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
      throw new Error(`safetensors: entry ${name} is not an object`);
    }
    const e = entry as Record<string, unknown>;
    const keys = Object.keys(e).sort().join(',');
    if (keys !== 'data_offsets,dtype,shape') {
      throw new Error(`safetensors: entry ${name} must have exactly dtype, shape, data_offsets (got ${keys})`);
    }
    const dtype = e.dtype;
    if (typeof dtype !== 'string' || !(dtype in DTYPE_SIZE)) {
      throw new Error(`safetensors: entry ${name} has unknown dtype ${String(dtype)}`);
    }
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
      throw new Error(`safetensors: entry ${name} has an invalid shape ${JSON.stringify(shape)}`);
    }
    const offs = e.data_offsets;
    if (
      !Array.isArray(offs) ||
      offs.length !== 2 ||
      !offs.every((x) => Number.isSafeInteger(x) && (x as number) >= 0)
    ) {
      throw new Error(`safetensors: entry ${name} has invalid data_offsets ${JSON.stringify(offs)}`);
    }
    const [begin, end] = offs as [number, number];
    if (begin > end || end > dataLen) {
      throw new Error(`safetensors: entry ${name} offsets [${begin}, ${end}] out of range (data ${dataLen} bytes)`);
    }
    let numel = 1;
    for (const d of shape as number[]) numel *= d;
    const expected = numel * DTYPE_SIZE[dtype];
    if (end - begin !== expected) {
      throw new Error(
        `safetensors: entry ${name} has ${end - begin} bytes, expected ${expected} (${dtype} ${JSON.stringify(shape)})`,
      );
    }
    spans.push({ name, begin, end });
    out.set(name, {
      dtype,
      shape: (shape as number[]).slice(),
      data: bytes.slice(dataStart + begin, dataStart + end),
    });
  }
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const s of spans) {
    if (s.begin !== cursor) {
      throw new Error(
        s.begin < cursor
          ? `safetensors: entry ${s.name} overlaps the previous tensor`
          : `safetensors: hole in the data buffer before ${s.name} (bytes ${cursor}..${s.begin})`,
      );
    }
    cursor = s.end;
  }
  if (cursor !== dataLen) throw new Error(`safetensors: ${dataLen - cursor} trailing bytes after the last tensor`);
  return Object.assign(out, { metadata });
}

// ---------------------------------------------------------------------------------------------
// Bitstream
// ---------------------------------------------------------------------------------------------

export type GptqBits = 2 | 3 | 4 | 8;

/**
 * Read `count` unsigned `bits`-wide values from `words` viewed as ONE little-endian bitstream:
 * bit p of the stream is bit (p mod 32) of words[floor(p / 32)], and value i is made of
 * stream bits [i·bits, (i+1)·bits), least significant first. Implemented one bit at a time on
 * purpose (no per-word field shifts, no 3-bit special case), so it does not mirror any packer.
 */
export function unpackBits(words: Uint32Array, bits: GptqBits, count: number): Uint32Array {
  if (bits !== 2 && bits !== 3 && bits !== 4 && bits !== 8) throw new Error(`unpackBits: unsupported bits ${bits}`);
  if (!Number.isSafeInteger(count) || count < 0) throw new Error(`unpackBits: invalid count ${count}`);
  if (count * bits > words.length * 32) {
    throw new Error(`unpackBits: ${count} × ${bits} bits exceed ${words.length} words`);
  }
  const out = new Uint32Array(count);
  let p = 0; // stream bit position
  for (let i = 0; i < count; i++) {
    let v = 0;
    for (let b = 0; b < bits; b++, p++) {
      const bit = (words[p >>> 5] >>> (p & 31)) & 1; // stream bit p
      v |= bit << b;
    }
    out[i] = v;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Tensor decoding
// ---------------------------------------------------------------------------------------------

function numelOf(shape: number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Decode an F32/F16/BF16 tensor to float32 values. */
export function decodeFloatTensor(t: RawTensor, name = 'tensor'): Float32Array {
  const n = numelOf(t.shape);
  const out = new Float32Array(n);
  switch (t.dtype) {
    case 'F32':
      for (let i = 0; i < n; i++) out[i] = f32BitsToNumber(u32At(t.data, 4 * i));
      break;
    case 'F16':
      for (let i = 0; i < n; i++) out[i] = f16ToF32(u16At(t.data, 2 * i));
      break;
    case 'BF16':
      for (let i = 0; i < n; i++) out[i] = bf16ToF32(u16At(t.data, 2 * i));
      break;
    default:
      throw new Error(`${name}: expected a floating-point tensor (F32/F16/BF16), got ${t.dtype}`);
  }
  return out;
}

function i32Words(t: RawTensor): Uint32Array {
  const n = numelOf(t.shape);
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = u32At(t.data, 4 * i);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Config
// ---------------------------------------------------------------------------------------------

export type CheckpointFormat = 'gptq' | 'gptq_v2';

export interface GptqQuantInfo {
  bits: GptqBits;
  /** -1 = one group spanning all of K. */
  groupSize: number;
  sym: boolean;
  descAct: boolean;
  checkpointFormat: CheckpointFormat;
}

function parseQuantConfig(raw: unknown, where: string, requireQuantMethod: boolean): GptqQuantInfo {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${where}: not a JSON object`);
  const c = raw as Record<string, unknown>;
  if (c.quant_method !== undefined || requireQuantMethod) {
    if (c.quant_method !== 'gptq') throw new Error(`${where}: quant_method must be "gptq" (got ${JSON.stringify(c.quant_method)})`);
  }
  const bits = c.bits;
  if (bits !== 2 && bits !== 3 && bits !== 4 && bits !== 8) throw new Error(`${where}: bits must be 2, 3, 4 or 8 (got ${JSON.stringify(bits)})`);
  const gs = c.group_size;
  if (typeof gs !== 'number' || !Number.isSafeInteger(gs) || !(gs === -1 || gs > 0)) {
    throw new Error(`${where}: group_size must be -1 or a positive integer (got ${JSON.stringify(gs)})`);
  }
  if (typeof c.desc_act !== 'boolean') throw new Error(`${where}: desc_act must be a boolean (vLLM requires it)`);
  if (c.sym !== undefined && typeof c.sym !== 'boolean') throw new Error(`${where}: sym must be a boolean`);
  const fmtA = c.checkpoint_format;
  const fmtB = c.format;
  for (const [k, v] of [['checkpoint_format', fmtA], ['format', fmtB]] as const) {
    if (v !== undefined && v !== 'gptq' && v !== 'gptq_v2') {
      throw new Error(`${where}: ${k} must be "gptq" or "gptq_v2" (got ${JSON.stringify(v)})`);
    }
  }
  if (fmtA !== undefined && fmtB !== undefined && fmtA !== fmtB) {
    throw new Error(`${where}: checkpoint_format ${JSON.stringify(fmtA)} disagrees with format ${JSON.stringify(fmtB)}`);
  }
  if (c.pack_dtype !== undefined && c.pack_dtype !== 'int32') throw new Error(`${where}: pack_dtype must be "int32"`);
  return {
    bits,
    groupSize: gs,
    sym: c.sym === undefined ? true : (c.sym as boolean), // AutoGPTQ: missing sym defaults to True
    descAct: c.desc_act,
    checkpointFormat: ((fmtA ?? fmtB) as CheckpointFormat | undefined) ?? 'gptq',
  };
}

/**
 * One entry of quantization_config.dynamic (GPTQModel / vLLM): the key is a regular expression
 * matched from the START of a module's full name (Python's re.match), "-:" marking an exclusion
 * and "+:" (or nothing) a positive rule whose object overrides bits / group_size / sym / desc_act.
 * The first rule that matches decides.
 */
interface DynamicEntry {
  regex: RegExp;
  exclude: boolean;
  bits?: GptqBits;
  groupSize?: number;
  sym?: boolean;
  descAct?: boolean;
}

function parseDynamicRules(raw: unknown, where: string): DynamicEntry[] {
  if (raw === undefined) return [];
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${where}: dynamic must be an object`);
  const out: DynamicEntry[] = [];
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    const exclude = key.startsWith('-:');
    const body = key.startsWith('-:') || key.startsWith('+:') ? key.slice(2) : key;
    let regex: RegExp;
    try {
      regex = new RegExp(`^(?:${body})`);
    } catch {
      throw new Error(`${where}: dynamic key ${JSON.stringify(key)} is not a valid regular expression`);
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${where}: dynamic[${key}] must be an object`);
    const v = value as Record<string, unknown>;
    const e: DynamicEntry = { regex, exclude };
    if (!exclude) {
      if (v.bits !== undefined) {
        if (v.bits !== 2 && v.bits !== 3 && v.bits !== 4 && v.bits !== 8) throw new Error(`${where}: dynamic[${key}].bits must be 2, 3, 4 or 8`);
        e.bits = v.bits;
      }
      if (v.group_size !== undefined) {
        if (typeof v.group_size !== 'number' || !Number.isSafeInteger(v.group_size) || !(v.group_size === -1 || v.group_size > 0)) {
          throw new Error(`${where}: dynamic[${key}].group_size must be -1 or a positive integer`);
        }
        e.groupSize = v.group_size;
      }
      if (v.sym !== undefined) e.sym = v.sym === true;
      if (v.desc_act !== undefined) e.descAct = v.desc_act === true;
    }
    out.push(e);
  }
  return out;
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${where}: invalid JSON: ${(e as Error).message}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Checkpoint
// ---------------------------------------------------------------------------------------------

export interface GptqLayer {
  inFeatures: number;
  outFeatures: number;
  /** This layer's width and group size (the config's, or a `dynamic` rule's). */
  bits: GptqBits;
  groupSize: number;
  /** Integer codes, [N, K] row-major: codes[n*K + k]. */
  codes: Uint32Array;
  /** True zero points (v1: stored + 1; v2: stored), [G, N] row-major. */
  zeros: Uint32Array;
  /** [G, N] row-major, from F16. */
  scales: Float32Array;
  /** [K]. */
  gIdx: Int32Array;
  /** Dequantized weight, [N, K] row-major: Math.fround(scales[g_idx[k], n] · (q − z)). */
  W: Float32Array;
  bias?: Float32Array;
}

export interface OtherTensor {
  dtype: string;
  shape: number[];
  values: Float32Array;
}

export interface GptqCheckpoint {
  quant: GptqQuantInfo;
  layers: Map<string, GptqLayer>;
  others: Map<string, OtherTensor>;
  metadata: Record<string, string> | null;
}

export interface GptqCheckpointFiles {
  'model.safetensors': Uint8Array;
  'config.json': string;
  'quantize_config.json'?: string;
}

export interface ReadGptqOptions {
  /** sym ⇒ every true zero must be 2^(bits−1). Default true. */
  checkSymZeros?: boolean;
  /**
   * desc_act ⇒ group g must have exactly min(group_size, K − g·group_size) columns, as produced by
   * act-order GPTQ (g_idx[k] = floor(invperm[k] / group_size)). Default true.
   */
  checkGroupCounts?: boolean;
}

const QUANT_SUFFIXES = ['qweight', 'qzeros', 'scales', 'g_idx'] as const;

function expectTensor(
  tensors: Map<string, RawTensor>,
  name: string,
  dtype: string,
  shape: number[],
): RawTensor {
  const t = tensors.get(name);
  if (!t) throw new Error(`${name}: missing`);
  if (t.dtype !== dtype) throw new Error(`${name}: dtype ${t.dtype}, expected ${dtype}`);
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new Error(`${name}: shape ${JSON.stringify(t.shape)}, expected ${JSON.stringify(shape)}`);
  }
  return t;
}

/**
 * Read and validate a single-file GPTQ checkpoint and dequantize every quantized linear.
 *
 * Validates: the quantization config (config.json `quantization_config`; must agree with
 * quantize_config.json when given), per layer the presence, dtypes and shapes of qweight /
 * qzeros / scales / g_idx (and bias [N] if present), G = ceil(K/group_size), every g_idx in
 * [0, G), trivial g_idx (floor(k/group_size)) when desc_act is false, group sizes when desc_act
 * (option), sym zero points (option), no plain `.weight` next to a `.qweight`, no orphan
 * qzeros/scales/g_idx, and that every other tensor is F32/F16/BF16.
 */
export function readGptqCheckpoint(files: GptqCheckpointFiles, options: ReadGptqOptions = {}): GptqCheckpoint {
  const checkSymZeros = options.checkSymZeros ?? true;
  const checkGroupCounts = options.checkGroupCounts ?? true;

  // --- config ---
  const config = parseJson(files['config.json'], 'config.json');
  if (config === null || typeof config !== 'object' || Array.isArray(config)) throw new Error('config.json: not a JSON object');
  const qc = (config as Record<string, unknown>).quantization_config;
  if (qc === undefined) throw new Error('config.json: missing quantization_config');
  const quant = parseQuantConfig(qc, 'config.json quantization_config', true);
  if (files['quantize_config.json'] !== undefined) {
    const other = parseQuantConfig(parseJson(files['quantize_config.json'], 'quantize_config.json'), 'quantize_config.json', false);
    for (const key of ['bits', 'groupSize', 'sym', 'descAct', 'checkpointFormat'] as const) {
      if (other[key] !== quant[key]) {
        throw new Error(
          `quantize_config.json disagrees with config.json on ${key}: ${JSON.stringify(other[key])} vs ${JSON.stringify(quant[key])}`,
        );
      }
    }
  }
  const { checkpointFormat } = quant;
  const zeroOffset = checkpointFormat === 'gptq' ? 1 : 0;
  const rules = parseDynamicRules((qc as Record<string, unknown>).dynamic, 'config.json quantization_config');

  // --- tensors ---
  const tensors = parseSafetensors(files['model.safetensors']);
  const consumed = new Set<string>();
  const layers = new Map<string, GptqLayer>();
  const prefixes = [...tensors.keys()].filter((n) => n.endsWith('.qweight')).map((n) => n.slice(0, -'.qweight'.length));
  const prefixSet = new Set(prefixes);
  for (const name of tensors.keys()) {
    for (const s of QUANT_SUFFIXES) {
      if (name.endsWith(`.${s}`) && !prefixSet.has(name.slice(0, -(s.length + 1)))) {
        throw new Error(`${name}: no matching qweight`);
      }
    }
  }

  for (const P of prefixes.sort()) {
    if (tensors.has(`${P}.weight`)) throw new Error(`${P}: has both a plain .weight and a .qweight`);
    // This module's parameters: the first dynamic rule matching its name, else the config's.
    const rule = rules.find((r) => r.regex.test(P));
    if (rule?.exclude) throw new Error(`${P}: quantization_config.dynamic excludes it, yet it has a qweight`);
    const bits = rule?.bits ?? quant.bits;
    const groupSize = rule?.groupSize ?? quant.groupSize;
    const sym = rule?.sym ?? quant.sym;
    const descAct = rule?.descAct ?? quant.descAct;
    const qwRaw = tensors.get(`${P}.qweight`)!;
    if (qwRaw.dtype !== 'I32' || qwRaw.shape.length !== 2) {
      throw new Error(`${P}.qweight: must be a 2-D I32 tensor (got ${qwRaw.dtype} ${JSON.stringify(qwRaw.shape)})`);
    }
    const [R, N] = qwRaw.shape;
    if ((R * 32) % bits !== 0) throw new Error(`${P}.qweight: ${R} rows × 32 is not a multiple of ${bits} bits`);
    const K = (R * 32) / bits;
    if (K === 0 || N === 0) throw new Error(`${P}: empty layer (K=${K}, N=${N})`);
    if ((N * bits) % 32 !== 0) throw new Error(`${P}: N=${N} × ${bits} bits is not a multiple of 32`);
    const C = (N * bits) / 32;
    const G = groupSize === -1 ? 1 : Math.ceil(K / groupSize);

    const qzRaw = expectTensor(tensors, `${P}.qzeros`, 'I32', [G, C]);
    const scRaw = expectTensor(tensors, `${P}.scales`, 'F16', [G, N]);
    const giRaw = expectTensor(tensors, `${P}.g_idx`, 'I32', [K]);
    for (const s of QUANT_SUFFIXES) consumed.add(`${P}.${s}`);

    // g_idx
    const gIdx = new Int32Array(K);
    const giWords = i32Words(giRaw);
    const counts = new Array<number>(G).fill(0);
    for (let k = 0; k < K; k++) {
      const g = giWords[k] | 0;
      if (g < 0 || g >= G) throw new Error(`${P}.g_idx[${k}] = ${g} out of [0, ${G})`);
      if (!descAct) {
        const trivial = groupSize === -1 ? 0 : Math.floor(k / groupSize);
        if (g !== trivial) {
          throw new Error(`${P}.g_idx[${k}] = ${g} but desc_act is false (loaders would use ${trivial})`);
        }
      }
      gIdx[k] = g;
      counts[g]++;
    }
    if (descAct && checkGroupCounts) {
      for (let g = 0; g < G; g++) {
        const want = groupSize === -1 ? K : Math.min(groupSize, K - g * groupSize);
        if (counts[g] !== want) throw new Error(`${P}.g_idx: group ${g} has ${counts[g]} columns, expected ${want}`);
      }
    }

    // codes: column n of qweight is the bitstream of q[0..K-1, n]
    const qw = i32Words(qwRaw);
    const codes = new Uint32Array(N * K);
    const col = new Uint32Array(R);
    for (let n = 0; n < N; n++) {
      for (let r = 0; r < R; r++) col[r] = qw[r * N + n];
      codes.set(unpackBits(col, bits, K), n * K);
    }

    // zeros: row g of qzeros is the bitstream of z'[g, 0..N-1]
    const qz = i32Words(qzRaw);
    const zeros = new Uint32Array(G * N);
    for (let g = 0; g < G; g++) {
      const stored = unpackBits(qz.subarray(g * C, (g + 1) * C), bits, N);
      for (let n = 0; n < N; n++) zeros[g * N + n] = stored[n] + zeroOffset; // no wrap-around
    }
    if (sym && checkSymZeros) {
      const zSym = 2 ** (bits - 1);
      for (let i = 0; i < zeros.length; i++) {
        if (zeros[i] !== zSym) {
          throw new Error(
            `${P}: sym checkpoint but zero[${Math.floor(i / N)}, ${i % N}] = ${zeros[i]} (expected ${zSym}, format ${checkpointFormat})`,
          );
        }
      }
    }

    const scales = decodeFloatTensor(scRaw, `${P}.scales`);

    const W = new Float32Array(N * K);
    for (let n = 0; n < N; n++) {
      for (let k = 0; k < K; k++) {
        const g = gIdx[k];
        const q = codes[n * K + k];
        const z = zeros[g * N + n];
        W[n * K + k] = Math.fround(scales[g * N + n] * (q - z));
      }
    }

    const layer: GptqLayer = { inFeatures: K, outFeatures: N, bits, groupSize, codes, zeros, scales, gIdx, W };
    const biasRaw = tensors.get(`${P}.bias`);
    if (biasRaw) {
      if (biasRaw.shape.length !== 1 || biasRaw.shape[0] !== N) {
        throw new Error(`${P}.bias: shape ${JSON.stringify(biasRaw.shape)}, expected [${N}]`);
      }
      layer.bias = decodeFloatTensor(biasRaw, `${P}.bias`);
      consumed.add(`${P}.bias`);
    }
    layers.set(P, layer);
  }

  const others = new Map<string, OtherTensor>();
  for (const [name, t] of tensors) {
    if (consumed.has(name)) continue;
    others.set(name, { dtype: t.dtype, shape: t.shape.slice(), values: decodeFloatTensor(t, name) });
  }
  return { quant, layers, others, metadata: tensors.metadata };
}
