import path from 'node:path';
import { expect, test } from '@playwright/test';
import type { Locator, Page } from '@playwright/test';
import { SCREENSHOTS_DIR } from './browser';
import { NOTES_EXERCISE, solveExercise } from '../src/core/lessons/exercise';
import { DEFAULT_WALK, walkLayer } from '../src/core/lessons/layer-walk';
import { analyzeToyRow, NOTES_TOY_ROW, OPENING_TOY_ROW, type ToyRow } from '../src/core/lessons/toy-row';

/** The full-precision number a cell carries in data-value. */
async function value(l: Locator): Promise<number> {
  const v = await l.getAttribute('data-value');
  expect(v, 'data-value').not.toBeNull();
  return Number(v);
}

async function expectValue(page: Page, testId: string, expected: number, digits = 12) {
  await expect.poll(async () => value(page.getByTestId(testId)), { message: testId }).toBeCloseTo(expected, digits);
}

/** Every number of lesson 1's candidate table against analyzeToyRow for the same row. */
async function expectToyTable(page: Page, row: ToyRow) {
  const a = analyzeToyRow(row);
  for (let t = 0; t < row.inputs.length; t++) await expectValue(page, `l1-original-out-${t + 1}`, a.target[t]);
  for (const id of ['rtn', 'gptq', 'best', 'candidate'] as const) {
    await expect(page.getByTestId(`l1-${id}`)).toHaveAttribute('data-w', a[id].w.join(','));
    for (let t = 0; t < row.inputs.length; t++) {
      await expectValue(page, `l1-${id}-out-${t + 1}`, a[id].outputs[t]);
      await expectValue(page, `l1-${id}-err-${t + 1}`, a[id].errors[t]);
    }
    await expectValue(page, `l1-${id}-sum`, a[id].squaredSum);
  }
  await expect(page.getByTestId('l1-path-2')).toHaveAttribute('data-value', a.path[2].join(','));
}

function trackErrors(page: Page): Error[] {
  const errors: Error[] = [];
  page.on('pageerror', (e) => errors.push(e));
  return errors;
}

test('the front page lists the lessons and links to them; a bad lesson number says so', async ({ page }) => {
  const errors = trackErrors(page);
  await page.goto('/');
  const section = page.getByTestId('lessons');
  await expect(section.getByRole('heading', { name: 'Lessons' })).toBeVisible();
  for (const n of [1, 2, 3, 4]) await expect(page.getByTestId(`lesson-link-${n}`)).toHaveAttribute('href', `?lesson=${n}`);
  await expect(section).toContainText('Lesson 4: Where pain lands');
  await expect(section).not.toContainText('not yet');
  await page.getByTestId('lesson-link-1').click();
  await expect(page).toHaveURL(/\?lesson=1$/);
  await expect(page.getByTestId('lesson-1')).toBeVisible();

  await page.goto('/?lesson=9');
  await expect(page.getByTestId('error')).toContainText('numbered 1 to 4');
  expect(errors).toEqual([]);
});

