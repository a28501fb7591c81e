/**
 * Greedy generation with a KV cache: the prompt runs through the model once (its keys and values
 * cached per block), then each new token costs one token's forward: its embedding, every block on
 * one row attending to the cache, and the LM head on that row. The ids equal those of rerunning the
 * whole sequence per token (greedy in model-forward.ts), as transformers' generate with a cache does.
 *
 * Block weights are uploaded once and kept on the GPU while they fit `residentBytes`; the blocks
 * past it are read from the BlockSource and uploaded again for every token.
 */
import type { GpuRuntime } from '../../gpu/runtime';
import type { GpuMatrix } from '../../gpu/matrix';
import {
  encodeLinear,
  FORWARD_STATUS,
  FORWARD_STATUS_SLOTS,
  NO_TARGET,
} from '../../gpu/kernels/forward';
import { BlockRunner, type GpuBlock } from './block-forward';
import { KvCache, ropeFixedBetween } from './kv-cache';
import { encodeHeadScores } from './lm-head';
import { releaseBlock, scoreSequences, uploadBlock, type BlockSource, type GpuGlobals, type HostBlock } from './model-forward';

/** Block weights kept on the GPU between tokens by default (bytes). */
export const DEFAULT_RESIDENT_BYTES = 256 << 20;

export interface GenerateOptions {
  signal?: AbortSignal;
  /** Hears each new token as it is chosen (index 0 is the first new token). */
  onToken?: (id: number, index: number) => void;
  /** Block weights kept on the GPU between tokens, in bytes (default DEFAULT_RESIDENT_BYTES). */
  residentBytes?: number;
}

export interface Generated {
  /** The new tokens (fewer than asked when the context ends first). */
  ids: number[];
  /** The logits [vocab] that chose the last new token (null when none was made). */
  lastLogits: Float32Array | null;
  /** Whether the KV cache was used (false: every token reran the whole sequence, see generateGreedy). */
  cached: boolean;
}

function hostBytes(h: HostBlock): number {
  let n = 0;
  for (const l of h.linears.values()) n += l.W.byteLength + (l.bias?.byteLength ?? 0);
  for (const x of h.norms.values()) n += x.weight.byteLength + (x.bias?.byteLength ?? 0);
  return n;
}

/**
 * Greedy continuation of `prompt` by up to `count` tokens, stopping where the model's context
 * (maxPositions) ends, exactly as greedy() in model-forward.ts but with a KV cache. Where a RoPE
 * scaling's frequencies change with the length inside the run (longrope crossing its original
 * context), cached keys would not be those of a full forward: every token then reruns the whole
 * sequence (Generated.cached false). Throws RangeError for an empty prompt or an id outside the
 * vocabulary; rejects with the signal's reason when aborted.
 */
export async function generateGreedy(
  rt: GpuRuntime,
  globals: GpuGlobals,
  blocks: BlockSource,
  prompt: readonly number[],
  count: number,
  opts: GenerateOptions = {},
): Promise<Generated> {
  const spec = globals.spec;
  const P = prompt.length;
  if (P === 0) throw new RangeError('an empty prompt: give at least one token id');
  const n = Math.max(0, Math.min(count, spec.maxPositions - P + 1));
  if (n === 0) return { ids: [], lastLogits: null, cached: true };
  // Positions the cache must hold: the prompt and every new token but the last.
  const capacity = P + n - 1;
  if (!ropeFixedBetween(spec, P, capacity)) return { ...(await rerun(rt, globals, blocks, prompt, n, opts)), cached: false };
  return rt.scoped('Generation', () => cached(rt, globals, blocks, prompt, n, capacity, opts));
}

/** Every token reruns the whole sequence (no cache). */
async function rerun(rt: GpuRuntime, globals: GpuGlobals, blocks: BlockSource, prompt: readonly number[], n: number, opts: GenerateOptions) {
  const ids = [...prompt];
  const out: number[] = [];
  let lastLogits: Float32Array | null = null;
  for (let i = 0; i < n; i++) {
    const s = await scoreSequences(rt, globals, blocks, Uint32Array.from(ids), ids.length, opts.signal);
    const next = s.argmax[ids.length - 1];
    lastLogits = s.lastLogits;
    out.push(next);
    ids.push(next);
    opts.onToken?.(next, i);
  }
  return { ids: out, lastLogits };
}

