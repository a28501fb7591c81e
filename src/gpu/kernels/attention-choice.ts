/**
 * The full forward pass's attention (capture, evaluation) on the kernel measured to be faster on
 * this device: the per-query kernel (forward.ts, shaders/attention.wgsl) or the tiled one
 * (attention-tiled.ts, shaders/attention_tiled.wgsl). tuneAttention times both once per device on
 * a short probe and chooses by src/core/kernel-choice.ts's margin rule; encodeForwardAttention
 * then dispatches the chosen one. Before the probe (or when it fails) the per-query kernel runs.
 * KV-cache generation always uses the tiled kernel (encodeCachedAttention).
 */
import {
  chooseAttentionKernel,
  TILED_ATTENTION_MARGIN,
  UNPROBED_ATTENTION,
  type AttentionChoice,
  type AttentionKernel,
  type AttentionProbe,
} from '../../core/kernel-choice';
import type { GpuMatrix } from '../matrix';
import type { Recorder } from '../recorder';
import type { GpuRuntime } from '../runtime';
import { encodeAttention as encodeTiled } from './attention-tiled';
import { encodeAttention as encodePerQuery, type AttentionInputs } from './forward';

const chosen = new WeakMap<GPUDevice, AttentionChoice>();
const probes = new WeakMap<GPUDevice, Promise<AttentionChoice>>();

/** The attention kernel encodeForwardAttention uses on `device`, and the timings behind it. */
export function attentionChoiceOf(device: GPUDevice): AttentionChoice {
  return chosen.get(device) ?? UNPROBED_ATTENTION;
}

/**
 * O [tokens, heads·headDim] = causal attention of each sequence of Q, K, V (see forward.ts
 * encodeAttention) with the device's chosen kernel, or `kernel` when given. Throws what the
 * kernel's encoder throws (head_dim above 256; for the tiled kernel, heads not groups of kvHeads).
 */
export function encodeForwardAttention(
  rec: Recorder,
  a: AttentionInputs,
  O: GpuMatrix,
  bindingLimit: number,
  kernel: AttentionKernel = attentionChoiceOf(rec.device).kernel,
): void {
  if (kernel === 'tiled') encodeTiled(rec, a, O, bindingLimit);
  else encodePerQuery(rec, a, O, bindingLimit);
}

/**
 * The probe's first shape: 4 sequences of 64 tokens, 4 query / 2 kv heads of 64 (8.4 MFLOP). Its
 * 16 per-query workgroups (and 128 tiled ones) keep a many-core CPU adapter's threads busy with
 * either kernel, so neither wins by occupancy alone.
 */
const PROBE = { sequences: 4, seqlen: 64, heads: 4, kvHeads: 2, headDim: 64 } as const;
/** The work grows (sequences, then repeated dispatches) until the per-query kernel takes this long. */
const PROBE_MIN_SECONDS = 0.01;
const MAX_SEQUENCES = 64;
const MAX_REPEATS = 16;
/** Timed runs of each kernel at the final size, interleaved; the best of each counts. */
const PROBE_RUNS = 2;

/**
 * Times both kernels on `rt`'s device and makes encodeForwardAttention use the one the margin rule
 * picks. The probe is causal GQA attention over sequences of 64 tokens (4/2 heads of 64): 4
 * sequences, or as many more (up to 64) and dispatches per submit (up to 16) as make one per-query
 * timing last PROBE_MIN_SECONDS, enough work to fill a GPU. Each kernel compiles first in an
 * untimed run on one sequence; a kernel that fails to compile counts as infinitely slow. On a CPU
 * adapter the probe stays at 4 sequences: those 2 runs and 4 timed ones (about 1 s on a loaded
 * 2-core llvmpipe, as long as tuneGemm there). Runs once per device; later calls return the first
 * answer. Never rejects: a probe that throws (a lost device) leaves the per-query kernel, with no
 * probe recorded.
 */
export function tuneAttention(rt: GpuRuntime): Promise<AttentionChoice> {
  let p = probes.get(rt.device);
  if (!p) {
    const margin = TILED_ATTENTION_MARGIN;
    const mine: Promise<AttentionChoice> = probeAttention(rt).then(
      (probe) => {
        const choice: AttentionChoice = {
          kernel: chooseAttentionKernel(probe.perQueryMs ?? Infinity, probe.tiledMs ?? Infinity, margin),
          margin,
          probe,
        };
        // Unless useAttentionKernel chose meanwhile.
        if (probes.get(rt.device) === mine) chosen.set(rt.device, choice);
        return choice;
      },
      () => ({ ...UNPROBED_ATTENTION, margin }),
    );
    p = mine;
    probes.set(rt.device, p);
  }
  return p;
}

