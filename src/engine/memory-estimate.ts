/**
 * Peak GPU bytes of a whole-model run (runModel: quantizeModel, then the streamed evaluation with
 * the divergence), estimated before it starts, and the check that refuses a run the adapter cannot
 * hold. WebGPU does not tell how much memory an adapter has, so the check is against maxBufferSize
 * for every single buffer and against a budget for the total.
 *
 * The estimate follows the run's allocation sites buffer by buffer and bounds what the buffer pool
 * (src/gpu/buffer-pool.ts) holds allocated at its peak (peakBytesAllocated, the report's
 * peak_gpu_bytes): every buffer rounded up as the pool rounds it; a buffer released and asked for
 * again at the same size counted once, as the pool hands it out again. The run empties the pool
 * (BufferPool.trim) after the embedding, after each group of linears, after the quantization and
 * after each evaluation pass, so its peak is that of its largest phase:
 *   embedding     the calibration windows' hidden states and ids, the block runner's scratch, and
 *                 the weights outside the blocks as stored (2 bytes an element for F16 and BF16
 *                 checkpoints: GlobalsHeld)
 *   quantization  the same activations and scratch, one block's weights, and one group of linears
 *                 (their W and H; GPTQ's working copies, factors, codes and read-backs)
 *   evaluation    the weights outside the blocks with, for an F16 export, their F16 values beside
 *                 them (HalfGlobals); one pass's hidden states of the three models and their head
 *                 inputs; one block's weights and codes, and RTN's work to make its codes again
 *                 (one linear at a time); the divergence's two chunks of logits (at
 *                 most LOGITS_CHUNK_BYTES together, divergence.ts), on which each model's NLL is
 *                 scored too (evaluate.ts nllAtHead: the run makes no LM-head chunk of its own)
 * Not counted: AWQ and the sensitivity map (sweeps only), generation, the adapter speed probe.
 */
import { elementBytes, formatLd, matrixBytes, paddedLd, rowChunks, type ElementFormat } from '../gpu/matrix';
import { BUFFER_SIZE_QUANTUM } from '../gpu/buffer-pool';
import { READBACK_CHUNK } from '../gpu/runtime';
import { ARENA_BYTES } from '../gpu/recorder';
import { STATUS_SLOTS } from '../gpu/kernels/checks';
import { FORWARD_STATUS_SLOTS } from '../gpu/kernels/forward';
import { CHOL_NB, choleskyScratchBytes, inverseScratchBytes } from '../gpu/kernels/cholesky';
import { DIVERGENCE_FIELDS } from '../gpu/kernels/divergence';
import { outputErrorScratchBytes } from '../gpu/kernels/output-error';
import type { AdapterSummary } from '../gpu/device';
import { globalShape, type GlobalMatrix, type ModelSpec } from './model/model-forward';
import { blockScratch } from './model/block-forward';
import { logitChunk } from './model/lm-head';
import { MAX_PATCH_FRACTION } from './model/half-patch';
import { divergenceChunkRows } from './divergence';
import { blockNorms, inputSets, mlpLinears } from '../core/model/architecture';
import { wordsPerRow } from '../core/packed-quant';
import { groupCount } from '../core/types';
import type { RunSettings } from '../core/run';
import type { Checkpoint } from '../core/model/checkpoint';

/** The settings the estimate reads. */
export type RunShape = Pick<RunSettings, 'nsamples' | 'seqlen' | 'groupSize' | 'trueSequential' | 'actOrder' | 'blockSize'>;

/**
 * How the evaluation holds the F16 values of the weights outside the blocks beside the stored ones
 * (GpuGlobals' switchable values, for an F16 export): 'none', no F16 export; 'exact', the stored
 * values are F16 already (an F16 checkpoint: only the final norm's F16 copy); 'patch', the words
 * that differ (a BF16 checkpoint held as BF16: BF16 values below 2^-17 in magnitude, counted at
 * HalfPatch's cap of MAX_PATCH_FRACTION of the words; past it, a rare BF16 matrix gets a second
 * matrix instead, which the estimate does not count); 'copy', a second, F16 matrix (an F32
 * checkpoint).
 */