test("lesson 1 opens where GPTQ beats rounding, shows the notes' numbers a click away, and recomputes them when W, the inputs or the grid change", async ({ page }) => {
  const errors = trackErrors(page);
  await page.goto('/?lesson=1');
  await expect(page.getByRole('heading', { name: /Lesson 1 of 4/ })).toBeVisible();
  await expect(page.getByTestId('lesson-next').first()).toHaveAttribute('href', '?lesson=2');

  // The opening row W = [0.7, −0.3]: RTN, GPTQ and the best grid point all differ, GPTQ with half RTN's error.
  await expect(page.getByTestId('l1-w-handle')).toHaveAttribute('data-value', '0.7,-0.3');
  await expect(page.getByTestId('l1-rtn')).toHaveAttribute('data-w', '0.5,-0.5');
  await expect(page.getByTestId('l1-gptq')).toHaveAttribute('data-w', '0.5,0');
  await expect(page.getByTestId('l1-best')).toHaveAttribute('data-w', '1,-0.5');
  await expectValue(page, 'l1-rtn-sum', 1);
  await expectValue(page, 'l1-gptq-sum', 0.5);
  await expectToyTable(page, OPENING_TOY_ROW);
  // H is written as in lessons 3 and 4.
  await expect(page.getByTestId('l1-H')).toContainText('H = (2/N)·XᵀX');
  await page.getByTestId('l1-notes-example').click();

  // The notes' numbers, read from the page.
  await expectValue(page, 'l1-original-out-1', 1.2);
  await expectValue(page, 'l1-original-out-2', -0.4);
  await expect(page.getByTestId('l1-rtn')).toHaveAttribute('data-w', '1,-0.5');
  await expectValue(page, 'l1-rtn-out-1', 1.5);
  await expectValue(page, 'l1-rtn-out-2', -0.5);
  await expectValue(page, 'l1-rtn-err-1', 0.3);
  await expectValue(page, 'l1-rtn-err-2', 0.1);
  await expectValue(page, 'l1-rtn-sum', 0.1);
  await expect(page.getByTestId('l1-rtn-sum')).toHaveText('0.10');
  await expect(page.getByTestId('l1-candidate')).toHaveAttribute('data-w', '0.5,-0.5');
  await expectValue(page, 'l1-candidate-err-1', 0.7);
  await expectValue(page, 'l1-candidate-err-2', 0.6);
  await expect(page.getByTestId('l1-best')).toHaveAttribute('data-w', '1,-0.5');
  await expect(page.getByTestId('l1-gptq')).toHaveAttribute('data-w', '1,-0.5');
  await expectToyTable(page, NOTES_TOY_ROW);
  await expect(page.getByTestId('l1-plane').locator('.grid-point')).toHaveCount(16);

  // Edit a weight: every number follows, to the value src/core computes for the new row.
  let row: ToyRow = { ...NOTES_TOY_ROW, w: [0.9, -0.4] };
  await page.getByTestId('l1-w1').fill('0.9');
  await expectToyTable(page, row);
  expect(analyzeToyRow(row).rtn.squaredSum).not.toBeCloseTo(0.1, 6);

  // The arrow keys move W on its handle.
  await page.getByTestId('l1-w-handle').focus();
  await page.keyboard.press('ArrowUp');
  await page.keyboard.press('Shift+ArrowLeft');
  row = { ...row, w: [0.8, -0.39] };
  await expect(page.getByTestId('l1-w-handle')).toHaveAttribute('data-value', '0.8,-0.39');
  await expectToyTable(page, row);

  // Drag W with the pointer to another place; the table follows the W the page reports.
  const handle = page.getByTestId('l1-w-handle').locator('.w-dot');
  const box = (await handle.boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x - 60, box.y - 90, { steps: 5 });
  await page.mouse.up();
  const dragged = ((await page.getByTestId('l1-w-handle').getAttribute('data-value')) ?? '').split(',').map(Number);
  expect(dragged[0]).toBeLessThan(0.8);
  expect(dragged[1]).toBeGreaterThan(-0.39);
  row = { ...row, w: dragged };
  await expectToyTable(page, row);

  // Add an input and edit it; change the grid.
  await page.getByRole('button', { name: 'Add an input' }).click();
  await page.getByTestId('l1-x3-1').fill('-2');
  await page.getByTestId('l1-x3-2').fill('0.5');
  row = { ...row, inputs: [...row.inputs, [-2, 0.5]] };
  await expectToyTable(page, row);
  await page.getByTestId('l1-bits').selectOption('3');
  await page.getByTestId('l1-step').fill('0.25');
  row = { ...row, grid: { bits: 3, step: 0.25, zero: 1 }, candidate: [0.25, -0.25] };
  await expect(page.getByTestId('l1-levels')).toHaveAttribute('data-value', '-0.25,0,0.25,0.5,0.75,1,1.25,1.5');
  await expectToyTable(page, row);
  await page.getByRole('button', { name: 'Remove input x1' }).click();
  row = { ...row, inputs: row.inputs.slice(1) };
  await expectToyTable(page, row);

  await page.getByRole('button', { name: 'Back to the notes’ example' }).click();
  await expectValue(page, 'l1-rtn-sum', 0.1);
  await page.getByTestId('l1-opening').click();
  await expectValue(page, 'l1-rtn-sum', 1);
  await page.screenshot({ path: path.join(SCREENSHOTS_DIR, 'lesson-1.png'), fullPage: true });
  expect(errors).toEqual([]);
});

