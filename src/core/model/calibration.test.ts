import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertIdsInVocabulary, calibrationFromText, calibrationRankWarning, calibrationWindows, evaluationWindows, resolveCalibration, textToIds } from './calibration';
import { parseModelConfig } from './config';
import { PythonRandom } from './python-random';
import { loadTokenizer } from './tokenizer';
import { readCorpus, sharedModelDir, STORIES_260K } from '../../testing/shared-models';

// Expected numbers printed by CPython 3.11, e.g.
//   python3 -c "import random; random.seed(0); print([random.randint(0, 1000) for _ in range(10)])"
describe('PythonRandom equals CPython random', () => {
  it('seed(0): getrandbits(32)', () => {
    const r = new PythonRandom(0);
    expect([r.getrandbits(32), r.getrandbits(32), r.getrandbits(32)]).toEqual([3626764237, 1654615998, 3255389356]);
  });

  it('seed(0): randint(0, 1000)', () => {
    const r = new PythonRandom(0);
    expect(Array.from({ length: 10 }, () => r.randint(0, 1000))).toEqual([864, 394, 776, 911, 430, 41, 265, 988, 523, 497]);
  });

  it('seed(0): randint(0, 1) and getrandbits(45)', () => {
    const r = new PythonRandom(0);
    expect(Array.from({ length: 12 }, () => r.randint(0, 1))).toEqual([1, 1, 0, 1, 1, 1, 1, 1, 1, 0, 0, 1]);
    const s = new PythonRandom(0);
    expect([s.getrandbits(45), s.getrandbits(45), s.getrandbits(45)]).toEqual([13554248583117, 31322156911788, 1423440516181]);
  });

  it('seed(42): randint(0, 52781)', () => {
    const r = new PythonRandom(42);
    expect(Array.from({ length: 8 }, () => r.randint(0, 52781))).toEqual([41905, 7296, 1639, 48598, 18024, 16049, 14628, 9144]);
  });

  it('multi-word seeds, negative seeds and ranges over 2^32', () => {
    const big = new PythonRandom(123456789012345);
    expect(Array.from({ length: 4 }, () => big.randint(0, 2 ** 40)))
      .toEqual([483933185269, 903198669547, 419528762942, 1016661214963]);
    const negative = new PythonRandom(-7);
    expect(Array.from({ length: 6 }, () => negative.randint(5, 17))).toEqual([10, 7, 11, 15, 5, 6]);
    const huge = new PythonRandom(2n ** 64n + 3n);
    expect(Array.from({ length: 6 }, () => huge.randint(0, 99))).toEqual([63, 12, 59, 2, 24, 33]);
  });
});

describe('calibrationWindows (datautils.py)', () => {
  const ids = (n: number) => Array.from({ length: n }, (_, i) => i);

  it('draws offsets i = randint(0, len − seqlen − 1) after random.seed(seed)', () => {
    // random.seed(0); [random.randint(0, 53038 - 256 - 1) for _ in range(6)]
    const windows = calibrationWindows(ids(53038), 6, 256, 0);
    expect(windows.map((w) => w[0])).toEqual([25247, 49673, 27562, 2653, 16968, 33506]);
    for (const w of windows) expect(w).toEqual(ids(53038).slice(w[0], w[0] + 256));
    // random.seed(0); [random.randint(0, 300 - 16 - 1) for _ in range(5)]
    expect(calibrationWindows(ids(300), 5, 16).map((w) => w[0])).toEqual([197, 215, 20, 132, 261]);
  });

  it('needs at least seqlen + 1 tokens', () => {
    expect(calibrationWindows(ids(17), 3, 16).map((w) => w[0])).toEqual([0, 0, 0]);
    expect(() => calibrationWindows(ids(16), 3, 16)).toThrow(/gives 16 tokens; a window of seqlen 16 needs at least 17/);
    expect(() => calibrationWindows(ids(100), 0, 16)).toThrow(/nsamples/);
  });
});