export type HalfGlobals = 'none' | 'exact' | 'patch' | 'copy';

/**
 * How a run holds the weights outside the blocks on the GPU (globalsHeldOf): as stored, counted as
 * 'f16' (2 bytes an element) when every one of them is F16 or BF16 (GlobalWeights.format), else as
 * 'f32' (an upper bound for a checkpoint that mixes F32 with 16-bit ones); and their F16 values
 * (HalfGlobals).
 */
export interface GlobalsHeld {
  stored: 'f16' | 'f32';
  half: HalfGlobals;
}

/** The estimate's assumption when the checkpoint's dtypes are not known: F32, with an F16 copy. */
export const F32_GLOBALS: GlobalsHeld = { stored: 'f32', half: 'copy' };

/** The phases of a run whose peaks the estimate bounds (see the module comment). */
export type RunPhase = 'embedding' | 'quantization' | 'evaluation';

export interface MemoryEstimate {
  /** Estimated peak of all GPU buffers together: the largest phase's. */
  totalBytes: number;
  /** The largest single buffer. */
  largestBufferBytes: number;
  /** The phase of the peak. */
  peakPhase: RunPhase;
  /** Each phase's estimated peak. */
  phases: Record<RunPhase, number>;
  /** What the peak phase's total is made of, for messages. */
  parts: Record<string, number>;
}

/** Bytes the pool allocates for a buffer of n bytes. */
const bytes = (n: number) => Math.max(BUFFER_SIZE_QUANTUM, Math.ceil(n / BUFFER_SIZE_QUANTUM) * BUFFER_SIZE_QUANTUM);
/** A pooled matrix [rows, cols] of `format` (rows padded, runtime.matrix). */
const mat = (rows: number, cols: number, format: ElementFormat = 'f32') => bytes(matrixBytes(rows, formatLd(cols, format), format));
/** A pooled buffer of n f32/u32 values. */
const vec = (n: number) => bytes(n * 4);
/** The staging buffer of a read-back of n bytes (runtime.readback). */
const readback = (n: number) => bytes(Math.min(READBACK_CHUNK, Math.ceil(n / 4) * 4));
const sum = (xs: Iterable<number>) => {
  let s = 0;
  for (const x of xs) s += x;
  return s;
};
/** Recorders alive at once in any phase, each holding a parameter arena. */
const LIVE_RECORDERS = 2;
/** The GEMM tuning's three 256×256 matrices (gemm.ts, once per device, in the first group). */
const TUNE_BYTES = 3 * bytes(256 * 256 * 4);
/** Largest code width packed for the evaluation's quantized blocks. */
const MAX_BITS = 8;

/** Linear shapes [out, in] of one block, with the spec's (possibly padded) MLP width. */
export function blockLinears(s: ModelSpec): [number, number][] {
  return blockLinearSpecs(s).map((l) => [l.out, l.in]);
}

function blockLinearSpecs(s: ModelSpec): { name: string; out: number; in: number; bias: boolean }[] {
  const { expand, contract } = mlpLinears(s.layout);
  const outputs = s.layout.block.mlp.fused ? 2 : 1; // Phi-3's gate_up_proj holds gate and up
  return s.layout.block.linears.map((l) => ({
    name: l.name,
    out: expand.includes(l.name) ? outputs * s.intermediate : l.out,
    in: l.name === contract ? s.intermediate : l.in,
    bias: l.bias,
  }));
}

/** The block runner's scratch [T, cols] and RoPE tables (block-forward.ts BlockRunner). */
function runnerBytes(s: ModelSpec, seqlen: number, T: number): number {
  const ropes = new Map<string, number>();
  for (let b = 0; b < s.layers; b++) {
    const rope = s.layout.layerAttention(b).rope;
    if (rope) ropes.set(JSON.stringify(rope), bytes(seqlen * Math.ceil(rope.dim / 2) * 2 * 4));
  }
  return sum(blockScratch(s).map(([, cols]) => mat(T, cols))) + sum(ropes.values());
}