test('lesson 2 rejects a wrong answer and accepts a right one, with the reason', async ({ page }) => {
  const errors = trackErrors(page);
  const s = solveExercise(NOTES_EXERCISE);
  await page.goto('/?lesson=2');
  await expect(page.getByRole('heading', { name: /Lesson 2 of 4/ })).toBeVisible();

  // Nothing typed: the page asks for the answers instead of calling them wrong.
  await page.getByTestId('l2-check').click();
  await expect(page.getByTestId('l2-verdict')).toHaveAttribute('data-status', 'wrong');
  await expect(page.getByTestId('l2-missing-sum-0')).toContainText('Type the sum for A first');
  await expect(page.getByTestId('l2-missing-sum-1')).toContainText('Type the sum for B first');
  await expect(page.getByTestId('l2-missing-pick')).toContainText('Pick A or B');
  await expect(page.getByTestId('l2-wrong-sum-0')).toHaveCount(0);
  await page.getByTestId('l2-sum-0').fill('abc');
  await page.getByTestId('l2-check').click();
  await expect(page.getByTestId('l2-missing-sum-0')).toContainText('is not a number');

  // Wrong: the sums swapped and the worse candidate picked.
  await page.getByTestId('l2-sum-0').fill(s.scores[1].squaredSum.toFixed(2));
  await page.getByTestId('l2-sum-1').fill(s.scores[0].squaredSum.toFixed(2));
  await page.getByTestId('l2-pick-1').check();
  await page.getByTestId('l2-check').click();
  await expect(page.getByTestId('l2-verdict')).toHaveAttribute('data-status', 'wrong');
  await expect(page.getByTestId('l2-wrong-sum-0')).toBeVisible();
  await expect(page.getByTestId('l2-wrong-pick')).toBeVisible();
  await expect(page.getByTestId('l2-why')).toHaveCount(0);

  // Right, to two decimals: 0.10 and 0.85, and [1.0, −0.5].
  expect(s.scores[0].squaredSum.toFixed(2)).toBe('0.10');
  expect(s.scores[1].squaredSum.toFixed(2)).toBe('0.85');
  await page.getByTestId('l2-sum-0').fill('0.10');
  await page.getByTestId('l2-sum-1').fill('0.85');
  await page.getByTestId(`l2-pick-${s.better}`).check();
  await page.getByTestId('l2-check').click();
  await expect(page.getByTestId('l2-verdict')).toHaveAttribute('data-status', 'right');
  await expect(page.getByTestId('l2-why')).toContainText('GPTQ keeps [1.00, −0.50]');
  await expect(page.getByTestId('l2-working')).toBeVisible();
  await expectValue(page, 'l2-answer-0', s.scores[0].squaredSum);
  await expectValue(page, 'l2-answer-1', s.scores[1].squaredSum);
  await expectValue(page, 'l2-target-1', -0.3);
  await expectValue(page, 'l2-target-2', 2.6);
  await expect(page.getByTestId('l2-gptq')).toHaveAttribute('data-value', s.gptq.join(','));
  await page.screenshot({ path: path.join(SCREENSHOTS_DIR, 'lesson-2.png'), fullPage: true });
  expect(errors).toEqual([]);
});