/** Makes `kernel` the device's full-forward attention without timing; a later tuneAttention keeps it. For tests. */
export function useAttentionKernel(rt: GpuRuntime, kernel: AttentionKernel): void {
  const choice: AttentionChoice = { kernel, margin: TILED_ATTENTION_MARGIN, probe: null };
  chosen.set(rt.device, choice);
  probes.set(rt.device, Promise.resolve(choice));
}

/** Q|K|V [rows, q + 2·kv] holding small values (a pooled buffer may hold anything, NaN included), and O [rows, q]. */
function probeBuffers(rt: GpuRuntime, rows: number, width: number, q: number): { qkv: GpuMatrix; out: GpuMatrix } {
  const qkv = rt.matrix(rows, width, 'attentionTune.qkv');
  rt.uploadMatrix(qkv, Float32Array.from({ length: rows * width }, (_, i) => Math.sin(i) * 0.5));
  return { qkv, out: rt.matrix(rows, q, 'attentionTune.o') };
}

async function probeAttention(rt: GpuRuntime): Promise<AttentionProbe> {
  const { seqlen, heads, kvHeads, headDim } = PROBE;
  const q = heads * headDim;
  const kv = kvHeads * headDim;
  let sequences = 1;
  let repeats = 1;
  // Compiled on one sequence, timed on PROBE.sequences or more.
  let bufs = probeBuffers(rt, seqlen, q + 2 * kv, q);
  const time = async (kernel: AttentionKernel) => {
    const { qkv, out } = bufs;
    const inputs: AttentionInputs = { Q: qkv, qOff: 0, K: qkv, kOff: q, V: qkv, vOff: q + kv, heads, kvHeads, headDim, seqlen };
    const t0 = performance.now();
    const rec = rt.recorder('attentionTune');
    for (let r = 0; r < repeats; r++) encodeForwardAttention(rec, inputs, out, rt.bindingLimit, kernel);
    rec.finish();
    await rt.idle();
    return (performance.now() - t0) / 1000;
  };
  const best: Record<AttentionKernel, number> = { 'per-query': Infinity, tiled: Infinity };
  try {
    // Compile each kernel (untimed); one that fails validation stays at Infinity and is not run again.
    const runs: AttentionKernel[] = [];
    for (const k of ['per-query', 'tiled'] as const) {
      rt.device.pushErrorScope('validation');
      await time(k);
      if (!(await rt.device.popErrorScope())) runs.push(k);
    }
    sequences = PROBE.sequences;
    rt.release(bufs.qkv, bufs.out);
    bufs = probeBuffers(rt, seqlen * sequences, q + 2 * kv, q);
    if (runs.includes('per-query')) {
      let t = await time('per-query');
      while (t < PROBE_MIN_SECONDS && (sequences < MAX_SEQUENCES || repeats < MAX_REPEATS)) {
        if (sequences < MAX_SEQUENCES) {
          sequences *= 2;
          rt.release(bufs.qkv, bufs.out);
          bufs = probeBuffers(rt, seqlen * sequences, q + 2 * kv, q);
        } else {
          repeats *= 2;
        }
        t = await time('per-query');
      }
      best['per-query'] = t;
    }
    // Interleaved, per-query (the growth's last), tiled, per-query, tiled: a change of the machine's load falls on both.
    for (let r = 0; r < PROBE_RUNS; r++) {
      if (r > 0 && runs.includes('per-query')) best['per-query'] = Math.min(best['per-query'], await time('per-query'));
      if (runs.includes('tiled')) best.tiled = Math.min(best.tiled, await time('tiled'));
    }
  } finally {
    if (!rt.isLost) rt.release(bufs.qkv, bufs.out);
  }
  // In ms to 0.01 ms, the figures the rule is then applied to (so the report's figures give its choice).
  const ms = (s: number) => (Number.isFinite(s) ? Math.round(s * 1e5) / 100 : null);
  return {
    shape: { sequences, seqlen, heads, kvHeads, headDim, repeats },
    perQueryMs: ms(best['per-query']),
    tiledMs: ms(best.tiled),
  };
}
