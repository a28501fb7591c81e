import { beforeAll, describe, expect, it } from 'vitest';
import {
  applyRope, causalAttention, finalLogits, forwardBlock, forwardLogits, embed, geluNew, greedyGenerate,
  loadReferenceModel, logSoftmax, nextTokenNll, perplexity, setLinearWeight, type ReferenceModel,
} from './forward-reference';
import { evaluationWindows, textToIds } from './calibration';
import { loadTokenizer } from './tokenizer';
import {
  MAKEMORE_NAMES, openSharedCheckpoint, readCorpus, readSharedModelJson, STORIES_260K, type MakemoreReference, type StoriesReference,
} from '../../testing/shared-models';

async function load(name: string): Promise<ReferenceModel> {
  return loadReferenceModel(await openSharedCheckpoint(name));
}

function lastRow(logits: Float64Array, T: number, V: number): number[] {
  return Array.from(logits.subarray((T - 1) * V, T * V));
}

describe('stories260K (llama: GQA 8/4, head_dim 8, RoPE, RMSNorm, tied head) against reference_greedy.json', () => {
  const ref = readSharedModelJson<StoriesReference>(STORIES_260K, 'reference_greedy.json');
  let model: ReferenceModel;
  beforeAll(async () => {
    model = await load(STORIES_260K);
  });

  it('top-5 logits of the last prompt position to 1e-4', () => {
    const T = ref.prompt_ids_with_bos.length;
    const row = lastRow(forwardLogits(model, ref.prompt_ids_with_bos), T, 512);
    const top5 = row.map((x, id) => [id, x]).sort((a, b) => b[1] - a[1]).slice(0, 5);
    expect(top5.map(([id]) => id)).toEqual(ref.last_prompt_logits_top5.map(([id]) => id));
    for (const [id, logit] of ref.last_prompt_logits_top5) expect(Math.abs(row[id] - logit)).toBeLessThan(1e-4);
  });

  it('greedy continuation: the 48 tokens exactly', () => {
    expect(greedyGenerate(model, ref.prompt_ids_with_bos, 48)).toEqual(ref.greedy_ids_48);
  });

  it('perplexity on aesop_fables at seqlen 256 (no BOS, 125 windows) is the 22.95 of shared/models/README.md', async () => {
    const ck = await openSharedCheckpoint(STORIES_260K);
    const tokenizer = loadTokenizer(ck.tokenizerJson!, ck.tokenizerConfigJson);
    const windows = evaluationWindows(textToIds(tokenizer, readCorpus('aesop_fables_body_reflowed.txt')), 256);
    expect(windows.length).toBe(125);
    const r = perplexity(model, windows);
    expect(r.tokens).toBe(125 * 255);
    expect(Math.abs(r.perplexity - 22.95)).toBeLessThan(0.01);
    // The f64 forward over 32k tokens: seconds on a quiet machine, minutes on a loaded one.
  }, 900_000);
});

describe('makemore-names-gpt2 (gpt2: learned positions, LayerNorm, fused c_attn, gelu_new, untied head)', () => {
  const ref = readSharedModelJson<MakemoreReference>(MAKEMORE_NAMES, 'reference_greedy.json');
  let model: ReferenceModel;
  beforeAll(async () => {
    model = await load(MAKEMORE_NAMES);
  });

  it('all 27 logits of the first step to 1e-4', () => {
    const row = lastRow(forwardLogits(model, ref.start_ids), ref.start_ids.length, 27);
    row.forEach((x, i) => expect(Math.abs(x - ref.first_step_logits[i])).toBeLessThan(1e-4));
  });

  it('greedy name from <|endoftext|> exactly, ending with <|endoftext|>', () => {
    expect(greedyGenerate(model, ref.start_ids, 15, [0])).toEqual([...ref.greedy_ids, 0]);
  });

  it('the context limit is n_positions', () => {
    expect(() => forwardLogits(model, new Array(17).fill(1))).toThrow(/context of 16/);
    expect(() => forwardLogits(model, [27])).toThrow(/outside the vocabulary/);
  });
});

