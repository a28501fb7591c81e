/** Held-out loss with the trainer's own forward, on the same windows the project's evaluation uses. */
import type { Workspace } from './model';

export interface WindowLoss {
  windows: number;
  /** Predictions scored: (seqlen − 1) per window, as forward-reference.ts's nextTokenNll counts them. */
  tokens: number;
  meanNll: number;
  perplexity: number;
}

/** Σ −log p(w[t+1] | w[..t]) over every window (each run on its own, no BOS), like perplexity() in forward-reference.ts. */
export function windowLoss(ws: Workspace, windows: readonly (readonly number[])[]): WindowLoss {
  if (ws.B !== 1) throw new RangeError('windowLoss needs a workspace of one sequence');
  let sum = 0;
  let count = 0;
  for (const w of windows) {
    if (w.length !== ws.T) throw new RangeError(`window of ${w.length} tokens, workspace of ${ws.T}`);
    const r = ws.forward(w, w.map((_, t) => (t + 1 < w.length ? w[t + 1] : -1)));
    sum += r.sum;
    count += r.count;
  }
  return { windows: windows.length, tokens: count, meanNll: sum / count, perplexity: Math.exp(sum / count) };
}

/** Greedy continuation (the prompt padded to the workspace length; causal, so padding never leaks back). */
export function greedy(ws: Workspace, prompt: readonly number[], maxNew: number): number[] {
  const ids = [...prompt];
  const V = ws.params.shape.vocab;
  while (ids.length < ws.T && ids.length - prompt.length < maxNew) {
    const padded = [...ids, ...new Array<number>(ws.T - ids.length).fill(0)];
    ws.forward(padded, new Array<number>(ws.T).fill(-1));
    const row = (ids.length - 1) * V;
    let best = 0;
    for (let j = 1; j < V; j++) if (ws.probs[row + j] > ws.probs[row + best]) best = j;
    ids.push(best);
  }
  return ids.slice(prompt.length);
}

/** Baseline: perplexity of add-one-smoothed unigram frequencies of the training ids, on the same predictions. */
export function unigramPerplexity(trainIds: ArrayLike<number>, windows: readonly (readonly number[])[], vocab: number): number {
  const counts = new Float64Array(vocab).fill(1);
  for (let i = 0; i < trainIds.length; i++) counts[trainIds[i]]++;
  const total = trainIds.length + vocab;
  let nll = 0;
  let n = 0;
  for (const w of windows) {
    for (let t = 1; t < w.length; t++) {
      nll -= Math.log(counts[w[t]] / total);
      n++;
    }
  }
  return Math.exp(nll / n);
}
