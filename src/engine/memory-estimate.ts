/**
 * Peak GPU bytes of a whole-model run, estimated before it starts, and the check that refuses a
 * run the adapter cannot hold. WebGPU does not tell how much memory an adapter has, so the
 * check is against maxBufferSize for every single buffer and against a budget for the total.
 */
import { paddedLd } from '../gpu/matrix';
import { outputErrorScratchBytes } from '../gpu/kernels/output-error';
import type { AdapterSummary } from '../gpu/device';
import type { ModelSpec } from './model/model-forward';
import { blockScratch } from './model/block-forward';
import { mlpLinears } from '../core/model/architecture';

export interface MemoryEstimate {
  /** Estimated peak of all GPU buffers together. */
  totalBytes: number;
  /** The largest single buffer. */
  largestBufferBytes: number;
  /** What the total is made of, for messages. */
  parts: Record<string, number>;
}

const f32 = (rows: number, cols: number) => rows * paddedLd(cols) * 4;

/** Linear shapes [out, in] of one block, with the spec's (possibly padded) MLP width. */
export function blockLinears(s: ModelSpec): [number, number][] {
  const { expand, contract } = mlpLinears(s.layout);
  const outputs = s.layout.block.mlp.fused ? 2 : 1; // Phi-3's gate_up_proj holds gate and up
  return s.layout.block.linears.map((l) => [expand.includes(l.name) ? outputs * s.intermediate : l.out, l.name === contract ? s.intermediate : l.in]);
}

/** Peak bytes of quantizing a linear: its W and H, and GPTQ's working copies and factors. */
function gptqBytes(rows: number, cols: number): number {
  // W, two working copies of W, codes; H, the damped/permuted copy, its factor; small vectors.
  return 3 * f32(rows, cols) + rows * paddedLd(cols) + 3 * f32(cols, cols) + 16 * (rows + cols) * 4;
}

/**
 * Peak bytes of a linear's output error (GptqLayer.outputMse): its W and H, Q̂ (then W − Q̂), the
 * scratch E of a chunk of tokens and a partial sum per token. The inputs are counted elsewhere.
 */
function outputErrorBytes(rows: number, cols: number, tokens: number, bindingLimit: number): number {
  return 2 * f32(rows, cols) + f32(cols, cols) + outputErrorScratchBytes(rows, tokens, bindingLimit) + tokens * 4;
}

export function estimateRunMemory(s: ModelSpec, tokens: number, bindingLimit: number): MemoryEstimate {
  const { layout } = s;
  const linears = blockLinears(s);
  const scratch = blockScratch(s).map(([, cols]) => cols);
  const projected = layout.projectIn !== null;
  const parts: Record<string, number> = {
    'calibration activations': 2 * f32(tokens, s.hidden),
    'block scratch': tokens * scratch.reduce((a, c) => a + c, 0) * 4 + (projected ? f32(tokens, s.embedDim) : 0),
    embeddings:
      f32(s.vocab, s.embedDim) * 2 +
      (layout.embedPositions ? f32(s.maxPositions + layout.positionOffset, s.hidden) : 0) +
      (projected ? f32(s.hidden, s.embedDim) + f32(s.embedDim, s.hidden) : 0),
    'one block of weights': linears.reduce((a, [o, i]) => a + f32(o, i), 0),
    // A true-sequential group holds up to three linears' W and H; one of them is being quantized
    // or, after that, having its output error measured.
    'GPTQ of one group':
      Math.max(...linears.map(([o, i]) => Math.max(gptqBytes(o, i), outputErrorBytes(o, i, tokens, bindingLimit)))) +
      2 * Math.max(...linears.map(([o, i]) => f32(o, i) + f32(i, i))),
    // Logits a chunk at a time (lm-head.ts), each token's running log-sum-exp, the last row's
    // logits; a divergence pass takes whole vocabulary rows up to one binding (model-forward.ts).
    'LM head logits': Math.min(bindingLimit, f32(tokens, s.vocab)) + tokens * 16 + s.vocab * 4,
    // The evaluation's divergence (src/engine/divergence.ts): the original's logits chunk beside
    // the quantized model's, its final hidden states and, with F16 globals, its own LM head.
    'divergence': Math.min(bindingLimit, f32(tokens, s.vocab)) + f32(tokens, s.hidden) + f32(s.vocab, s.hidden),
  };
  const totalBytes = Object.values(parts).reduce((a, b) => a + b, 0);
  const largestBufferBytes = Math.max(
    f32(tokens, Math.max(s.hidden, s.embedDim, ...scratch)),
    f32(s.vocab, s.embedDim),
    ...linears.map(([o, i]) => Math.max(f32(o, i), f32(i, i))),
  );
  return { totalBytes, largestBufferBytes, parts };
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;

/**
 * Throws a message with the estimate and what to change when the run cannot fit: a buffer above
 * the adapter's maxBufferSize, or a total above `budgetBytes`. `raise`, when given, says how this
 * caller's user raises the budget (e.g. "--gpu-memory MIB"); the message then offers it beside
 * fewer or shorter windows (a larger budget cannot lift maxBufferSize, so that message does not).
 */
export function assertRunFits(
  s: ModelSpec,
  nsamples: number,
  seqlen: number,
  adapter: AdapterSummary,
  budgetBytes: number,
  bindingLimit: number,
  raise?: string,
): MemoryEstimate {
  const e = estimateRunMemory(s, nsamples * seqlen, bindingLimit);
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
      `This run needs about ${mib(e.totalBytes)} of GPU memory (${top}), more than the ${mib(budgetBytes)} allowed. ${advice}` +
        (raise ? ` Or, if the GPU has the memory, raise the budget to at least ${needed}: ${raise}.` : ''),
    );
  }
  return e;
}
