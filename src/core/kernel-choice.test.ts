/**
 * The attention kernel is chosen from two measured times by the margin rule alone: the tiled
 * kernel only when it is at least TILED_ATTENTION_MARGIN times faster, the per-query kernel when
 * they are level (so a coin-flip timing cannot switch kernels, and the numbers, between runs),
 * when either time is unusable, and when the tiled kernel failed to compile.
 */
import { describe, expect, it } from 'vitest';
import { chooseAttentionKernel, describeAttentionChoice, TILED_ATTENTION_MARGIN, UNPROBED_ATTENTION } from './kernel-choice';

describe('chooseAttentionKernel', () => {
  it('takes the tiled kernel only when it is faster by the margin (1.25×)', () => {
    expect(TILED_ATTENTION_MARGIN).toBe(1.25);
    expect(chooseAttentionKernel(10, 4)).toBe('tiled');
    expect(chooseAttentionKernel(10, 8)).toBe('tiled'); // exactly 1.25× faster
    expect(chooseAttentionKernel(10, 8.01)).toBe('per-query'); // faster, but not clearly
    expect(chooseAttentionKernel(10, 9.9)).toBe('per-query');
    expect(chooseAttentionKernel(10, 10)).toBe('per-query'); // level
    expect(chooseAttentionKernel(10, 25)).toBe('per-query');
  });

  it('keeps the per-query kernel for level timings that scatter either way', () => {
    for (const [a, b] of [[0.0101, 0.0099], [0.0099, 0.0101], [0.012, 0.01], [0.01, 0.012]]) expect(chooseAttentionKernel(a, b)).toBe('per-query');
  });

  it('takes another margin when given, and refuses a margin below 1', () => {
    expect(chooseAttentionKernel(10, 9, 1)).toBe('tiled');
    expect(chooseAttentionKernel(10, 6, 2)).toBe('per-query');
    expect(chooseAttentionKernel(10, 5, 2)).toBe('tiled');
    expect(() => chooseAttentionKernel(10, 5, 0.8)).toThrow(RangeError);
    expect(() => chooseAttentionKernel(10, 5, Number.NaN)).toThrow(RangeError);
  });

  it('a kernel that failed to compile (Infinity) loses; unusable times keep the per-query kernel', () => {
    expect(chooseAttentionKernel(10, Infinity)).toBe('per-query');
    expect(chooseAttentionKernel(Infinity, 10)).toBe('tiled');
    expect(chooseAttentionKernel(Infinity, Infinity)).toBe('per-query');
    expect(chooseAttentionKernel(Number.NaN, 1)).toBe('per-query');
    expect(chooseAttentionKernel(10, Number.NaN)).toBe('per-query');
    expect(chooseAttentionKernel(10, 0)).toBe('per-query');
    expect(chooseAttentionKernel(10, -1)).toBe('per-query');
  });
});

describe('describeAttentionChoice', () => {
  it('names the kernel and the timings it came from', () => {
    expect(describeAttentionChoice(UNPROBED_ATTENTION)).toBe('per-query kernel (not timed on this device)');
    const shape = { sequences: 2, seqlen: 64, heads: 4, kvHeads: 2, headDim: 64, repeats: 4 };
    expect(describeAttentionChoice({ kernel: 'tiled', margin: 1.25, probe: { shape, perQueryMs: 40, tiledMs: 12.345 } })).toBe(
      'tiled kernel (per-query 40.0 ms, tiled 12.3 ms on 2 × 64 tokens, 4/2 heads of 64, 4 times; the tiled one only when 1.25× faster)',
    );
    expect(describeAttentionChoice({ kernel: 'per-query', margin: 1.25, probe: { shape: { ...shape, repeats: 1 }, perQueryMs: 1234.5, tiledMs: null } })).toContain(
      '(per-query 1235 ms, tiled failed to compile on 2 × 64 tokens, 4/2 heads of 64;',
    );
  });
});
