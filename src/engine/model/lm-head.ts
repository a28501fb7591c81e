/**
 * The LM head and the log-softmax of evaluation and generation, a chunk of logits at a time: the
 * logits of at most LOGITS_CHUNK_BYTES (rows of tokens × columns of vocabulary) exist at once,
 * each chunk folded into every token's running log-sum-exp (shaders/nll_chunk.wgsl), so a large
 * vocabulary never needs a [tokens, vocab] buffer.
 */
import type { GpuRuntime } from '../../gpu/runtime';
import type { Recorder } from '../../gpu/recorder';
import { elementBytes, paddedLd, rowWindow, type ElementFormat, type GpuMatrix } from '../../gpu/matrix';
import { encodeGemm } from '../../gpu/kernels/gemm';
import { ELEMENTWISE, encodeElementwise, encodeNll, type StatusSlot } from '../../gpu/kernels/forward';

/** Bytes of logits held at once by default. */
export const LOGITS_CHUNK_BYTES = 32 << 20;
const MAX_GROUPS = 65535;

/** The chunk shape: rows of tokens × columns of vocabulary, within `bytes` and one binding each. */
export function logitChunk(
  tokens: number,
  vocab: number,
  X: { ld: number },
  W: { ld: number; format?: ElementFormat },
  bindingLimit: number,
  bytes = LOGITS_CHUNK_BYTES,
): { rows: number; cols: number } {
  const budget = Math.max(64 * 4, Math.min(bytes, bindingLimit));
  const maxRows = Math.max(1, Math.min(MAX_GROUPS, Math.floor(bindingLimit / (X.ld * 4))));
  const maxCols = Math.max(1, Math.floor(bindingLimit / (W.ld * elementBytes(W))));
  // Whole vocabulary rows when a useful number of them fit; else 64-column multiples.
  let cols = Math.min(vocab, maxCols);
  let rows = Math.min(tokens, maxRows, Math.floor(budget / (paddedLd(cols) * 4)));
  if (rows < Math.min(tokens, 64)) {
    rows = Math.min(tokens, maxRows, 64);
    cols = Math.min(vocab, maxCols, Math.max(64, Math.floor(budget / 4 / rows / 64) * 64));
    rows = Math.min(rows, Math.max(1, Math.floor(budget / (paddedLd(cols) * 4))));
  }
  return { rows: Math.max(1, rows), cols: Math.max(1, cols) };
}

export interface HeadScores {
  /** [vocab]: the logits of token `lastRow` (read it back after the recorder finishes). */
  lastLogits: GPUBuffer;
  /** Buffers to release once the recorder has finished (lastLogits among them). */
  temps: (GPUBuffer | GpuMatrix)[];
}

/**
 * For every token t of X [tokens, embedDim]: logits z = X[t] · Wᵀ (W [vocab, embedDim], the LM
 * head, f32 or 16-bit), softcapped c·tanh(z/c) when `softcap` is set, then nll[t] = −log softmax(z)[targets[t]]
 * (0 for NO_TARGET; NaN and `status` raised for another target ≥ vocab) and argmax[t] = the first
 * index of max z. Logits are made a chunk at a time (logitChunk); the recorder submits after
 * each chunk. Also copies token lastRow's logits into HeadScores.lastLogits.
 */
export function encodeHeadScores(
  rt: GpuRuntime,
  rec: Recorder,
  X: GpuMatrix,
  W: GpuMatrix,
  softcap: number | null,
  out: { targets: GPUBuffer; nll: GPUBuffer; argmax: GPUBuffer; status: StatusSlot },
  lastRow = X.rows - 1,
  chunkBytes = LOGITS_CHUNK_BYTES,
): HeadScores {
  const T = X.rows;
  const vocab = W.rows;
  const { rows: R, cols: C } = logitChunk(T, vocab, X, W, rt.bindingLimit, chunkBytes);
  const logits = rt.matrix(R, C, 'head.logits');
  const lastLogits = rt.storage(vocab * 4, 'head.lastLogits');
  const temps: (GPUBuffer | GpuMatrix)[] = [logits, lastLogits];
  const multi = C < vocab;
  const state = rt.storage(multi ? T * 16 : 16, 'head.logsumexp');
  temps.push(state);
  for (let t0 = 0; t0 < T; t0 += R) {
    const rows = Math.min(R, T - t0);
    for (let v0 = 0; v0 < vocab; v0 += C) {
      const cols = Math.min(C, vocab - v0);
      const chunk: GpuMatrix = { buffer: logits.buffer, rows, cols, ld: logits.ld };
      encodeGemm(rec, {
        M: rows,
        N: cols,
        K: W.cols,
        A: { binding: rowWindow(X, t0, rows), off: 0, rs: X.ld, cs: 1 },
        B: { binding: rowWindow(W, v0, cols), off: 0, rs: 1, cs: W.ld, format: W.format },
        C: { binding: rowWindow(logits, 0, rows), off: 0, ld: logits.ld },
        alpha: 0,
        beta: 1,
      });
      if (softcap !== null) encodeElementwise(rec, { op: ELEMENTWISE.softcap, y: chunk, alpha: softcap, placeholder: rt.placeholder }, rt.bindingLimit);
      encodeNll(rec, chunk, { targets: out.targets, nll: out.nll, argmax: out.argmax, state, status: out.status }, t0, v0, vocab);
      if (lastRow >= t0 && lastRow < t0 + rows) rec.copy(logits.buffer, (lastRow - t0) * logits.ld * 4, lastLogits, v0 * 4, cols * 4);
      rec.submit();
    }
  }
  return { lastLogits, temps };
}
