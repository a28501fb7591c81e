/**
 * A Hugging Face checkpoint folder, opened from its files: config.json, model.safetensors or the
 * shards named by model.safetensors.index.json, tokenizer.json (+ tokenizer_config.json,
 * generation_config.json). Headers are read and checked up front; tensors are read one at a time.
 */
import { baseName, readText, type ByteSource } from './byte-source';
import { CheckpointError } from './checkpoint-error';
import { parseModelConfig, type ModelConfig } from './config';
import { basePrefixes, linearSpec, modelLayout, requiredTensors, type ModelLayout } from './architecture';
import { readSafetensorsHeader, readTensorBytes, readTensorF32, shapeSize, type SafetensorsHeader, type TensorInfo } from './safetensors';
import { moduleQuantConfig, parseGptqConfig, type GptqConfigInfo } from '../export/quant-config';
import { gptqTensorShapes, readGptqLinear } from '../export/read-gptq';

export const INDEX_FILE = 'model.safetensors.index.json';
const SHARD_PATTERN = /^model-(\d+)-of-(\d+)\.safetensors$/;

export interface CheckpointSummary {
  arch: string;
  blocks: number;
  hiddenSize: number;
  /** Elements of every tensor the model uses (a tied head counted once). */
  parameters: number;
  /** The stored dtype, e.g. "F32", or "mixed (BF16, F32)". */
  dtype: string;
  /** The weight files, e.g. ["model.safetensors"]. */
  files: string[];
  tokenizer: boolean;
  /** Bytes of all tensors in the weight files (as stored). */
  bytes: number;
}

export interface Checkpoint {
  config: ModelConfig;
  /** config.json as written. */
  configJson: string;
  /** The GPTQ quantization config when this is a GPTQ checkpoint (read back for evaluation), else null. */
  quantization: GptqConfigInfo | null;
  layout: ModelLayout;
  /** tokenizer.json's text, or null when the folder has none (only with requireTokenizer: false). */
  tokenizerJson: string | null;
  tokenizerConfigJson: string | null;
  generationConfigJson: string | null;
  /** Every tensor in the weight files, by name. */
  tensors: Map<string, TensorInfo>;
  /** A tensor as f32 in its stored shape (GPT-2 Conv1D weights stay [in, out]). */
  readTensor(name: string): Promise<Float32Array>;
  /** A tensor's bytes as stored, with its dtype and shape. */
  readTensorBytes(name: string): Promise<{ info: TensorInfo; bytes: Uint8Array }>;
  /** Bytes [offset, offset + length) of a tensor's stored data, to read a large tensor in pieces. */
  readTensorRange(name: string, offset: number, length: number): Promise<Uint8Array>;
  /** The weight file that holds a tensor (e.g. "model.safetensors"), or undefined. */
  fileOf(name: string): string | undefined;
  /**
   * A block's linear weight as [out, in] (transposing Conv1D), e.g. readLinearWeight(0, "attn.c_attn");
   * in a GPTQ checkpoint, the dequantized weight of a quantized linear.
   */
  readLinearWeight(block: number, linear: string): Promise<Float32Array>;
  summary(): CheckpointSummary;
}

export interface OpenCheckpointOptions {
  /** Fail when tokenizer.json is missing (default true). */
  requireTokenizer?: boolean;
}

function missing(file: string, what: string): never {
  throw new CheckpointError(`${file} is missing: ${what}`, { file });
}

/** Transposes a row-major [rows, cols] matrix. */
export function transpose(A: Float32Array, rows: number, cols: number): Float32Array {
  const T = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) T[c * rows + r] = A[r * cols + c];
  }
  return T;
}