/** One block's weights on the GPU (uploadBlock): linears, biases, norms. */
function blockBytes(s: ModelSpec): number {
  const linears = sum(blockLinearSpecs(s).map((l) => mat(l.out, l.in) + (l.bias ? vec(l.out) : 0)));
  return linears + sum(blockNorms(s.layout.block).map((n) => vec(n.size) * (n.bias ? 2 : 1)));
}

/** The global matrices the model has; a tied head is the embedding's slot. */
function globalSlots(s: ModelSpec): GlobalMatrix[] {
  const { layout } = s;
  const slots: GlobalMatrix[] = ['embed'];
  if (!layout.tiedLmHead) slots.push('lmHead');
  if (layout.embedPositions) slots.push('positions');
  if (layout.projectIn) slots.push('projectIn');
  if (layout.projectOut) slots.push('projectOut');
  return slots;
}

const finalNormBytes = (s: ModelSpec) => (s.layout.finalNorm ? vec(s.layout.finalNorm.size) * (s.layout.finalNorm.bias ? 2 : 1) : 0);

/** The weights outside the blocks as stored (GpuGlobals.load). */
function globalsBytes(s: ModelSpec, held: GlobalsHeld): number {
  return sum(globalSlots(s).map((m) => mat(...globalShape(s, m), held.stored))) + finalNormBytes(s);
}

/**
 * A HalfPatch at its cap: idx, F16 and stored words of MAX_PATCH_FRACTION of the matrix's words
 * (16-bit elements two to a word), padded per binding window.
 */
function patchCapBytes(rows: number, cols: number, format: ElementFormat, bindingLimit: number): number {
  const windows = rowChunks(0, rows, [{ ld: formatLd(cols, format), format }], bindingLimit).length;
  const words = rows * Math.ceil((cols * elementBytes({ format })) / 4);
  return 3 * vec(Math.floor(words * MAX_PATCH_FRACTION) + 64 * windows);
}

/** The F16 values beside the stored ones (GpuGlobals' switchable values). */
function halfGlobalsBytes(s: ModelSpec, held: GlobalsHeld, bindingLimit: number): number {
  const { half } = held;
  if (half === 'none') return 0;
  const matrices = half === 'exact' ? 0 : sum(globalSlots(s).map((m) => {
    const [rows, cols] = globalShape(s, m);
    return half === 'copy' ? mat(rows, cols, 'f16') : patchCapBytes(rows, cols, held.stored, bindingLimit);
  }));
  return matrices + finalNormBytes(s);
}

/** The embedding's temporaries (GpuGlobals.encodeEmbedding): project_in's input, learned positions' ids. */
function embeddingTemps(s: ModelSpec, T: number): number {
  return (s.layout.projectIn ? mat(T, s.embedDim) : 0) + (s.layout.embedPositions ? vec(T) : 0);
}

/**
 * One group of linears quantized (quantizeModel, GptqLayer): each linear's W and status, one H
 * and status for each input its linears read (`hessians`: the linears of one inputSets set share them); for
 * each shape, GPTQ's working copies of W (and its permuted copy with act-order), the lazy-update
 * error block, codes, grid, row losses, the output error's scratch and partial sums and the read-backs; for
 * each input width, the damped H and its inverse factor (the gathered rows reuse a buffer), the
 * Cholesky scratch, the column vectors and, for the layer details, the read-back of H.
 */
