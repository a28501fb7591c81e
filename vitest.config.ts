import { defineConfig } from 'vitest/config';

// dawn.node's GL backend needs EGL_PLATFORM in the real process environment of every
// test process; forks inherit it from here.
process.env.EGL_PLATFORM ??= 'surfaceless';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'tools/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
