import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// dawn.node's GL backend needs EGL_PLATFORM in the real process environment of every
// test process; forks inherit it from here.
process.env.EGL_PLATFORM ??= 'surfaceless';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'tools/**/*.test.ts'],
    pool: 'forks',
    // Vitest's default on a 2-core machine is one worker (cores − 1), which leaves a core idle
    // while a test waits on Dawn; two workers took the suite from 7.1 to 4.8 minutes there.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // Whole-model tests take tens of seconds on a quiet 2-core machine without a GPU and several
    // times that when the cores are shared; the limits are set for the shared case.
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
