/**
 * The shipped demo model (public/demo, made by tools/demo-model/train.ts) through the project's
 * own reader, tokenizer loader and f64 forward.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { folderSources } from '../../testing/node-source';
import { evaluationWindows, textToIds } from './calibration';
import { openCheckpoint, type Checkpoint } from './checkpoint';
import { loadReferenceModel, perplexity } from './forward-reference';
import { loadTokenizer, type TextTokenizer } from './tokenizer';

const DEMO_DIR = fileURLToPath(new URL('../../../public/demo', import.meta.url));

interface Expected {
  seqlen: number;
  /** The trainer's loss on the first 2 windows of eval-kjv.txt. */
  evalKjv2: { windows: number; tokens: number; meanNll: number; perplexity: number };
}

describe('public/demo: the demo model', () => {
  let checkpoint: Checkpoint;
  let tokenizer: TextTokenizer;
  const expected = JSON.parse(readFileSync(join(DEMO_DIR, 'expected.json'), 'utf8')) as Expected;
  const evalText = readFileSync(join(DEMO_DIR, 'eval-kjv.txt'), 'utf8');

  beforeAll(async () => {
    checkpoint = await openCheckpoint(await folderSources(DEMO_DIR));
    tokenizer = loadTokenizer(checkpoint.tokenizerJson!, checkpoint.tokenizerConfigJson);
  });

  it('is a 4-block llama of hidden size 128 in F32, GQA 4/2, tied head, vocab 1024', () => {
    const s = checkpoint.summary();
    expect(s).toMatchObject({ arch: 'llama', blocks: 4, hiddenSize: 128, dtype: 'F32', files: ['model.safetensors'], tokenizer: true });
    const c = checkpoint.config;
    expect(c).toMatchObject({ numHeads: 4, numKvHeads: 2, headDim: 32, vocabSize: 1024, tieWordEmbeddings: true, maxPositions: 256 });
    expect(checkpoint.tensors.has('lm_head.weight')).toBe(false);
  });

  it('every block linear has in and out features that are multiples of 32', () => {
    const linears = checkpoint.layout.block.linears;
    expect(linears.map((l) => l.name)).toEqual([
      'self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'self_attn.o_proj', 'mlp.gate_proj', 'mlp.up_proj', 'mlp.down_proj',
    ]);
    for (const l of linears) {
      expect(l.out % 32, `${l.name} out ${l.out}`).toBe(0);
      expect(l.in % 32, `${l.name} in ${l.in}`).toBe(0);
      expect(checkpoint.tensors.get(`model.layers.0.${l.name}.weight`)!.shape).toEqual([l.out, l.in]);
    }
  });

  it('the tokenizer round-trips eval-kjv.txt; <|endoftext|> (0) is BOS and EOS', () => {
    const sample = evalText.slice(0, 20_000);
    const ids = textToIds(tokenizer, sample);
    expect(ids.length).toBeGreaterThan(sample.length / 5);
    expect(ids.every((id) => id > 0 && id < 1024)).toBe(true);
    expect(tokenizer.decode(ids)).toBe(sample);
    expect(tokenizer.bosId).toBe(0);
    expect(tokenizer.eosId).toBe(0);
  });

  it('f64 perplexity on 2 windows of 128 tokens of eval-kjv.txt is the trainer\'s, to 1e-3', async () => {
    const windows = evaluationWindows(textToIds(tokenizer, evalText), expected.seqlen).slice(0, 2);
    const r = perplexity(await loadReferenceModel(checkpoint), windows);
    expect(r.tokens).toBe(expected.evalKjv2.tokens);
    expect(Math.abs(r.perplexity - expected.evalKjv2.perplexity) / expected.evalKjv2.perplexity).toBeLessThan(1e-3);
    expect(r.perplexity).toBeLessThan(100); // well below unigram (about 330)
  });

  it('the folder stays under 4 MB', () => {
    const total = readdirSync(DEMO_DIR).reduce((sum, f) => sum + statSync(join(DEMO_DIR, f)).size, 0);
    expect(total).toBeLessThan(4_000_000);
  });
});
