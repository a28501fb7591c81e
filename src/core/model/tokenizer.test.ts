import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointError } from './checkpoint-error';
import { loadTokenizer } from './tokenizer';
import {
  MAKEMORE_NAMES, readSharedModelJson, sharedModelDir, STORIES_260K, type MakemoreReference, type StoriesReference,
} from '../../testing/shared-models';

function tokenizerOf(name: string) {
  const read = (f: string) => readFileSync(join(sharedModelDir(name), f), 'utf8');
  return loadTokenizer(read('tokenizer.json'), read('tokenizer_config.json'));
}

describe('stories260K tokenizer (Llama BPE, TemplateProcessing "<s> $A")', () => {
  const tokenizer = tokenizerOf(STORIES_260K);
  const ref = readSharedModelJson<StoriesReference>(STORIES_260K, 'reference_greedy.json');

  it('encode() adds BOS itself through the post-processor, giving prompt_ids_with_bos', () => {
    expect(ref.prompt_ids_with_bos[0]).toBe(1);
    expect(tokenizer.bosId).toBe(1);
    expect(tokenizer.eosId).toBe(2);
    expect(tokenizer.encode(ref.prompt)).toEqual(ref.prompt_ids_with_bos);
    expect(tokenizer.encode(ref.prompt, { addSpecialTokens: false })).toEqual(ref.prompt_ids_with_bos.slice(1));
  });

  it('decodes the greedy continuation to greedy_text', () => {
    const ids = [...ref.prompt_ids_with_bos, ...ref.greedy_ids_48];
    expect(tokenizer.decode(ids, { skipSpecialTokens: true })).toBe(ref.greedy_text);
    expect(tokenizer.decode(ids)).toBe(`<s> ${ref.greedy_text}`);
    expect(tokenizer.decode([])).toBe('');
  });

  it('has no special token for "<|endoftext|>": it is spelled out in pieces', () => {
    const ids = tokenizer.encode('<|endoftext|>', { addSpecialTokens: false });
    expect(ids.length).toBeGreaterThan(1);
    expect(ids).not.toContain(2);
  });
});

describe('makemore-names-gpt2 tokenizer (characters, <|endoftext|> = 0)', () => {
  const tokenizer = tokenizerOf(MAKEMORE_NAMES);
  const ref = readSharedModelJson<MakemoreReference>(MAKEMORE_NAMES, 'reference_greedy.json');

  it('maps letters to 1..26 and <|endoftext|> to 0, adding nothing', () => {
    expect(tokenizer.encode(ref.greedy_name)).toEqual(ref.greedy_ids);
    expect(tokenizer.encode('<|endoftext|>emma<|endoftext|>')).toEqual([0, 5, 13, 13, 1, 0]);
    expect(tokenizer.bosId).toBe(0);
    expect(tokenizer.eosId).toBe(0);
    expect(tokenizer.decode([...ref.start_ids, ...ref.greedy_ids], { skipSpecialTokens: true })).toBe(ref.greedy_name);
  });

  it('drops characters outside its vocabulary silently (no unk token)', () => {
    expect(tokenizer.encode('Ann a\n')).toEqual([14, 14, 1]); // 'A', ' ' and '\n' vanish
  });
});

describe('loadTokenizer refusals', () => {
  it('names tokenizer.json when it is not JSON', () => {
    expect(() => loadTokenizer('{ nope')).toThrow(CheckpointError);
    expect(() => loadTokenizer('{ nope')).toThrow(/^tokenizer\.json: not valid JSON/);
  });
});
