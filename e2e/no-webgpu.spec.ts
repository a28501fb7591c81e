import { expect, test } from '@playwright/test';
import type { Page } from '@playwright/test';
import { CHROMIUM, QUIET_ARGS } from './browser';

/** The studio says there is no WebGPU, why, and what to do (src/gpu/device.ts NO_WEBGPU_HELP). */
async function expectPlainNoWebGpuMessage(page: Page, why: RegExp) {
  await page.goto('/');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('GPTQ Studio');
  await expect(page.getByTestId('adapter')).toHaveAttribute('data-status', 'error');
  const error = page.getByTestId('error');
  await expect(error).toHaveAttribute('data-kind', 'no-webgpu');
  await expect(error).toContainText(why);
  await expect(error).toContainText('--enable-unsafe-webgpu');
  await expect(error).toContainText('Chrome');
}

test('a browser without navigator.gpu says plainly that there is no WebGPU, and what to do', async ({ page }) => {
  // Chromium 156 keeps navigator.gpu whatever the flags (--disable-blink-features=WebGPU and
  // --disable-features=WebGPU both leave it), so take it away by hand: on the page's Navigator,
  // and on WorkerNavigator at the top of the worker's bundle, before any call reaches the worker.
  await page.addInitScript(() => {
    delete (Navigator.prototype as { gpu?: unknown }).gpu;
  });
  let patched = 0;
  await page.route('**/assets/worker-*.js', async (route) => {
    const response = await route.fetch();
    patched++;
    await route.fulfill({ response, body: `delete WorkerNavigator.prototype.gpu;\n${await response.text()}` });
  });
  await expectPlainNoWebGpuMessage(page, /navigator\.gpu is missing/);
  expect(patched, 'the worker script was patched').toBe(1);
});

test('a browser whose WebGPU offers no adapter says so plainly, and what to do', async ({ playwright, baseURL }) => {
  // Without --enable-unsafe-webgpu, Chromium on a machine with no GPU blocklists its software
  // adapters: navigator.gpu exists but requestAdapter() gives null.
  const browser = await playwright.chromium.launch({ executablePath: CHROMIUM, headless: true, args: QUIET_ARGS });
  try {
    await expectPlainNoWebGpuMessage(await browser.newPage({ baseURL }), /offered no adapter/);
  } finally {
    await browser.close();
  }
});
