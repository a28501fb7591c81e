/**
 * "Compare strategies" end to end in headless Chromium on a software GPU: stories260K loaded as
 * files, a strategy list that does not parse and one the model refuses (group size 999) disabling Compare, a sweep cancelled
 * before anything finished (nothing kept) and one cancelled after its first pass (its strategies kept, shown and in
 * its report.json with the "cancelled" marker), then a tiny sweep (three strategies, two seeds, two windows of 32 tokens, two evaluation
 * windows) with the sensitivity map; the chart draws one point per strategy and the front, and
 * the table beside it says the same (front, order of the measures); the KLD toggle; the per-layer
 * curves; the heatmap; a mixed-precision plan run and downloaded with its widths in
 * quantization_config.dynamic. (That such a file reads back through both readers to the run's
 * perplexity is src/engine/mixed-run.test.ts.)
 */
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import type { Page } from '@playwright/test';
import { unzipSync } from 'fflate';
import { readCorpus, sharedModelDir, STORIES_260K } from '../src/testing/shared-models';
import { SCREENSHOTS_DIR } from './browser';

test.describe.configure({ timeout: 600_000 });

async function loadStories(page: Page) {
  const dir = sharedModelDir(STORIES_260K);
  const file = (name: string) => ({ name, mimeType: 'application/octet-stream', buffer: readFileSync(path.join(dir, name)) });
  await page.getByTestId('model-input').setInputFiles(['config.json', 'tokenizer.json', 'tokenizer_config.json', 'model.safetensors'].map(file));
  await expect(page.getByTestId('model-summary')).toHaveAttribute('data-status', 'ready');
  await page.getByTestId('model-name').fill('stories260K');
  await page.getByTestId('calibration-paste').fill(readCorpus('stories260K_generated_200_seed20251122.txt').slice(0, 20_000));
  await page.getByTestId('calibration-use-paste').click();
  await page.getByTestId('evaluation-paste-name').fill('aesop');
  await page.getByTestId('evaluation-paste').fill(readCorpus('aesop_fables_body_reflowed.txt').slice(0, 6000));
  await page.getByTestId('evaluation-add-paste').click();
  await page.getByTestId('nsamples').fill('2');
  await page.getByTestId('seqlen').fill('32');
  await page.getByTestId('eval-windows').fill('2');
  await page.getByTestId('group-size').selectOption('32');
}