describe('evaluationWindows', () => {
  it('cuts non-overlapping windows and drops the partial tail', () => {
    const ids = Array.from({ length: 10 }, (_, i) => i);
    expect(evaluationWindows(ids, 4)).toEqual([[0, 1, 2, 3], [4, 5, 6, 7]]);
    expect(evaluationWindows(ids, 10)).toEqual([ids]);
    expect(() => evaluationWindows(ids, 11)).toThrow(/gives 10 tokens, fewer than one window of seqlen 11/);
  });
});

describe('calibration from text', () => {
  const dir = sharedModelDir(STORIES_260K);
  const config = parseModelConfig(readFileSync(join(dir, 'config.json'), 'utf8'));
  const tokenizer = loadTokenizer(readFileSync(join(dir, 'tokenizer.json'), 'utf8'), readFileSync(join(dir, 'tokenizer_config.json'), 'utf8'));

  it('defaults: 128 windows of min(2048, context), seed 0', () => {
    expect(resolveCalibration(config)).toEqual({ nsamples: 128, seqlen: 512, seed: 0 });
    expect(() => resolveCalibration(config, { seqlen: 1024 })).toThrow(/context of 512/);
  });

  it('tokenizes without BOS and draws the windows', () => {
    const text = readCorpus('stories260K_generated_200_seed20251122.txt').slice(0, 20000);
    const { ids, windows, settings } = calibrationFromText(tokenizer, config, text, { nsamples: 4, seqlen: 64 });
    expect(ids[0]).not.toBe(tokenizer.bosId);
    expect(ids).toEqual(textToIds(tokenizer, text));
    expect(settings).toEqual({ nsamples: 4, seqlen: 64, seed: 0 });
    expect(windows.length).toBe(4);
    for (const w of windows) expect(w.length).toBe(64);
  });

  it('says when the text is too short', () => {
    expect(() => calibrationFromText(tokenizer, config, 'Once upon a time', { seqlen: 64 })).toThrow(/use a longer text/);
  });
});

describe('token ids outside the vocabulary', () => {
  const names = new Map([[512, '<|tool|>'], [600, 'zz']]);
  const tok = { tokenOf: (id: number) => names.get(id) };

  it('are refused naming the first token, its id, how many more and the vocabulary size', () => {
    expect(() => assertIdsInVocabulary([5, 511, 0], 512, tok, 'the prompt')).not.toThrow();
    expect(() => assertIdsInVocabulary([5, 512, 7, 600, 512], 512, tok, 'the prompt')).toThrow(
      /^the prompt has the token "<\|tool\|>" \(id 512\) and 2 more tokens outside the model's vocabulary of 512 \(ids 0–511\): the tokenizer has tokens the model has no embedding for/);
    expect(() => assertIdsInVocabulary([700], 512, tok, 'the text')).toThrow(/^the text has the token \(unnamed\) \(id 700\) outside/);
  });
});

describe('a calibration too small for the widest linear', () => {
  const linears = [{ name: 'self_attn.q_proj', in: 64 }, { name: 'mlp.down_proj', in: 172 }, { name: 'mlp.up_proj', in: 64 }];

  it('warns with the numbers when nsamples × seqlen < the input columns, and says what to change', () => {
    expect(calibrationRankWarning(linears, { nsamples: 2, seqlen: 32 }, 512)).toBe(
      'the calibration has 64 tokens (2 × 32), fewer than the 172 input columns of mlp.down_proj: its Hessian has rank at most 64, ' +
      'so GPTQ works on a damped, singular H there and can do worse than RTN. Use more calibration windows (nsamples, now 2; ' +
      'at least 6 at this length) or longer ones (seqlen, now 32; at least 86 with 2 windows)');
    // Longer windows are not offered past the model's context.
    expect(calibrationRankWarning(linears, { nsamples: 2, seqlen: 32 }, 64)).toMatch(/at least 6 at this length\)$/);
  });

  it('says nothing at or above the widest linear\'s columns, or with nothing quantized', () => {
    expect(calibrationRankWarning(linears, { nsamples: 1, seqlen: 172 }, 512)).toBeNull();
    expect(calibrationRankWarning(linears, { nsamples: 4, seqlen: 64 }, 512)).toBeNull();
    expect(calibrationRankWarning([], { nsamples: 1, seqlen: 2 }, 512)).toBeNull();
  });
});
