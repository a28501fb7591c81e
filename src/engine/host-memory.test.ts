/**
 * The host memory estimate: its codes part is exactly what a run keeps (packed codes, grids,
 * diag(H)); a budget below the estimate refuses the run before any work, saying what it is made of
 * and what to change; the codes shrink with fewer bits.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeRuntime } from '../testing/node-gpu';
import { folderSources } from '../testing/node-source';
import { openSharedCheckpoint, readCorpus, sharedModelDir, STORIES_260K } from '../testing/shared-models';
import { defaultRunSettings, type ProgressEvent } from '../core/run';
import { modelSpec } from './model/load-model';
import { estimateHostMemory, HOST_BASELINE_BYTES } from './host-memory';
import { quantizedBytes } from './quantize-model';
import { runModel, RunInputError, type RunInputs } from './run-model';
import type { GpuRuntime } from '../gpu/runtime';

let rt: GpuRuntime;
beforeAll(async () => {
  rt = await nodeRuntime();
});
afterAll(() => rt?.destroy());

const inputs = async (over: Partial<RunInputs> = {}): Promise<RunInputs> => ({
  files: await folderSources(sharedModelDir(STORIES_260K)),
  modelName: 'stories260K',
  calibration: { name: 'calib', text: readCorpus('stories260K_generated_200_seed20251122.txt').slice(0, 20_000) },
  evaluations: [{ name: 'eval', text: readCorpus('aesop_fables_body_reflowed.txt').slice(0, 2000) }],
  evalWindowLimit: 1,
  settings: { bits: 3, groupSize: 32, nsamples: 2, seqlen: 32 },
  gpuMemoryBudget: 2 ** 30,
  ...over,
});

describe('host memory estimate', () => {
  it('counts exactly the codes, grids and diag(H) a run keeps', async () => {
    const out = await runModel(rt, await inputs({ hostMemoryBudget: { bytes: 2 ** 40, raise: 'n/a' } }));
    const skip = new Set(out.report.export.unquantized.map((u) => u.name));
    const e = estimateHostMemory(out.ckpt, out.model.spec, out.report.settings, skip);
    expect(e.keptBytes).toBe(quantizedBytes(out.weights));
    expect(e.totalBytes).toBeGreaterThan(HOST_BASELINE_BYTES + e.keptBytes);
  }, 120_000);

  it('fewer bits keep fewer bytes of codes', async () => {
    const ckpt = await openSharedCheckpoint(STORIES_260K);
    const spec = modelSpec(ckpt);
    const kept = (bits: number) => estimateHostMemory(ckpt, spec, { ...defaultRunSettings, seqlen: 32, bits, groupSize: 32 }).keptBytes;
    expect(kept(2)).toBeLessThan(kept(4));
    expect(kept(4)).toBeLessThan(kept(8));
  });

  it('a budget below the estimate refuses the run before any work, with its parts and what to change', async () => {
    const events: ProgressEvent[] = [];
    const error = await runModel(rt, await inputs({ hostMemoryBudget: { bytes: 100 * 2 ** 20, raise: 'give --host-memory MIB' } }), {
      onProgress: (e) => events.push(e),
    }).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(RunInputError);
    const message = (error as Error).message;
    expect(message).toMatch(/^This run needs about \d+ MiB of host memory, more than the 100 MiB allowed/);
    expect(message).toContain('3-bit codes and grids');
    expect(message).toContain('give --host-memory MIB');
    expect(events.filter((e) => e.type !== 'stage' || e.stage !== 'checking')).toEqual([]);
  }, 60_000);
});