function groupBytes(group: [number, number][], hessians: number[], settings: RunShape, T: number, bindingLimit: number): number {
  let total = sum(group.map(([o, n]) => mat(o, n) + vec(STATUS_SLOTS))) + sum(hessians.map((n) => mat(n, n) + vec(STATUS_SLOTS)));
  for (const key of new Set(group.map(([o, n]) => `${o}x${n}`))) {
    const [o, n] = key.split('x').map(Number);
    const G = groupCount(n, settings.groupSize);
    const codes = bytes(o * paddedLd(n));
    // The output error (GptqLayer.outputMse): one partial sum per token and the scratch E of a chunk of tokens.
    const partials = T;
    const outputError = bytes(outputErrorScratchBytes(o, T, bindingLimit));
    const copies = settings.actOrder ? 2 : 1;
    total +=
      copies * (mat(o, n) + codes) + mat(o, Math.min(settings.blockSize, n)) + 2 * bytes(G * o * 4) + vec(o) + vec(partials) + outputError +
      readback(o * paddedLd(n) * 4) + readback(o * paddedLd(n)) + readback(G * o * 4) + readback(o * 4) + readback(partials * 4);
  }
  for (const n of new Set(group.map(([, n]) => n))) {
    const chol = choleskyScratchBytes(n, bindingLimit);
    total +=
      2 * mat(n, n) + bytes(chol.lkk) + bytes(chol.panel) + bytes(inverseScratchBytes(n)) + mat(CHOL_NB, n) +
      4 * vec(n) + bytes(16) + readback(n * 4) + readback(n * paddedLd(n) * 4);
  }
  // The status and damping scalars' read-backs.
  return total + readback(16);
}

/**
 * Estimated peak GPU bytes of a run of model `s` with `settings` (calibration of nsamples × seqlen
 * tokens; evaluation passes of at most as many) on an adapter whose storage bindings hold
 * `bindingLimit` bytes; `held` says how the run holds the weights outside the blocks and the F16 values of them
 * the blocks (HalfGlobals; planRun derives it from the checkpoint, halfGlobalsOf). Bytes; an upper
 * bound of the buffer pool's peakBytesAllocated over the run (see the module comment).
 */
