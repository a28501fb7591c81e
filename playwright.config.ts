import { defineConfig } from '@playwright/test';
import { CHROMIUM, WEBGPU_ARGS } from './e2e/browser';

const CI = !!process.env.CI;
// E2E_PORT lets two checkouts run their suites at once.
const PORT = Number(process.env.E2E_PORT ?? 4173);

export default defineConfig({
  testDir: 'e2e',
  // Software GPUs are slow and the first pipelines compile for seconds; one worker keeps the
  // browsers from competing for the few cores CI machines have.
  timeout: 180_000,
  expect: { timeout: 60_000 },
  workers: 1,
  fullyParallel: false,
  forbidOnly: CI,
  retries: CI ? 1 : 0,
  reporter: CI ? [['list'], ['html', { open: 'never' }]] : [['list']],
  use: {
    browserName: 'chromium',
    baseURL: `http://127.0.0.1:${PORT}`,
    headless: true,
    viewport: { width: 1100, height: 900 },
    trace: 'on-first-retry',
    launchOptions: { executablePath: CHROMIUM, args: WEBGPU_ARGS },
  },
  projects: [{ name: 'chromium-webgpu' }],
  // `npm run test:e2e` builds first (`vite build`); this serves that build.
  webServer: {
    command: `npx vite preview --host 127.0.0.1 --port ${PORT} --strictPort`,
    url: `http://127.0.0.1:${PORT}`,
    reuseExistingServer: !CI,
    timeout: 60_000,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
