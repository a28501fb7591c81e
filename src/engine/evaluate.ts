/**
 * Perplexity on held-out text: non-overlapping windows of seqlen tokens, each scored on its
 * own (every position predicts the next token of its window), mean NLL over all scored
 * positions, exp. Windows are scored in passes of at most `windowsPerPass`.
 */
import type { GpuRuntime } from '../gpu/runtime';
import { GpuGlobals, scoreSequences, type BlockSource } from './model/model-forward';
import type { LoadedModel } from './model/load-model';
import { throwIfCancelled } from './quantize-model';

export async function perplexity(
  rt: GpuRuntime,
  model: LoadedModel,
  blocks: BlockSource,
  windows: Uint32Array,
  seqlen: number,
  windowsPerPass: number,
  signal?: AbortSignal,
): Promise<number> {
  const count = windows.length / seqlen;
  if (!Number.isInteger(count) || count === 0) throw new RangeError(`${windows.length} ids are not whole windows of ${seqlen}`);
  const globals = new GpuGlobals(rt, model.spec, model.globals);
  let sum = 0;
  let scored = 0;
  try {
    for (let w0 = 0; w0 < count; w0 += windowsPerPass) {
      throwIfCancelled(signal);
      const n = Math.min(windowsPerPass, count - w0);
      const s = await scoreSequences(rt, globals, blocks, windows.subarray(w0 * seqlen, (w0 + n) * seqlen), seqlen, signal);
      for (const v of s.nll) sum += v;
      scored += s.scored;
    }
  } finally {
    if (!rt.isLost) globals.release();
  }
  return Math.exp(sum / scored);
}