test('a sweep on stories260K: one point per strategy, the front, the table, per-layer curves, the heatmap, a mixed-precision plan run and downloaded', async ({ page }) => {
  const errors: Error[] = [];
  page.on('pageerror', (e) => errors.push(e));
  await page.goto('/');
  await loadStories(page);

  // The compact syntax and the presets' boxes edit the same list; a bad strategy says why and blocks the start.
  const list = page.getByTestId('sweep-strategies');
  await list.fill('4g32, q4');
  await expect(page.getByTestId('sweep-strategies-error')).toContainText('strategy "q4": write [gptq:|rtn:|awq:]BITS');
  await expect(page.getByTestId('sweep-start')).toBeDisabled();
  // A strategy whose group size fits no linear of the model (stories260K: hidden size 64) is refused by the
  // rule the sweep applies before any work, checked against the model as it is typed: the field says why and
  // Compare stays disabled with the reason beside it, as invalid settings disable Run.
  await list.fill('4g32,4g999');
  const refusal = 'gptq:4g999: with group size 999 no linear of this model can be exported quantized';
  await expect(page.getByTestId('sweep-strategies-error')).toContainText(refusal);
  await expect(page.getByTestId('sweep-strategies-error')).toContainText('group sizes that quantize every linear of this model: -1 (one group per row), 16, 32, 64');
  await expect(list).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByTestId('sweep-start')).toBeDisabled();
  await expect(page.getByTestId('sweep-blocked')).toContainText(refusal);
  await expect(page.getByTestId('sweep-progress')).toHaveAttribute('data-status', 'idle');
  await list.fill('4g32,rtn:4g32,2g32');
  await expect(list).toHaveAttribute('aria-invalid', 'false');
  await expect(page.getByTestId('sweep-strategies-error')).toHaveCount(0);
  await expect(page.getByTestId('preset-gptq:4g32')).toBeChecked();
  await page.getByTestId('preset-awq:4g32').check();
  await expect(list).toHaveValue('4g32,rtn:4g32,2g32,awq:4g32');
  await page.getByTestId('preset-awq:4g32').uncheck();
  await expect(list).toHaveValue('4g32,rtn:4g32,2g32');
  await page.getByTestId('sweep-seeds').fill('2');
  await expect(page.getByTestId('sweep-sensitivity')).toBeChecked();

  // Cancelled while it runs, before any strategy finished: it stops, and nothing of it is kept.
  await page.getByTestId('sweep-start').click();
  await expect(page.getByTestId('sweep-progress')).toHaveAttribute('data-status', 'running');
  await expect(page.getByTestId('run')).toBeDisabled(); // one job at a time
  await expect(page.getByTestId('sweep-stage')).toContainText(/Quantizing|Evaluating|original/);
  await page.getByTestId('sweep-cancel').click();
  await expect(page.getByTestId('sweep-progress')).toHaveAttribute('data-status', 'cancelled');
  await expect(page.getByTestId('sweep-cancelled')).toHaveText('Cancelled: nothing of this comparison is kept.');
  await expect(page.getByTestId('sweep-results')).toHaveCount(0);

  // Cancelled once the first pass (gptq:4g32 and rtn:4g32 on one grid, one seed) has measured both: they are
  // kept and shown as a finished sweep's results, the line says what was not measured, its report.json says so.
  // Three more passes follow it, so that the sweep is still going when the cancel reaches it on a loaded machine.
  await list.fill('4g32,rtn:4g32,2g32,3g32,8g32');
  await page.getByTestId('sweep-seeds').fill('1');
  await page.getByTestId('sweep-start').click();
  await expect(page.getByTestId('sweep-progress')).toHaveAttribute('data-results', '2', { timeout: 240_000 });
  await page.getByTestId('sweep-cancel').click();
  await expect(page.getByTestId('sweep-progress')).toHaveAttribute('data-status', 'cancelled');
  await expect(page.getByTestId('sweep-cancelled')).toHaveText(
    'Cancelled after 2 of 5 strategies; not measured: gptq:2g32, gptq:3g32, gptq:8g32. The results below are those of the 2 strategies whose every seed was measured.');
  await expect(page.getByTestId('sweep-chart')).toHaveAttribute('data-points', '2');
  await expect(page.getByTestId('sweep-label')).toContainText('stories260K: 2 strategies over seed 0');
  const saved = page.waitForEvent('download');
  await page.getByTestId('sweep-download-report').click();
  const savedReport = await saved;
  expect(savedReport.suggestedFilename()).toBe('stories260K-sweep-report.json');
  const partial = JSON.parse(readFileSync(await savedReport.path(), 'utf8'));
  expect(partial.cancelled).toEqual({ after: 2, of: 5, strategies: ['gptq:2g32', 'gptq:3g32', 'gptq:8g32'] });
  expect(partial.files).toEqual(['stories260K-sweep-report.json']);
  expect(partial.sweep.strategies.map((s: { label: string }) => s.label)).toEqual(['gptq:4g32', 'rtn:4g32']);
  await list.fill('4g32,rtn:4g32,2g32');
  await page.getByTestId('sweep-seeds').fill('2');

  await page.getByTestId('sweep-start').click();
  await expect(page.getByTestId('sweep-progress')).toHaveAttribute('data-status', 'done', { timeout: 480_000 });

  // The chart: three points, a front of two (the 2-bit point and the better 4-bit one), drawn as a line.
  const chart = page.getByTestId('sweep-chart');
  await expect(chart).toHaveAttribute('data-points', '3');
  const points = chart.getByTestId('sweep-point');
  await expect(points).toHaveCount(3);
  const drawn = await points.evaluateAll((els) => els.map((e) => ({ label: e.getAttribute('data-label')!, front: e.getAttribute('data-front') === 'true', cy: Number(e.getAttribute('cy')) })));
  expect(drawn.map((p) => p.label).sort()).toEqual(['gptq:2g32', 'gptq:4g32', 'rtn:4g32']);
  expect(drawn.filter((p) => p.front).map((p) => p.label)).toContain('gptq:2g32');
  expect(drawn.filter((p) => p.front)).toHaveLength(2);
  await expect(chart).toHaveAttribute('data-front', '2');
  const frontPath = chart.locator('.sweep-front path.recharts-line-curve');
  await expect(frontPath).toHaveCount(1);
  expect((await frontPath.getAttribute('d')) ?? '').toMatch(/^M[\d.]+,[\d.]+L[\d.]+,[\d.]+$/);
  // Error bars over the two seeds: one per point.
  expect(await chart.locator('.recharts-errorBar').count()).toBeGreaterThanOrEqual(3);

  // The table says what the chart draws: the same strategies, the same front, the measures in the same vertical order.
  const rows = await page.getByTestId('sweep-table').locator('tbody tr').evaluateAll((trs) => trs.map((tr) => ({
    label: tr.getAttribute('data-testid')!.replace('sweep-row-', ''), front: tr.getAttribute('data-front') === 'true',
    y: Number(tr.getAttribute('data-y')), bpw: Number(tr.getAttribute('data-bpw')),
  })));
  expect(rows.map((r) => r.label)).toEqual(['gptq:4g32', 'rtn:4g32', 'gptq:2g32']);
  for (const p of drawn) expect(rows.find((r) => r.label === p.label)!.front).toBe(p.front);
  const byY = [...rows].sort((a, b) => a.y - b.y).map((r) => r.label);
  const byCy = [...drawn].sort((a, b) => b.cy - a.cy).map((p) => p.label); // SVG y grows downwards
  expect(byCy).toEqual(byY);
  expect(rows[2].bpw).toBeLessThan(rows[0].bpw);
  expect(rows[1].bpw).toBe(rows[0].bpw);

  await expect(page.getByTestId('sweep-label')).toContainText('stories260K: 3 strategies over seeds 0, 1');
  await page.getByTestId('compare-panel').screenshot({ path: path.join(SCREENSHOTS_DIR, 'compare-strategies.png') });

  // KLD instead of perplexity: the same points, the table's measure switches.
  await page.getByTestId('sweep-metric-kld').check();
  await expect(chart).toHaveAttribute('data-metric', 'kld');
  await expect(points).toHaveCount(3);
  for (const r of await page.getByTestId('sweep-table').locator('tbody tr').evaluateAll((trs) => trs.map((tr) => Number(tr.getAttribute('data-y'))))) {
    expect(r).toBeGreaterThan(0);
    expect(r).toBeLessThan(20);
  }

  // Per-layer curves of every strategy, the layer × width heatmap.
  await expect(page.getByTestId('sweep-layer-chart')).toHaveAttribute('data-series', '3');
  await expect(page.getByTestId('sweep-layer-chart')).toHaveAttribute('data-layers', '35');
  const heat = page.getByTestId('sensitivity-heatmap');
  await expect(heat).toHaveAttribute('data-rows', '35');
  await expect(heat).toHaveAttribute('data-widths', '2,3,4,8');
  const down = await page.getByTestId('sensitivity-row-0.mlp.down_proj').locator('td').evaluateAll((tds) => tds.map((td) => Number(td.getAttribute('data-value'))));
  expect(down).toHaveLength(4);
  expect(down[3]).toBeLessThan(down[0]); // 8 bits beat 2 bits

  // A mixed-precision plan at 3.5 bits per weight, run as the studio's run, downloaded with its widths.
  await page.getByTestId('mixed-target').fill('3.5');
  const plan = page.getByTestId('mixed-plan');
  await expect(plan).toHaveAttribute('data-status', 'ready');
  expect(Number(await plan.getAttribute('data-bpw'))).toBeLessThanOrEqual(3.5);
  await expect(page.getByTestId('mixed-summary')).toContainText('quantization_config.dynamic');
  await page.getByTestId('mixed-run').click();
  await expect(page.getByTestId('progress')).toHaveAttribute('data-status', 'done', { timeout: 300_000 });
  const gptqPpl = Number(await page.getByTestId('ppl-0-gptq').getAttribute('data-value'));
  expect(gptqPpl).toBeGreaterThan(1);
  // The run's divergence from the original beside its perplexity.
  const kld = Number(await page.getByTestId('kld-0-gptq').getAttribute('data-value'));
  expect(kld).toBeGreaterThan(0);
  const download = page.waitForEvent('download');
  await page.getByTestId('download').click();
  const file = await download;
  expect(file.suggestedFilename()).toMatch(/^stories260K-gptq-\dbit-mixed-g32\.zip$/);
  const zip = unzipSync(new Uint8Array(readFileSync(await file.path())));
  const folder = file.suggestedFilename().replace(/\.zip$/, '');
  const q = JSON.parse(new TextDecoder().decode(zip[`${folder}/config.json`])).quantization_config;
  const widths = Object.entries(q.dynamic as Record<string, { bits?: number }>).filter(([k]) => k.startsWith('+:')).map(([, v]) => v.bits);
  expect(widths.length).toBeGreaterThan(0);
  expect(widths.every((b) => b !== q.bits)).toBe(true);
  const report = JSON.parse(new TextDecoder().decode(zip[`${folder}/report.json`]));
  expect(report.mixedPrecision.bpw).toBeLessThanOrEqual(3.5);
  expect(report.mixedPrecision.sensitivityFrom).toBe('gptq:4g32');
  expect(report.perplexity.gptq).toBe(gptqPpl);
  expect(report.divergence.aesop.gptq.kld_mean).toBe(kld);
  expect(errors).toEqual([]);
});