export function estimateRunMemory(s: ModelSpec, settings: RunShape, bindingLimit: number, held: GlobalsHeld = F32_GLOBALS): MemoryEstimate {
  const { layout } = s;
  const T = settings.nsamples * settings.seqlen;
  const linears = blockLinears(s);
  const names = settings.trueSequential ? layout.block.sequentialGroups : [layout.block.linears.map((l) => l.name)];
  const byName = (name: string) => linears[layout.block.linears.findIndex((l) => l.name === name)];
  const groups = names.map((g) => g.map(byName));
  // The input width of each H a group holds: one per set of inputSets it quantizes.
  const hessiansOf = (g: string[]) => inputSets(layout.block).filter((set) => set.some((n) => g.includes(n))).map((set) => byName(set.find((n) => g.includes(n))!)[1]);
  const runner = runnerBytes(s, settings.seqlen, T);
  const arenas = LIVE_RECORDERS * bytes(ARENA_BYTES);
  // quantizeModel's ids, status and the hidden states h and next [T, hidden].
  const activations = vec(T) + vec(FORWARD_STATUS_SLOTS) + 2 * mat(T, s.hidden);
  const block = blockBytes(s);

  const embedding: Record<string, number> = {
    'weights outside the blocks': globalsBytes(s, held),
    'calibration activations': activations + embeddingTemps(s, T),
    'block scratch': runner,
    'small buffers': arenas + readback(4),
  };
  const quantization: Record<string, number> = {
    'calibration activations': activations,
    'block scratch': runner,
    'one block of weights': block,
    'GPTQ of one group': Math.max(...groups.map((g, i) => groupBytes(g, hessiansOf(names[i]), settings, T, bindingLimit))),
    'small buffers': arenas + TUNE_BYTES,
  };

  // One evaluation pass of T tokens (evaluate.ts StreamedEvaluation.pass).
  const switchable = held.half !== 'none';
  const chunk = logitChunk(T, s.vocab, { ld: paddedLd(s.embedDim) }, { ld: formatLd(s.embedDim, held.stored), format: held.stored }, bindingLimit);
  const headChunk = mat(chunk.rows, chunk.cols);
  const divergenceChunk = mat(divergenceChunkRows(T, s.vocab, bindingLimit), s.vocab);
  const codes = sum(linears.map(([o, i]) => bytes(o * wordsPerRow(i, MAX_BITS) * 4) + 2 * bytes(groupCount(i, settings.groupSize) * o * 4) + vec(i)));
  // RTN's codes made again (rtn-weights.ts), one linear at a time after the original's block has
  // left the GPU: its W and Q [o, i] (the pool's free matrices of the block reused: one more where
  // the block has a single linear of that shape), its codes one byte each and their read-back, its
  // scales and zeros (the sizes of the packed codes' own, reused) and their read-back.
  const shapes = new Map<string, { o: number; i: number; count: number }>();
  for (const [o, i] of linears) {
    const key = `${o}x${i}`;
    const s0 = shapes.get(key) ?? { o, i, count: 0 };
    shapes.set(key, { ...s0, count: s0.count + 1 });
  }
  const rtnAgain = sum([...shapes.values()].map(({ o, i, count }) =>
    Math.max(0, 2 - count) * mat(o, i) + bytes(o * paddedLd(i)) + readback(o * paddedLd(i)) + readback(groupCount(i, settings.groupSize) * o * 4)));
  const evaluation: Record<string, number> = {
    'weights outside the blocks': globalsBytes(s, held),
    'their F16 values': halfGlobalsBytes(s, held, bindingLimit),
    // ids, targets, argmax, status, three NLLs; the three models' hidden states and a spare; their head inputs.
    'evaluation activations':
      3 * vec(T) + vec(FORWARD_STATUS_SLOTS) + 3 * vec(T) + 4 * mat(T, s.hidden) + 3 * mat(T, s.embedDim) + (switchable ? 2 : 1) * embeddingTemps(s, T),
    'block scratch': runner,
    'one block of weights and codes': block + codes,
    'RTN made again, one linear at a time': rtnAgain,
    // A run scores each model's NLL on the divergence's logits (evaluate.ts nllAtHead): no head
    // chunk of its own, only the NLL kernel's (unused) state. The original's chunk and a quantized
    // model's beside it; the RTN and GPTQ values per token.
    divergence: 2 * divergenceChunk + bytes(16) + 2 * bytes(T * DIVERGENCE_FIELDS * 4),
    'small buffers': arenas + readback(FORWARD_STATUS_SLOTS * 4) + readback(T * 4) + readback(T * DIVERGENCE_FIELDS * 4),
  };

  const phases: Record<RunPhase, number> = {
    embedding: sum(Object.values(embedding)),
    quantization: sum(Object.values(quantization)),
    evaluation: sum(Object.values(evaluation)),
  };
  const peakPhase = (Object.keys(phases) as RunPhase[]).reduce((a, b) => (phases[b] > phases[a] ? b : a));
  const parts = { embedding, quantization, evaluation }[peakPhase];
  const largestBufferBytes = Math.max(
    mat(T, Math.max(s.hidden, s.embedDim, ...blockScratch(s).map(([, cols]) => cols))),
    ...globalSlots(s).map((m) => mat(...globalShape(s, m), held.stored)),
    ...linears.map(([o, i]) => Math.max(mat(o, i), mat(i, i))),
    // The LM head's own chunk of logits (lm-head.ts): not made by the run's evaluation, but by the
    // studio's generation after it.
    headChunk,
    divergenceChunk,
  );
  return { totalBytes: phases[peakPhase], largestBufferBytes, peakPhase, phases, parts };
}

/**
 * Estimated peak GPU bytes of a strategy sweep (runSweep) over `texts` evaluation texts with
 * `settings`, as bytes. A sweep holds more than a run: the weights outside the blocks (and their
 * F16 values) stay loaded through the later passes' quantization, the pool is not emptied between
 * passes, and with F16 values (`half` not 'none') one copy of the original's LM head, shared by
 * every text's divergence reference (divergence.ts OriginalHead), stays to the end. Until
 * the sweep has an estimate of its own, the sum of a run's three phases plus those head copies
 * bounds it from above, AWQ's search and the sensitivity map's widths included (tested on
 * stories260K and a 49152-token vocabulary twin, sweep.test.ts).
 */
