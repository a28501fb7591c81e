/**
 * makemore-names-gpt2 with its character tokenizer rewritten as a byte-level BPE (same vocabulary,
 * no merges, a ByteLevel pre-tokenizer and decoder), so that a GGUF of it carries a tokenizer
 * llama.cpp reads. Its letters a–z are their own byte-level spelling, so the ids of the names text
 * are unchanged; the model's weights are untouched. For tests of the gpt2 GGUF path.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { memorySource, type ByteSource } from '../core/model/byte-source';
import { folderSources } from './node-source';
import { MAKEMORE_NAMES, sharedModelDir } from './shared-models';

export function byteLevelMakemoreTokenizer(): string {
  const json = JSON.parse(readFileSync(join(sharedModelDir(MAKEMORE_NAMES), 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: true };
  return JSON.stringify({ ...json, normalizer: null, pre_tokenizer: byteLevel, decoder: byteLevel });
}

/** The model folder's files with tokenizer.json replaced. */
export async function byteLevelMakemoreSources(): Promise<ByteSource[]> {
  const files = await folderSources(sharedModelDir(MAKEMORE_NAMES));
  const tokenizer = memorySource('tokenizer.json', new TextEncoder().encode(byteLevelMakemoreTokenizer()));
  return files.map((f) => (f.name === 'tokenizer.json' ? tokenizer : f));
}