export async function openCheckpoint(files: ByteSource[], options: OpenCheckpointOptions = {}): Promise<Checkpoint> {
  const { requireTokenizer = true } = options;
  const byName = new Map<string, ByteSource>();
  for (const f of files) byName.set(baseName(f.name), f);

  const configSource = byName.get('config.json');
  if (!configSource) {
    missing('config.json', 'a Hugging Face checkpoint folder needs config.json next to its *.safetensors; ' +
      'add it (it is in the model repository)');
  }
  const configJson = await readText(configSource);
  const config = parseModelConfig(configJson);
  let quantization: GptqConfigInfo | null;
  try {
    quantization = parseGptqConfig(JSON.parse(configJson) as Record<string, unknown>);
  } catch (e) {
    throw new CheckpointError(`config.json: ${(e as Error).message}`, { file: 'config.json' });
  }

  const { headers, tensorFile } = await openWeights(byName, quantization !== null);
  const tensors = new Map<string, TensorInfo>();
  for (const [name, file] of tensorFile) tensors.set(name, headers.get(file)!.tensors.get(name)!);

  // GPT-2 and OPT checkpoints may hold a bare base model, whose names start without the usual prefix.
  const prefixes = basePrefixes(config);
  const prefix = prefixes.find((p) => tensors.has(modelLayout(config, p).embedTokens)) ?? prefixes[0];
  const embedDtype = tensors.get(modelLayout(config, prefix).embedTokens)?.dtype;
  const layout = modelLayout(config, prefix, embedDtype);
  const quantizedLinear = (name: string) => quantization !== null && tensors.has(name.replace(/\.weight$/, '.qweight'));
  // A module's own config: `dynamic` rules may give it another width (mixed precision).
  const configOf = (module: string) => moduleQuantConfig(quantization!, module) ?? quantization!;
  const required = requiredTensors(layout, config).flatMap((r) => {
    if (!r.name.endsWith('.weight') || !quantizedLinear(r.name)) return [r];
    const spec = layout.block.linears.find((l) => r.name.endsWith(`.${l.name}.weight`))!;
    const module = r.name.slice(0, -'.weight'.length);
    return gptqTensorShapes(module, spec.out, spec.in, configOf(module));
  });
  for (const { name, shape } of required) {
    const info = tensors.get(name);
    const weightFiles = [...headers.keys()].join(', ');
    if (!info) {
      throw new CheckpointError(`tensor "${name}" is missing from ${weightFiles}: a ${config.arch} model with ` +
        `${config.numLayers} layers needs it; check that config.json belongs to these weights`,
      { file: weightFiles, tensor: name });
    }
    if (info.shape.length !== shape.length || info.shape.some((d, i) => d !== shape[i])) {
      throw new CheckpointError(`${tensorFile.get(name)}, tensor "${name}": shape [${info.shape.join(', ')}] ` +
        `but config.json implies [${shape.join(', ')}]; check that config.json belongs to these weights`,
      { file: tensorFile.get(name), tensor: name });
    }
  }

  const tokenizerSource = byName.get('tokenizer.json');
  if (!tokenizerSource && requireTokenizer) {
    missing('tokenizer.json', 'calibration text needs the model\'s tokenizer.json; add it from the model repository');
  }
  const optionalText = async (name: string) => {
    const s = byName.get(name);
    return s ? readText(s) : null;
  };
  const tokenizerJson = tokenizerSource ? await readText(tokenizerSource) : null;
  const tokenizerConfigJson = await optionalText('tokenizer_config.json');
  const generationConfigJson = await optionalText('generation_config.json');

  const readTensor = (name: string): Promise<Float32Array> => {
    const file = tensorFile.get(name);
    if (!file) {
      return Promise.reject(new CheckpointError(`tensor "${name}" is not in this checkpoint`, { tensor: name }));
    }
    return readTensorF32(byName.get(file)!, headers.get(file)!, name);
  };
  const rawTensor = async (name: string) => {
    const file = tensorFile.get(name);
    if (!file) throw new CheckpointError(`tensor "${name}" is not in this checkpoint`, { tensor: name });
    return { info: tensors.get(name)!, bytes: await readTensorBytes(byName.get(file)!, headers.get(file)!, name) };
  };

  const tensorRange = async (name: string, offset: number, length: number) => {
    const file = tensorFile.get(name);
    if (!file) throw new CheckpointError(`tensor "${name}" is not in this checkpoint`, { tensor: name });
    const info = tensors.get(name)!;
    if (!(offset >= 0 && length >= 0 && offset + length <= info.end - info.begin)) {
      throw new RangeError(`tensor "${name}": bytes ${offset}..${offset + length} are outside its ${info.end - info.begin} bytes`);
    }
    return byName.get(file)!.read(headers.get(file)!.dataOffset + info.begin + offset, length);
  };

  /** ", some linears 3/8-bit" when `dynamic` gives some quantized linears other widths. */
  const otherWidths = () => {
    const widths = new Set<number>();
    for (const name of tensors.keys()) {
      if (name.endsWith('.qweight')) widths.add(configOf(name.slice(0, -'.qweight'.length)).bits);
    }
    widths.delete(quantization!.bits);
    return widths.size > 0 ? `, some linears ${[...widths].sort((a, b) => a - b).join('/')}-bit` : '';
  };
  return {
    config,
    configJson,
    quantization,
    layout,
    tokenizerJson,
    tokenizerConfigJson,
    generationConfigJson,
    tensors,
    readTensor,
    readTensorBytes: rawTensor,
    readTensorRange: tensorRange,
    fileOf: (name) => tensorFile.get(name),
    async readLinearWeight(block, linear) {
      const spec = linearSpec(layout, linear);
      const module = `${layout.blockPrefix(block)}${linear}`;
      if (quantizedLinear(`${module}.weight`)) return readGptqLinear(rawTensor, module, spec.out, spec.in, configOf(module));
      const W = await readTensor(`${module}.weight`);
      return spec.transposed ? transpose(W, spec.in, spec.out) : W; // [out, in]
    },
    summary() {
      const dtypes: string[] = [...new Set(required.map((r) => tensors.get(r.name)!.dtype))].filter((d) => d !== 'I32').sort();
      return {
        arch: config.arch,
        blocks: config.numLayers,
        hiddenSize: config.hiddenSize,
        parameters: requiredTensors(layout, config).reduce((s, r) => s + shapeSize(r.shape), 0),
        dtype: quantization
          ? `GPTQ ${quantization.bits}-bit${otherWidths()} (other tensors ${dtypes.join(', ')})`
          : dtypes.length === 1 ? dtypes[0] : `mixed (${dtypes.join(', ')})`,
        files: [...headers.keys()],
        tokenizer: tokenizerJson !== null,
        bytes: [...tensors.values()].reduce((n, t) => n + t.end - t.begin, 0),
      };
    },
  };
}

