import type { ModelShape } from '../core/time-model';

/** The demo model's shape as the time model sees it (Llama, hidden 128, MLP 256, 4 blocks, 4/2 heads, vocabulary 1024; public/demo/config.json). */
export const DEMO_SHAPE: ModelShape = {
  blocks: 4, hidden: 128, heads: 4, headDim: 32, vocab: 1024,
  linears: [
    { name: 'q', rows: 128, cols: 128, quantized: true },
    { name: 'k', rows: 64, cols: 128, quantized: true },
    { name: 'v', rows: 64, cols: 128, quantized: true },
    { name: 'o', rows: 128, cols: 128, quantized: true },
    { name: 'gate', rows: 256, cols: 128, quantized: true },
    { name: 'up', rows: 256, cols: 128, quantized: true },
    { name: 'down', rows: 128, cols: 256, quantized: true },
  ],
  groups: [['k', 'v', 'q'], ['o'], ['up', 'gate'], ['down']],
  inputs: [['q', 'k', 'v'], ['o'], ['gate', 'up'], ['down']],
};