export function estimateSweepMemory(s: ModelSpec, settings: RunShape, bindingLimit: number, held: GlobalsHeld, texts: number): number {
  const { phases } = estimateRunMemory(s, settings, bindingLimit, held);
  const headCopies = held.half === 'none' || texts === 0 ? 0 : 1;
  return phases.embedding + phases.quantization + phases.evaluation + headCopies * mat(...globalShape(s, 'lmHead'), held.stored);
}

/**
 * GlobalsHeld of a checkpoint, for an F16 export (`f16`, ExportPlan.f16) or not: from the stored
 * dtypes of its weights outside the blocks (embeddings, head, positions, projections).
 */
export function globalsHeldOf(ckpt: Pick<Checkpoint, 'layout' | 'tensors'>, f16: boolean): GlobalsHeld {
  const { layout } = ckpt;
  const names = [layout.embedTokens, layout.tiedLmHead ? null : layout.lmHead, layout.embedPositions, layout.projectIn, layout.projectOut];
  // A tensor the checkpoint does not describe counts as F32 (the larger values).
  const dtypes = names.flatMap((n) => (n === null ? [] : [ckpt.tensors.get(n)?.dtype ?? 'F32']));
  const sixteen = dtypes.every((d) => d === 'F16' || d === 'BF16');
  const half: HalfGlobals = !f16 ? 'none' : !sixteen ? 'copy' : dtypes.includes('BF16') ? 'patch' : 'exact';
  return { stored: sixteen ? 'f16' : 'f32', half };
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;

const PHASE_WORDS: Record<RunPhase, string> = { embedding: 'embedding the calibration windows', quantization: 'quantizing', evaluation: 'evaluating' };

/**
 * Throws a message with the estimate and what to change when the run cannot fit: a buffer above
 * the adapter's maxBufferSize, or a total above `budgetBytes`. `raise`, when given, says how this
 * caller's user raises the budget (e.g. "--gpu-memory MIB"); the message then offers it beside
 * fewer or shorter windows (a larger budget cannot lift maxBufferSize, so that message does not).
 * Returns the estimate otherwise.
 */
export function assertRunFits(
  s: ModelSpec,
  settings: RunShape,
  adapter: AdapterSummary,
  budgetBytes: number,
  bindingLimit: number,
  held: GlobalsHeld = F32_GLOBALS,
  raise?: string,
): MemoryEstimate {
  const e = estimateRunMemory(s, settings, bindingLimit, held);
  const { nsamples, seqlen } = settings;
  const advice =
    `Use fewer calibration windows (now ${nsamples}) or shorter ones (now ${seqlen} tokens): ` +
    `the activations grow with windows × length.`;
  if (e.largestBufferBytes > adapter.limits.maxBufferSize) {
    throw new Error(
      `This run needs a single GPU buffer of ${mib(e.largestBufferBytes)}, more than this adapter's maxBufferSize of ` +
        `${mib(adapter.limits.maxBufferSize)} (estimated peak ${mib(e.totalBytes)} in all). ${advice}`,
    );
  }
  if (e.totalBytes > budgetBytes) {
    const top = Object.entries(e.parts)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([k, v]) => `${k} ${mib(v)}`)
      .join(', ');
    const needed = `${Math.ceil(e.totalBytes / 2 ** 20)} MiB`;
    throw new Error(
      `This run needs about ${mib(e.totalBytes)} of GPU memory (while ${PHASE_WORDS[e.peakPhase]}: ${top}), more than the ${mib(budgetBytes)} allowed. ${advice}` +
        (raise ? ` Or, if the GPU has the memory, raise the budget to at least ${needed}: ${raise}.` : ''),
    );
  }
  return e;
}
