/**
 * What the llama.cpp tests share: writing an export to disk and the perplexity of windows in a real
 * llama.cpp (node-llama-cpp 3.21.1, CPU, F32 KV cache, no flash attention: ../../shared/docs/gguf.md §8).
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Llama, LlamaModel, Token } from 'node-llama-cpp';
import type { ExportFile } from '../src/core/export/safetensors-writer';
import { fileBytes } from '../src/testing/export-files';

/**
 * llama.cpp on the CPU from the prebuilt binary, offline and quiet. Throws, saying how to install
 * it, when tests-llama's own node_modules is missing.
 */
export async function cpuLlama(): Promise<Llama> {
  if (!existsSync(fileURLToPath(new URL('./node_modules/node-llama-cpp', import.meta.url)))) {
    throw new Error('tests-llama is not installed: run `NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm ci --prefix tests-llama --omit=optional` (tools/test.sh does it)');
  }
  const { getLlama, LlamaLogLevel } = await import('node-llama-cpp');
  return getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error, progressLogs: false });
}


/** Writes the file into dir; returns its path. */
export async function writeExport(file: ExportFile, dir: string): Promise<string> {
  const path = join(dir, file.name);
  await writeFile(path, await fileBytes(file));
  return path;
}

/** Perplexity of windows in llama.cpp: softmax over the whole vocabulary at every position, windows apart. */
export async function llamaPerplexity(model: LlamaModel, windows: readonly (readonly number[])[]): Promise<number> {
  const seqlen = windows[0].length;
  const context = await model.createContext({
    contextSize: seqlen,
    batchSize: seqlen,
    sequences: 1,
    threads: 1,
    flashAttention: false,
    experimentalKvCacheKeyType: 'F32',
    experimentalKvCacheValueType: 'F32',
  });
  try {
    const sequence = context.getSequence();
    let nll = 0;
    let count = 0;
    for (const w of windows) {
      await sequence.clearHistory();
      const items = (w as Token[]).map((t, i) => (i < w.length - 1 ? ([t, { generateNext: { probabilities: true } }] as const) : t));
      const results = await sequence.controlledEvaluate(items as Parameters<typeof sequence.controlledEvaluate>[0]);
      for (let i = 0; i < w.length - 1; i++) {
        const p = results[i]?.next.probabilities?.get(w[i + 1] as Token);
        if (!(p !== undefined && p > 0)) throw new Error(`llama.cpp gave no probability for token ${w[i + 1]} at position ${i + 1}`);
        nll -= Math.log(p);
        count++;
      }
    }
    return Math.exp(nll / count);
  } finally {
    await context.dispose();
  }
}
