import path from 'node:path';
import { expect, test } from '@playwright/test';
import { SCREENSHOTS_DIR } from './browser';
import { SHOWN_LIMITS } from '../src/app/adapter-limits';


test('the studio leads with a model to load and the lessons; the adapter is one line that opens onto its details and limits', async ({ page }, testInfo) => {
  const pageErrors: Error[] = [];
  page.on('pageerror', (e) => pageErrors.push(e));
  await page.goto('/');

  await expect(page.getByRole('heading', { level: 1 })).toHaveText('GPTQ Studio');
  const panel = page.getByTestId('adapter');
  await expect(panel).toHaveAttribute('data-status', 'ready');
  await expect(page.getByTestId('error')).toHaveCount(0);

  // What the user came for is on the first screen: load a model, or start the lessons.
  const viewport = page.viewportSize()!;
  for (const id of ['demo-model', 'start-lessons', 'model-input', 'hub-repo']) {
    const box = (await page.getByTestId(id).boundingBox())!;
    expect(box.y + box.height, `${id} on the first screen`).toBeLessThanOrEqual(viewport.height);
  }
  // The adapter is one line (its name and measured speed) until opened.
  const summary = page.getByTestId('adapter-summary');
  await expect(summary.getByTestId('adapter-name')).toBeVisible();
  await expect(page.getByTestId('adapter-speed')).toContainText(/GFLOP\/s measured/, { timeout: 60_000 });
  expect((await summary.boundingBox())!.height).toBeLessThan(40);
  await expect(page.getByTestId('adapter-fallback')).toBeHidden();
  await summary.click();
  await expect(page.getByTestId('adapter-fallback')).toBeVisible();
  await expect(page.getByTestId('adapter-speed-detail')).toContainText(/matrix product at .* GFLOP\/s/);
  await expect(page.getByTestId('adapter-speed-detail')).toContainText(/a quantized linear's fixed cost of [0-9.]+ ms/);
  // The kernels timed on the adapter: the forward's attention with both kernels' times.
  await expect(page.getByTestId('adapter-kernels')).toContainText(/attention on the (per-query|tiled) kernel \(per-query [\d.]+ ms, tiled [\d.]+ ms/);
  expect(['per-query', 'tiled']).toContain(await page.getByTestId('adapter-kernels').getAttribute('data-attention'));

  const name = (await page.getByTestId('adapter-name').textContent()) ?? '';
  testInfo.annotations.push({ type: 'adapter', description: name });
  expect(['core', 'compatibility']).toContain(await page.getByTestId('adapter-feature-level').getAttribute('data-value'));
  // With the flags in e2e/browser.ts the core adapter is SwiftShader (a fallback) and a
  // compatibility adapter on ANGLE→lavapipe exists; the adapter policy must prefer the latter.
  await expect(page.getByTestId('adapter-fallback'), `the policy kept a fallback adapter: ${name}`).toHaveAttribute('data-value', 'false');
  for (const feature of ['adapter-f16', 'adapter-subgroups', 'adapter-timestamps']) {
    expect(['true', 'false']).toContain(await page.getByTestId(feature).getAttribute('data-value'));
  }
  for (const { name: limit } of SHOWN_LIMITS) {
    const v = Number(await page.getByTestId(`limit-${limit}`).getAttribute('data-value'));
    expect(v, limit).toBeGreaterThan(0);
  }
  // The WebGPU spec's floor for a compute workgroup is 256 invocations in core and 128 in compatibility.
  expect(Number(await page.getByTestId('limit-maxComputeInvocationsPerWorkgroup').getAttribute('data-value'))).toBeGreaterThanOrEqual(128);

  // The studio is there, waiting for a model.
  await expect(page.getByTestId('demo-model')).toBeEnabled();
  await expect(page.getByTestId('run')).toBeDisabled();
  await expect(page.getByTestId('lessons').getByRole('heading', { name: 'Lessons' })).toBeVisible();
  await expect(page.getByTestId('start-lessons')).toHaveAttribute('href', '?lesson=1');

  await page.screenshot({ path: path.join(SCREENSHOTS_DIR, 'adapter.png'), fullPage: true });
  expect(pageErrors).toEqual([]);
});
