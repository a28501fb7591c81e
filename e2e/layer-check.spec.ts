import path from 'node:path';
import { expect, test } from '@playwright/test';
import type { Page } from '@playwright/test';
import { SCREENSHOTS_DIR } from './browser';

/**
 * The layer check page (`/?check=layer`) quantizes a seeded random layer in the worker on the GPU
 * and with the f64 reference on the page. This test reads the numbers the page shows and judges
 * them itself, so a page that calls every result a pass cannot hide a wrong engine.
 */
const CASES = [
  // Symmetric grids with groups found during the sweep have exact rounding ties (see
  // src/app/layer-check/compare.ts), so a few codes may differ; elsewhere there are none.
  { title: '4 bits symmetric, groups of 16, blocks of 16 (the default)', query: '', minAgreement: 0.99 },
  { title: '4 bits asymmetric, groups of 16', query: '&seed=1&sym=0', minAgreement: 0.998 },
  { title: '3 bits asymmetric, act-order with static groups, blocks of 8', query: '&seed=7&bits=3&sym=0&actorder=1&static=1&block=8', minAgreement: 0.998 },
  { title: '4 bits per row with the MSE clipping search', query: '&seed=3&group=-1&mse=1', minAgreement: 0.998 },
  // A long calibration: the Hessian's sums run over 4096 tokens, past the ~1900 terms where the
  // CPU-shaped GEMM gave NaN on Chromium's software adapter (tuneGemm now checks each kernel first).
  { title: '4 bits symmetric, groups of 16, 4096 calibration tokens', query: '&seed=5&tokens=4096', minAgreement: 0.99 },
];

async function value(page: Page, id: string): Promise<number> {
  const v = await page.getByTestId(`lc-${id}`).getAttribute('data-value');
  expect(v, `lc-${id} has a value`).not.toBeNull();
  return Number(v);
}

for (const [i, c] of CASES.entries()) {
  test(`the GPU GPTQ agrees with the f64 reference: ${c.title}`, async ({ page }, testInfo) => {
    await page.goto(`/?check=layer${c.query}`);
    const panel = page.getByTestId('layer-check');
    await expect(panel).toHaveAttribute('data-status', /^(pass|fail|error)$/, { timeout: 150_000 });
    if ((await panel.getAttribute('data-status')) === 'error') {
      throw new Error(`the layer check failed to run: ${await page.getByTestId('error').textContent()}`);
    }

    const agreement = await value(page, 'code-agreement');
    const codeStep = await value(page, 'max-code-step');
    const dqSameGrid = await value(page, 'max-same-grid-dq-over-scale');
    const dqAll = await value(page, 'max-dq-over-scale');
    const lossGpu = await value(page, 'loss-gpu');
    const lossRef = await value(page, 'loss-reference');
    const mseGptq = await value(page, 'mse-gptq');
    const mseRtn = await value(page, 'mse-rtn');
    const mseRef = await value(page, 'mse-gptq-reference');
    testInfo.annotations.push({
      type: 'numbers',
      description: `codes ${agreement} (max step ${codeStep}), |ΔQ|/scale ${dqAll} (same grid point ${dqSameGrid}), loss ${lossGpu} vs ${lossRef}, MSE GPTQ ${mseGptq} vs RTN ${mseRtn} (ref ${mseRef})`,
    });

    expect(agreement, 'fraction of codes equal to the reference').toBeGreaterThanOrEqual(c.minAgreement);
    expect(codeStep, 'codes that differ are neighbours').toBeLessThanOrEqual(1);
    expect(dqSameGrid, 'max |ΔQ|/scale where both sit on the same grid point').toBeLessThanOrEqual(1e-3);
    expect(Math.abs(lossGpu - lossRef) / lossRef, 'relative difference of the losses').toBeLessThanOrEqual(0.02);
    expect(Math.abs(mseGptq - mseRef) / mseRef, 'relative difference of the output MSEs').toBeLessThanOrEqual(0.02);
    expect(mseGptq, "GPTQ's output MSE is below RTN's").toBeLessThan(mseRtn);
    await expect(panel).toHaveAttribute('data-status', 'pass');

    if (i === 0) {
      await page.screenshot({ path: path.join(SCREENSHOTS_DIR, 'layer-check.png'), fullPage: true });
    }
  });
}
