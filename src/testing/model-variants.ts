/**
 * Modified copies of the shared test models, built in memory for tests of bad inputs: a tensor
 * changed (a NaN in a norm, an outlier row), the weights stored in another dtype, config.json or
 * tokenizer.json edited. Node-only (reads ../shared/models).
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { memorySource, type ByteSource } from '../core/model/byte-source';
import { parseSafetensorsHeader, readTensorF32 } from '../core/model/safetensors';
import { float32ToHalfBytes } from '../core/model/float-convert';
import { buildSafetensors, f32Bytes, u16Bytes } from './safetensors-builder';
import { sharedModelDir } from './shared-models';

export interface ModelEdits {
  /** Change a tensor's values in place (as f32, stored shape); called for every tensor. */
  tensor?: (name: string, values: Float32Array, shape: number[]) => void;
  /** Store every tensor in this dtype (default: as the original). */
  dtype?: 'F32' | 'F16' | 'BF16';
  /** Edit config.json (parsed). */
  config?: (json: Record<string, unknown>) => void;
  /** Edit tokenizer.json (parsed). */
  tokenizer?: (json: Record<string, unknown>) => void;
}

/** f32 values → BF16 bit patterns, rounded to nearest even (as torch's .to(torch.bfloat16)). */
export function toBfloat16Bits(values: Float32Array): Uint16Array {
  const words = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    out[i] = ((w + 0x7fff + ((w >>> 16) & 1)) >>> 16) & 0xffff;
  }
  return out;
}

/** The shared model's files (by name) with the edits applied; model.safetensors is rebuilt. */
export async function editedModel(model: string, edits: ModelEdits = {}): Promise<Map<string, Uint8Array>> {
  const dir = sharedModelDir(model);
  const files = new Map<string, Uint8Array>();
  for (const name of readdirSync(dir)) files.set(name, new Uint8Array(readFileSync(join(dir, name))));
  const weights = files.get('model.safetensors')!;
  const headerLength = new DataView(weights.buffer, weights.byteOffset).getUint32(0, true);
  const header = parseSafetensorsHeader('model.safetensors', weights.subarray(8, 8 + headerLength), weights.length);
  const source = memorySource('model.safetensors', weights);
  const tensors = [];
  for (const [name, info] of header.tensors) {
    const values = await readTensorF32(source, header, name);
    edits.tensor?.(name, values, info.shape);
    const dtype = edits.dtype ?? info.dtype;
    const data = dtype === 'F32' ? f32Bytes(values) : dtype === 'F16' ? float32ToHalfBytes(values) : u16Bytes(toBfloat16Bits(values));
    tensors.push({ name, dtype, shape: info.shape, data });
  }
  files.set('model.safetensors', buildSafetensors(tensors, header.metadata));
  const editJson = (file: string, edit?: (json: Record<string, unknown>) => void) => {
    if (!edit) return;
    const json = JSON.parse(new TextDecoder().decode(files.get(file)!)) as Record<string, unknown>;
    edit(json);
    files.set(file, new TextEncoder().encode(JSON.stringify(json, null, 2)));
  };
  editJson('config.json', edits.config);
  editJson('tokenizer.json', edits.tokenizer);
  return files;
}

/** The files as ByteSources (for openCheckpoint and runModel). */
export function sourcesOf(files: Map<string, Uint8Array>): ByteSource[] {
  return [...files].map(([name, bytes]) => memorySource(name, bytes));
}

/** Writes the files into a new folder (for the CLI). */
export function writeModelFolder(dir: string, files: Map<string, Uint8Array>): string {
  mkdirSync(dir, { recursive: true });
  for (const [name, bytes] of files) writeFileSync(join(dir, name), bytes);
  return dir;
}
