/**
 * Checks the written checkpoint folder with the project's own code: the reader (openCheckpoint),
 * the tokenizer loader and the f64 reference forward. Run alone: npx tsx tools/demo-model/verify.ts [dir]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { evaluationWindows, textToIds } from '../../src/core/model/calibration';
import { openCheckpoint, type CheckpointSummary } from '../../src/core/model/checkpoint';
import { loadReferenceModel, perplexity } from '../../src/core/model/forward-reference';
import { loadTokenizer } from '../../src/core/model/tokenizer';
import { folderSources } from '../../src/testing/node-source';

export interface ReferenceEval {
  file: string;
  windows: number;
  tokens: number;
  meanNll: number;
  perplexity: number;
}

export interface Verification {
  summary: CheckpointSummary;
  /** Every block linear as name: [out, in]. */
  linears: Record<string, [number, number]>;
  evals: ReferenceEval[];
}

/** Opens dir as a checkpoint and measures f64 perplexity on each text (seqlen windows, at most maxWindows). */
export async function verifyCheckpoint(dir: string, texts: readonly string[], seqlen: number, maxWindows = Infinity): Promise<Verification> {
  const ck = await openCheckpoint(await folderSources(dir));
  const summary = ck.summary();
  const linears: Record<string, [number, number]> = {};
  for (const l of ck.layout.block.linears) {
    if (l.out % 32 !== 0 || l.in % 32 !== 0) throw new Error(`${l.name}: [${l.out}, ${l.in}] is not a multiple of 32`);
    linears[l.name] = [l.out, l.in];
  }
  const tokenizer = loadTokenizer(ck.tokenizerJson!, ck.tokenizerConfigJson);
  const model = await loadReferenceModel(ck);
  const evals: ReferenceEval[] = [];
  for (const file of texts) {
    const text = readFileSync(join(dir, file), 'utf8');
    const ids = textToIds(tokenizer, text);
    if (tokenizer.decode(ids) !== text) throw new Error(`${file}: decode(encode(text)) differs from the text`);
    const windows = evaluationWindows(ids, seqlen).slice(0, maxWindows);
    const r = perplexity(model, windows);
    evals.push({ file, windows: windows.length, tokens: r.tokens, meanNll: r.meanNll, perplexity: r.perplexity });
  }
  return { summary, linears, evals };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const dir = process.argv[2] ?? fileURLToPath(new URL('../../public/demo', import.meta.url));
  const t0 = performance.now();
  const v = await verifyCheckpoint(dir, ['eval-kjv.txt', 'eval-license.txt'], 128);
  console.log(JSON.stringify(v, null, 2));
  console.log(`verified in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