interface Weights {
  /** Header per weight file name. */
  headers: Map<string, SafetensorsHeader>;
  /** Which file holds each tensor. */
  tensorFile: Map<string, string>;
}

async function openWeights(byName: Map<string, ByteSource>, allowInt32: boolean): Promise<Weights> {
  const indexSource = byName.get(INDEX_FILE);
  if (indexSource) return openSharded(byName, indexSource, allowInt32);

  const single = byName.get('model.safetensors');
  if (!single) {
    const shards = [...byName.keys()].filter((n) => SHARD_PATTERN.test(n));
    if (shards.length > 0) {
      missing(INDEX_FILE, `the folder has sharded weights (${shards.join(', ')}) but not the index that ` +
        'says which tensor is in which shard; add it from the model repository');
    }
    const others = [...byName.keys()].filter((n) => /\.(safetensors|bin|pt|pth|gguf)$/.test(n));
    missing('model.safetensors', 'the folder has no model.safetensors (nor sharded model-0000x-of-0000y.safetensors ' +
      `with ${INDEX_FILE})` + (others.length > 0
      ? `; found ${others.join(', ')}: convert the weights to safetensors named model.safetensors`
      : '; add the weights from the model repository'));
  }
  const header = await readSafetensorsHeader(single, { allowInt32 });
  const tensorFile = new Map<string, string>();
  for (const name of header.tensors.keys()) tensorFile.set(name, single.name);
  return { headers: new Map([[single.name, header]]), tensorFile };
}

async function openSharded(byName: Map<string, ByteSource>, indexSource: ByteSource, allowInt32: boolean): Promise<Weights> {
  let index: unknown;
  try {
    index = JSON.parse(await readText(indexSource));
  } catch (e) {
    throw new CheckpointError(`${INDEX_FILE}: not valid JSON (${(e as Error).message}); download it again`,
      { file: INDEX_FILE });
  }
  const weightMap = (index as { weight_map?: unknown } | null)?.weight_map;
  if (typeof weightMap !== 'object' || weightMap === null || Array.isArray(weightMap) ||
    !Object.values(weightMap).every((v) => typeof v === 'string')) {
    throw new CheckpointError(`${INDEX_FILE}: "weight_map" (tensor name → shard file) is missing or malformed; ` +
      'download it again', { file: INDEX_FILE });
  }
  const entries = Object.entries(weightMap as Record<string, string>);
  const shardNames = [...new Set(entries.map(([, f]) => f))].sort();
  const absent = shardNames.filter((f) => !byName.has(baseName(f)));
  if (absent.length > 0) {
    throw new CheckpointError(`${absent.join(', ')} ${absent.length === 1 ? 'is' : 'are'} missing: ${INDEX_FILE} ` +
      `lists ${shardNames.length} shards (${shardNames.join(', ')}); add every shard to the folder`,
    { file: absent[0] });
  }
  const headers = new Map<string, SafetensorsHeader>();
  for (const f of shardNames) headers.set(baseName(f), await readSafetensorsHeader(byName.get(baseName(f))!, { allowInt32 }));
  const tensorFile = new Map<string, string>();
  for (const [name, f] of entries) {
    const file = baseName(f);
    if (!headers.get(file)!.tensors.has(name)) {
      throw new CheckpointError(`${file}: ${INDEX_FILE} says tensor "${name}" is in this shard but it is not; ` +
        'the shards and the index do not match: download them again', { file, tensor: name });
    }
    tensorFile.set(name, file);
  }
  return { headers, tensorFile };
}
