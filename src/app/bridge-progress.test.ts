import { describe, expect, it } from 'vitest';
import { applyProgress, applyProgressBatch } from './bridge';
import { idleRun } from './store/studio-state';
import type { RunSlice } from './store/studio-state';
import type { LinearReport, ProgressEvent } from '../core/run';

const linear = (block: number, name: string): LinearReport => ({
  block, name, rows: 8, cols: 8,
  gptq: { mse: 1e-4, loss: 1e-3, damp: 0.01, dampAttempts: 1, fellBackToRtn: false, seconds: 0.1 },
  rtn: { mse: 2e-4 },
});

/** The events of a small run: 2 blocks of 2 linears, then 1 text × 2 windows × 3 models. */
function runEvents(): ProgressEvent[] {
  const out: ProgressEvent[] = [{ type: 'stage', stage: 'quantization', detail: 'quantizing', elapsed: 0 }];
  let done = 0;
  for (let block = 0; block < 2; block++) {
    for (const name of ['mlp.up_proj', 'mlp.down_proj']) {
      done++;
      out.push({ type: 'linear', report: linear(block, name), done, total: 4, blocks: 2, elapsed: done, etaSeconds: 4 - done });
    }
    out.push({ type: 'block', block, blocks: 2, elapsed: done });
  }
  out.push({ type: 'stage', stage: 'evaluation', detail: 'evaluating', elapsed: 5 });
  let w = 0;
  for (const variant of ['original', 'rtn', 'gptq'] as const) {
    for (let i = 1; i <= 2; i++) out.push({ type: 'evaluation', text: 't', variant, windowsDone: i, windows: 2, done: ++w, total: 6, elapsed: 5 + w });
    out.push({ type: 'perplexity', text: 't', variant, value: 10 + w, elapsed: 5 + w });
  }
  return out;
}

describe('applyProgressBatch', () => {
  it('gives the state of the events applied one by one, however they are batched', () => {
    const start: RunSlice = { ...idleRun(), id: 'r', status: 'running', evalWindows: [2] };
    const events = runEvents();
    let oneByOne = start;
    const states: RunSlice[] = [];
    for (const e of events) {
      oneByOne = { ...oneByOne, ...applyProgress(oneByOne, e) };
      states.push(oneByOne);
    }
    for (const size of [1, 2, 3, 5, events.length]) {
      let batched = start;
      for (let i = 0; i < events.length; i += size) {
        batched = applyProgressBatch(batched, events.slice(i, i + size));
        // After each batch, the state of its last event.
        expect(batched).toEqual(states[Math.min(i + size, events.length) - 1]);
      }
    }
    expect(oneByOne.layers.map((l) => `${l.block}.${l.name}`)).toEqual(['0.mlp.up_proj', '0.mlp.down_proj', '1.mlp.up_proj', '1.mlp.down_proj']);
    expect(oneByOne).toMatchObject({ stage: 'evaluation', done: 4, total: 4, blocksDone: 2, evaluation: { done: 6, total: 6, start: 5 } });
    expect(oneByOne.perplexity).toEqual({ t: { original: 12, rtn: 14, gptq: 16 } });
  });
});