test('lesson 3 steps GPTQ forward and back, and each step shows what src/core traced', async ({ page }) => {
  const errors = trackErrors(page);
  await page.goto('/?lesson=3');
  await expect(page.getByRole('heading', { name: /Lesson 3 of 4/ })).toBeVisible();
  const step = page.getByTestId('l3-step');
  const expectStep = async (options: typeof DEFAULT_WALK, k: number) => {
    const walk = walkLayer(options);
    await expect(step).toHaveAttribute('data-value', String(k));
    await expectValue(page, 'l3-mse-gptq', walk.mseGptq[k]);
    await expectValue(page, 'l3-mse-rtn', walk.mseRtn[k]);
    await expect(page.getByTestId('l3-order')).toHaveAttribute('data-value', Array.from(walk.trace.order).join(','));
    if (k === 0) return;
    const s = walk.trace.steps[k - 1];
    await expect(page.getByTestId('l3-column')).toHaveAttribute('data-value', String(s.column));
    for (let r = 0; r < walk.layer.rows; r++) {
      await expectValue(page, `l3-w-${r}`, s.w[r]);
      await expectValue(page, `l3-q-${r}`, s.q[r]);
      await expectValue(page, `l3-err-${r}`, s.err[r]);
    }
  };

  await expectStep(DEFAULT_WALK, 0);
  // One format per set of numbers: the step table's weights all with three decimals, each heatmap's cells alike.
  const sameDecimals = async (locator: Locator) => {
    const texts = await locator.allTextContents();
    const decimals = new Set(texts.filter((t) => t.trim() !== '').map((t) => (t.split('.')[1] ?? '').length));
    expect(decimals.size, texts.join(' ')).toBe(1);
    expect(texts.join(' ')).not.toMatch(/e[-+]?\d/);
  };
  for (const id of ['l3-W', 'l3-H', 'l3-U']) await sameDecimals(page.getByTestId(id).locator('td'));
  const forward = page.getByRole('button', { name: 'Step forward' });
  const back = page.getByRole('button', { name: 'Step back' });
  await forward.click();
  await expectStep(DEFAULT_WALK, 1);
  await sameDecimals(page.getByTestId('l3-step-table').locator('td'));
  expect(await page.getByTestId('l3-w-0').textContent()).toMatch(/^−?\d+\.\d{3}$/);
  await forward.click();
  await forward.click();
  await expectStep(DEFAULT_WALK, 3);
  await back.click();
  await expectStep(DEFAULT_WALK, 2);
  await expect(page.getByTestId('l3-update')).toBeVisible();

  // Act-order on: the order is diag(H) descending, and the same step shows the new trace.
  const actOrder = { ...DEFAULT_WALK, actOrder: true };
  await page.getByTestId('l3-actorder').check();
  await expectStep(actOrder, 2);
  await forward.click();
  await expectStep(actOrder, 3);
  await page.screenshot({ path: path.join(SCREENSHOTS_DIR, 'lesson-3.png'), fullPage: true });

  // Play runs to the end on its own; pause stops it.
  await page.getByRole('button', { name: 'Play' }).click();
  await expect.poll(async () => value(step)).toBeGreaterThan(3);
  await page.getByRole('button', { name: 'Pause' }).click();
  const paused = await value(step);
  await page.waitForTimeout(1500);
  expect(await value(step)).toBe(paused);
  await page.getByRole('button', { name: 'Play' }).click();
  await expectStep(actOrder, 8);
  await expect(page.getByRole('button', { name: 'Play' })).toBeVisible();

  // Another seed is another layer.
  await page.getByTestId('l3-seed').fill('7');
  await expectStep({ ...actOrder, seed: 7 }, 8);
  expect(errors).toEqual([]);
});

test('lesson 4 shows a real layer of the demo model and follows the bits and act-order', async ({ page }) => {
  const errors = trackErrors(page);
  await page.goto('/?lesson=4');
  await expect(page.getByRole('heading', { name: 'Lesson 4 of 4: Where pain lands' })).toBeVisible();
  const summary = page.getByTestId('l4-summary');
  await expect(summary).toHaveAttribute('data-layer', '0.mlp.down_proj');
  const mse = async (id: string) => Number(await page.getByTestId(id).getAttribute('data-value'));
  // GPTQ leaves less output error than RTN on this real layer.
  expect(await mse('l4-mse-gptq')).toBeLessThan(await mse('l4-mse-rtn'));
  const threeBit = await mse('l4-mse-rtn');
  await page.getByTestId('l4-bits').selectOption('2');
  await expect.poll(() => mse('l4-mse-rtn')).toBeGreaterThan(threeBit);
  const plainTop = await mse('l4-top-gptq');
  await page.getByLabel('act-order').check();
  await expect.poll(() => mse('l4-top-gptq')).not.toBe(plainTop);
  await expect(page.getByTestId('l4-columns').locator('tbody tr')).not.toHaveCount(0);
  // Both charts take the card's width, with titled axes whose log domain holds every point.
  for (const chart of await page.getByTestId('l4-chart').all()) {
    const card = (await chart.locator('xpath=ancestor::section[1]').boundingBox())!;
    expect((await chart.boundingBox())!.width).toBeGreaterThan(0.85 * (card.width - 40));
    await expect(chart.locator('.recharts-label').first()).toBeVisible();
    expect(Number(await chart.getAttribute('data-y-min'))).toBeGreaterThan(0);
  }

  await expect(page.getByTestId('lesson-prev').first()).toHaveAttribute('href', '?lesson=3');
  await page.screenshot({ path: path.join(SCREENSHOTS_DIR, 'lesson-4.png'), fullPage: true });
  expect(errors).toEqual([]);
});
