/**
 * Attention kernels on the same adapter: the one-invocation-per-(query, head) kernel of the full
 * forward (shaders/attention.wgsl) against the tiled kernel (shaders/attention_tiled.wgsl), over
 * fused QKV activations of several sequences, and the tiled kernel over a KV cache for one new
 * token (a decode step). Prints milliseconds and nominal GFLOP/s (QKᵀ and PV over the causal keys),
 * and first the kernel the device's probe (tuneAttention) chooses for the full forward and its
 * timings; asserts nothing.
 * Run: npm run bench:attention [-- --shapes seqlen×sequences×heads/kvHeads×headDim,… --reps N]
 */
import { nodeRuntime } from '../src/testing/node-gpu';
import { encodeAttention as encodePerQuery } from '../src/gpu/kernels/forward';
import { encodeAttention as encodeTiled, encodeCachedAttention } from '../src/gpu/kernels/attention-tiled';
import { tuneAttention } from '../src/gpu/kernels/attention-choice';
import { describeAttentionChoice } from '../src/core/kernel-choice';
import { describeAdapter } from '../src/gpu/device';
import type { GpuRuntime } from '../src/gpu/runtime';
import type { Recorder } from '../src/gpu/recorder';
import { flagUsage, intFlag, readFlags, runBench, UsageError } from './flags';

interface Shape {
  seqlen: number;
  sequences: number;
  heads: number;
  kvHeads: number;
  headDim: number;
}

/** stories260K, GPT-2 small, a llama-like 128-dim head, a 256-dim head (Gemma). */
const DEFAULT_SHAPES = '256x16x8/4x8,128x4x12/12x64,512x1x8/8x128,256x1x4/1x256';

const FLAGS: Record<string, string> = {
  '--shapes': `seqlen×sequences×heads/kvHeads×headDim, comma-separated (default ${DEFAULT_SHAPES})`,
  '--reps': 'timed runs after the warm-up; the best is printed (default 2)',
};
const USAGE = flagUsage('npm run bench:attention', FLAGS, 9);

function parseShapes(text: string): Shape[] {
  return text.split(',').map((s) => {
    const m = /^(\d+)x(\d+)x(\d+)\/(\d+)x(\d+)$/.exec(s.trim());
    if (!m) throw new UsageError(`--shapes: "${s}" is not seqlen×sequences×heads/kvHeads×headDim, e.g. 128x4x12/12x64`);
    const [seqlen, sequences, heads, kvHeads, headDim] = m.slice(1).map(Number);
    return { seqlen, sequences, heads, kvHeads, headDim };
  });
}

function parseArgs(argv: string[]): { shapes: Shape[]; reps: number } {
  const values = readFlags(argv, FLAGS, USAGE);
  return { shapes: parseShapes(values.get('--shapes') ?? DEFAULT_SHAPES), reps: intFlag(values, '--reps', 1) ?? 2 };
}

const now = () => performance.now() / 1000;
const fmt = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '—');

/** Best of `reps` timed runs after a warm-up, in seconds. */
async function best(rt: GpuRuntime, reps: number, label: string, encode: (rec: Recorder) => void): Promise<number> {
  const run = async () => {
    const rec = rt.recorder(label);
    encode(rec);
    rec.finish();
    await rt.idle();
  };
  await run();
  let t = Infinity;
  for (let i = 0; i < reps; i++) {
    const t0 = now();
    await run();
    t = Math.min(t, now() - t0);
  }
  return t;
}

async function main() {
  const { shapes, reps } = parseArgs(process.argv.slice(2));
  const rt = await nodeRuntime();
  console.log(`adapter: ${describeAdapter(rt.summary)} — ${rt.summary.description || 'no description'}`);
  console.log(`backend: ${process.env.WGPU_BACKEND ?? 'opengles'}; best of ${reps} after a warm-up`);
  const t0 = now();
  const choice = await tuneAttention(rt);
  console.log(`full-forward attention chosen by the probe (${fmt((now() - t0) * 1000, 0)} ms): ${describeAttentionChoice(choice)}`);
  console.log('');
  console.log('| seqlen × sequences, heads/kv × head_dim | per-query ms (GFLOP/s) | tiled ms (GFLOP/s) | decode step at seqlen, tiled ms |');
  console.log('|---|---|---|---|');
  try {
    for (const s of shapes) {
      const T = s.seqlen * s.sequences;
      const q = s.heads * s.headDim;
      const kv = s.kvHeads * s.headDim;
      const qkv = rt.matrix(T, q + 2 * kv, 'bench.qkv');
      const o = rt.matrix(T, q, 'bench.o');
      const inputs = { Q: qkv, qOff: 0, K: qkv, kOff: q, V: qkv, vOff: q + kv, heads: s.heads, kvHeads: s.kvHeads, headDim: s.headDim, seqlen: s.seqlen };
      const flops = 4 * T * q * ((s.seqlen + 1) / 2);
      const perQuery = await best(rt, reps, 'bench.perQuery', (rec) => encodePerQuery(rec, inputs, o, rt.bindingLimit));
      const tiled = await best(rt, reps, 'bench.tiled', (rec) => encodeTiled(rec, inputs, o, rt.bindingLimit));
      const cache = { K: rt.matrix(s.seqlen, kv, 'bench.cacheK'), V: rt.matrix(s.seqlen, kv, 'bench.cacheV') };
      const one = rt.matrix(1, q + 2 * kv, 'bench.token');
      const oneOut = rt.matrix(1, q, 'bench.tokenOut');
      const decode = await best(rt, reps, 'bench.decode', (rec) =>
        encodeCachedAttention(rec, { ...inputs, Q: one, K: one, V: one, cached: s.seqlen - 1 }, cache, oneOut, rt.bindingLimit),
      );
      console.log(
        `| ${s.seqlen} × ${s.sequences}, ${s.heads}/${s.kvHeads} × ${s.headDim} | ${fmt(perQuery * 1000, 1)} (${fmt(flops / perQuery / 1e9)}) | ` +
          `${fmt(tiled * 1000, 1)} (${fmt(flops / tiled / 1e9)}) | ${fmt(decode * 1000, 2)} |`,
      );
      rt.release(qkv, o, cache.K, cache.V, one, oneOut);
    }
  } finally {
    rt.destroy();
  }
}

runBench(main, USAGE);
