import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// The GGUF export checked by a real llama.cpp (this folder's own node_modules): `npm run test:llama`.
// Dawn's GL backend needs EGL_PLATFORM in every test process (as the main vitest.config.ts).
process.env.EGL_PLATFORM ??= 'surfaceless';

export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: {
    include: ['tests-llama/**/*.test.ts'],
    pool: 'forks',
    // Two workers even on a 2-core machine, as the main vitest.config.ts.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    testTimeout: 600_000,
    hookTimeout: 120_000,
  },
});