describe('pieces of the forward pass', () => {
  it('forwardLogits = embed → blocks → finalLogits, and hooks see each linear input', async () => {
    const model = await load(STORIES_260K);
    const ids = [1, 403, 407, 261];
    let X = embed(model, ids);
    const seen: string[] = [];
    for (let b = 0; b < 5; b++) {
      X = forwardBlock(model, b, X, ids.length, { onLinearInput: (name, input, T) => {
        seen.push(`${b}:${name}:${input.length / T}`);
      } });
    }
    expect(finalLogits(model, X, ids.length)).toEqual(forwardLogits(model, ids));
    expect(seen.slice(0, 7)).toEqual([
      '0:self_attn.q_proj:64', '0:self_attn.k_proj:64', '0:self_attn.v_proj:64', '0:self_attn.o_proj:64',
      '0:mlp.gate_proj:64', '0:mlp.up_proj:64', '0:mlp.down_proj:172',
    ]);
  });

  it('setLinearWeight swaps a weight [out, in] and changes the output; a wrong size is refused', async () => {
    const model = await load(MAKEMORE_NAMES);
    const before = forwardLogits(model, [0, 1, 14]);
    setLinearWeight(model, 3, 'mlp.c_proj', new Float32Array(64 * 256));
    expect(forwardLogits(model, [0, 1, 14])).not.toEqual(before);
    expect(() => setLinearWeight(model, 0, 'attn.c_attn', new Float32Array(10))).toThrow(/192×64/);
  });

  it('RoPE rotates pairs (i, i + d/2) by pos·θ^(−2i/d); position 0 is unchanged', () => {
    const X = Float64Array.from([1, 2, 3, 4, 1, 0, 0, 0]); // T = 2, one head, d = 4
    applyRope(X, 2, 1, 4, 10000);
    expect(Array.from(X.subarray(0, 4))).toEqual([1, 2, 3, 4]);
    expect(X[4]).toBeCloseTo(Math.cos(1), 15);
    expect(X[6]).toBeCloseTo(Math.sin(1), 15);
    expect(X[5]).toBe(0);
  });

  it('GQA attention: query heads 0,1 read kv head 0, heads 2,3 kv head 1; the first row attends to itself', () => {
    const T = 2;
    const d = 1;
    const Q = new Float64Array(T * 4);
    const K = new Float64Array(T * 2);
    const V = Float64Array.from([10, 20, 30, 40]); // [T, 2 kv heads]
    const out = causalAttention(Q, 4, 0, K, V, 2, 0, 0, T, 4, 2, d);
    expect(Array.from(out)).toEqual([10, 10, 20, 20, 20, 20, 30, 30]);
  });

  it('gelu_new, log-softmax and next-token NLL', () => {
    expect(geluNew(0)).toBe(0);
    expect(geluNew(1)).toBeCloseTo(0.8411919906082768, 15);
    const logits = Float64Array.from([0, 0, 0, Math.log(3), 0, 0]); // T = 2, V = 3
    expect(Array.from(logSoftmax(logits, 3, 0)).every((x) => Math.abs(x + Math.log(3)) < 1e-15)).toBe(true);
    const nll = nextTokenNll(logits, [0, 2], 3);
    expect(nll.count).toBe(1);
    expect(nll.sum).toBeCloseTo(Math.log(3), 15);
  });

  it('perplexity of the names model on its own text is that of a trained model', async () => {
    const model = await load(MAKEMORE_NAMES);
    // <|endoftext|>emma<|endoftext|>olivia... as in names_eot.txt: 0 e m m a 0 o l i v i a 0 ...
    const names = ['emma', 'olivia', 'ava', 'isabella', 'sophia', 'charlotte', 'mia', 'amelia'];
    const ids = [0, ...names.flatMap((n) => [...n].map((ch) => ch.charCodeAt(0) - 96).concat(0))];
    const r = perplexity(model, evaluationWindows(ids, 16));
    expect(r.tokens).toBe(Math.floor(ids.length / 16) * 15);
    expect(r.perplexity).toBeGreaterThan(1);
    expect(r.perplexity).toBeLessThan(15); // uniform over 27 characters would be 27
    expect(r.meanNll).toBeCloseTo(Math.log(r.perplexity), 12);
  });
});