async function cached(
  rt: GpuRuntime,
  globals: GpuGlobals,
  blocks: BlockSource,
  prompt: readonly number[],
  n: number,
  capacity: number,
  opts: GenerateOptions,
): Promise<Generated> {
  const spec = globals.spec;
  const limit = rt.bindingLimit;
  const P = prompt.length;
  const budget = opts.residentBytes ?? DEFAULT_RESIDENT_BYTES;
  const cache = new KvCache(rt, spec, capacity);
  const resident: (GpuBlock | null)[] = new Array<GpuBlock | null>(spec.layers).fill(null);
  let residentBytes = 0;
  const status = rt.storage(FORWARD_STATUS_SLOTS * 4, 'generate.status');
  const slot = { buffer: status, slot: FORWARD_STATUS.embedRowOutOfRange };
  const targets = rt.storage(4, 'generate.targets');
  rt.upload(targets, 0, Uint32Array.of(NO_TARGET));
  const nll = rt.storage(4, 'generate.nll');
  const argmax = rt.storage(4, 'generate.argmax');
  const idsBuf = rt.storage(P * 4, 'generate.ids');
  const owned: (GPUBuffer | GpuMatrix)[] = [status, targets, nll, argmax, idsBuf];
  let runner: BlockRunner | null = null;
  const out: number[] = [];

  /**
   * Runs `tokens` new tokens (ids in idsBuf) at positions cache.length…; returns the argmax of the
   * last one's logits, and with readLogits those logits.
   */
  const step = async (tokens: number, label: string, readLogits: boolean): Promise<{ id: number; logits: Float32Array | null }> => {
    const pos = cache.length;
    const h0 = rt.matrix(tokens, spec.hidden, `${label}.h0`);
    const h1 = rt.matrix(tokens, spec.hidden, `${label}.h1`);
    const temps: (GPUBuffer | GpuMatrix)[] = [h0, h1];
    let [h, next] = [h0, h1];
    try {
      // One submission per token while every block is resident; a streamed block is submitted
      // before its buffers go back to the pool.
      let rec = rt.recorder(label);
      temps.push(...globals.encodeEmbedding(rec, idsBuf, h, tokens, slot, pos));
      for (let b = 0; b < spec.layers; b++) {
        if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('cancelled');
        let block = resident[b];
        let keep = block !== null;
        if (!block) {
          const host = await blocks(b);
          const bytes = hostBytes(host);
          block = uploadBlock(rt, spec, host, b);
          keep = residentBytes + bytes <= budget;
          if (keep) {
            resident[b] = block;
            residentBytes += bytes;
          }
        }
        runner!.encode(rec, h, next, block, { kv: { cache: cache.layers[b], cached: pos } });
        if (!keep) {
          rec.finish();
          releaseBlock(rt, block);
          rec = rt.recorder(`${label}.after${b}`);
        }
        [h, next] = [next, h];
      }
      let headIn = h;
      if (globals.finalNorm) {
        runner!.encodeFinalNorm(rec, h, globals.finalNorm);
        headIn = runner!.normed;
      }
      if (globals.projectOut) {
        const projected = rt.matrix(tokens, spec.embedDim, `${label}.projectOut`);
        temps.push(projected);
        encodeLinear(rec, headIn, globals.projectOut, projected, limit);
        headIn = projected;
      }
      // The head on the last row only (its logits a chunk of vocabulary at a time).
      const lastIn = tokens === 1 ? headIn : rt.matrix(1, headIn.cols, `${label}.lastRow`);
      if (lastIn !== headIn) {
        temps.push(lastIn);
        rec.copy(headIn.buffer, (tokens - 1) * headIn.ld * 4, lastIn.buffer, 0, headIn.ld * 4);
      }
      const head = encodeHeadScores(rt, rec, lastIn, globals.head, spec.layout.logitSoftcap, {
        targets, nll, argmax, status: { buffer: status, slot: FORWARD_STATUS.targetOutOfRange },
      });
      temps.push(...head.temps);
      rec.finish();
      cache.length = pos + tokens;
      const id = (await rt.readU32(argmax, 0, 1))[0];
      return { id, logits: readLogits ? await rt.readF32(head.lastLogits, 0, spec.vocab) : null };
    } finally {
      if (!rt.isLost) rt.release(...temps);
    }
  };

  try {
    let rec = rt.recorder('generate.start');
    rec.clear(status);
    rec.finish();
    rt.upload(idsBuf, 0, Uint32Array.from(prompt));
    runner = new BlockRunner(rt, { spec, seqlen: P, tokens: P, ropePositions: capacity });
    let { id, logits } = await step(P, 'generate.prefill', n === 1);
    const flags = await rt.readU32(status, 0, FORWARD_STATUS_SLOTS);
    if (flags[FORWARD_STATUS.embedRowOutOfRange]) {
      throw new RangeError(`a prompt id is outside the model's vocabulary of ${spec.vocab}; check the ids before generating`);
    }
    runner.release();
    runner = new BlockRunner(rt, { spec, seqlen: 1, tokens: 1, ropePositions: capacity });
    for (let i = 0; ; i++) {
      out.push(id);
      opts.onToken?.(id, i);
      if (i === n - 1) break;
      rt.upload(idsBuf, 0, Uint32Array.of(id));
      ({ id, logits } = await step(1, 'generate.token', i === n - 2));
    }
    return { ids: out, lastLogits: logits, cached: true };
  } finally {
    if (!rt.isLost) {
      runner?.release();
      for (const b of resident) if (b) releaseBlock(rt, b);
      cache.release();
      rt.release(...owned);
    }
  }
}
