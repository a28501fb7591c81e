/**
 * Node-only access to the shared test models and corpus (../../../shared relative to this file,
 * i.e. shared/ beside the repository root).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openCheckpoint, type Checkpoint } from '../core/model/checkpoint';
import { folderSources } from './node-source';

export const SHARED_MODELS_DIR = fileURLToPath(new URL('../../../shared/models', import.meta.url));
export const SHARED_CORPUS_DIR = fileURLToPath(new URL('../../../shared/corpus', import.meta.url));

export const STORIES_260K = 'stories260K';
export const MAKEMORE_NAMES = 'makemore-names-gpt2';

export function sharedModelDir(name: string): string {
  return join(SHARED_MODELS_DIR, name);
}

/** A shared model opened as a checkpoint (its files read by range from the folder). */
export async function openSharedCheckpoint(name: string): Promise<Checkpoint> {
  return openCheckpoint(await folderSources(sharedModelDir(name)));
}

/** A file of a shared model, parsed as JSON (e.g. reference_greedy.json). */
export function readSharedModelJson<T = unknown>(name: string, file: string): T {
  return JSON.parse(readFileSync(join(SHARED_MODELS_DIR, name, file), 'utf8')) as T;
}

export function readCorpus(file: string): string {
  return readFileSync(join(SHARED_CORPUS_DIR, file), 'utf8');
}

/** stories260K/reference_greedy.json */
export interface StoriesReference {
  prompt: string;
  prompt_ids_with_bos: number[];
  greedy_ids_48: number[];
  greedy_text: string;
  /** [id, logit] of the last prompt position, best first */
  last_prompt_logits_top5: [number, number][];
}

/** makemore-names-gpt2/reference_greedy.json */
export interface MakemoreReference {
  start_ids: number[];
  /** The greedy name, without the <|endoftext|> (0) that ends it */
  greedy_ids: number[];
  greedy_name: string;
  /** All vocab logits at the start position */
  first_step_logits: number[];
}
