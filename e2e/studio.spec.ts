/**
 * The studio end to end in headless Chromium on a software GPU: the demo model run at 4 bits with
 * the charts filling in, perplexities read, the zip and the GGUF downloaded and parsed; stories260K dropped as
 * files; a corrupt file; cancel mid-run and run again; a Hub repo id fetched from a local server.
 * Runs are kept small (few, short windows) so that software adapters finish in a minute or so.
 */
import path from 'node:path';
import { readFileSync, readdirSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import type { Page } from '@playwright/test';
import { unzipSync } from 'fflate';
import { SCREENSHOTS_DIR } from './browser';
import { sharedModelDir, STORIES_260K, readCorpus } from '../src/testing/shared-models';
import { startHubServer } from '../src/testing/hub-server';
import { kvValue, readGguf } from '../src/testing/gguf-reader';

test.describe.configure({ timeout: 420_000 });

const DEMO_DIR = path.resolve('public/demo');

function trackErrors(page: Page): Error[] {
  const errors: Error[] = [];
  page.on('pageerror', (e) => errors.push(e));
  return errors;
}

/** Small settings for a software GPU. */
async function quickSettings(page: Page, bits = '4') {
  await page.getByTestId('bits').selectOption(bits);
  await page.getByTestId('nsamples').fill('4');
  await page.getByTestId('seqlen').fill('64');
  await page.getByTestId('eval-windows').fill('4');
}

async function loadDemo(page: Page) {
  await page.getByTestId('demo-model').click();
  const summary = page.getByTestId('model-summary');
  await expect(summary).toHaveAttribute('data-status', 'ready');
  await expect(page.getByTestId('model-arch')).toHaveText('llama');
}

async function runToEnd(page: Page) {
  await page.getByTestId('run').click();
  await expect(page.getByTestId('progress')).toHaveAttribute('data-status', 'done', { timeout: 360_000 });
}

const pplOf = async (page: Page, i: number, variant: string) => Number(await page.getByTestId(`ppl-${i}-${variant}`).getAttribute('data-value'));

test('the demo model: run 4-bit, charts fill in, perplexities, generations, download the zip', async ({ page }) => {
  const errors = trackErrors(page);
  await page.goto('/');
  await loadDemo(page);
  await quickSettings(page);
  await expect(page.getByTestId('plan')).toHaveAttribute('data-status', 'ready');
  await expect(page.getByTestId('plan-export')).toContainText('gptq');
  // 3 bits have no exact GGUF type: the plan says so and offers the nearest setting, which puts 4 bits back.
  await page.getByTestId('bits').selectOption('3');
  await expect(page.getByTestId('gguf-plan-refusal')).toContainText('3-bit symmetric weights have no exact GGUF block type');
  await page.getByTestId('gguf-suggestion').click();
  await expect(page.getByTestId('bits')).toHaveValue('4');
  await expect(page.getByTestId('plan-gguf')).toHaveAttribute('data-type', 'Q4_0');

  await page.getByTestId('run').click();
  await expect(page.getByTestId('progress')).toHaveAttribute('data-status', 'running');
  // The layer chart fills in while the run goes on.
  await expect.poll(async () => Number(await page.getByTestId('layer-chart').getAttribute('data-count')), { timeout: 300_000 }).toBeGreaterThan(0);
  await expect(page.getByTestId('progress')).toHaveAttribute('data-status', 'done', { timeout: 360_000 });
  const config = JSON.parse(readFileSync(path.join(DEMO_DIR, 'config.json'), 'utf8'));
  await expect(page.getByTestId('layer-chart')).toHaveAttribute('data-count', String(7 * config.num_hidden_layers));
  await expect(page.getByTestId('hessian-heatmap')).toBeVisible();
  await expect(page.getByTestId('error-histogram')).toBeVisible();

  // Perplexity of the three models on both demo texts; GPTQ no worse than RTN on the in-domain text.
  const table = page.getByTestId('perplexity');
  await expect(table).toHaveAttribute('data-status', 'final');
  await expect(table).toHaveAttribute('data-count', '2');
  const [original, rtn, gptq] = [await pplOf(page, 0, 'original'), await pplOf(page, 0, 'rtn'), await pplOf(page, 0, 'gptq')];
  expect(original).toBeGreaterThan(1);
  expect(rtn).toBeGreaterThan(original);
  expect(gptq).toBeLessThan(rtn);
  await expect(page.getByTestId('size-quantized')).toBeVisible();

  await page.getByTestId('prompt').fill('In the beginning');
  await page.getByTestId('generate').click();
  for (const v of ['original', 'rtn', 'gptq']) await expect(page.getByTestId(`generation-${v}`)).not.toBeEmpty({ timeout: 120_000 });

  const download = page.waitForEvent('download');
  await page.getByTestId('download').click();
  const file = await download;
  expect(file.suggestedFilename()).toMatch(/gptq-4bit-g128\.zip$/);
  const zip = unzipSync(new Uint8Array(readFileSync(await file.path())));
  const folder = file.suggestedFilename().replace(/\.zip$/, '');
  const names = Object.keys(zip).map((n) => n.slice(folder.length + 1)).sort();
  expect(names).toEqual(['README.md', 'config.json', 'generation_config.json', 'model.safetensors', 'quantize_config.json', 'tokenizer.json', 'tokenizer_config.json']);
  const exported = JSON.parse(new TextDecoder().decode(zip[`${folder}/config.json`]));
  expect(exported.quantization_config).toMatchObject({ quant_method: 'gptq', bits: 4, group_size: 128, sym: true, checkpoint_format: 'gptq' });
  const st = zip[`${folder}/model.safetensors`];
  const headerLength = new DataView(st.buffer, st.byteOffset).getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(st.subarray(8, 8 + headerLength)));
  expect(header.__metadata__).toEqual({ format: 'pt' });
  expect(header['model.layers.0.self_attn.q_proj.qweight'].dtype).toBe('I32');
  expect(header['model.layers.0.self_attn.q_proj.scales'].dtype).toBe('F16');
  await expect(page.getByTestId('snippet-vllm')).toContainText('quantization="gptq"');

  // The GGUF for llama.cpp and imatrix.gguf beside the zip, read back by the independent reader.
  const ggufDownload = page.waitForEvent('download');
  await page.getByTestId('download-gguf').click();
  const ggufFile = await ggufDownload;
  expect(ggufFile.suggestedFilename()).toMatch(/-Q4_0\.gguf$/);
  const gguf = readGguf(new Uint8Array(readFileSync(await ggufFile.path())));
  expect(kvValue(gguf, 'general.architecture')).toBe('llama');
  expect(kvValue(gguf, 'tokenizer.ggml.pre')).toBe('gpt-2');
  expect(gguf.tensors.get('blk.0.attn_q.weight')!.type).toBe(2);
  expect(gguf.tensors.get('token_embd.weight')!.type).toBe(1);
  const imatrixDownload = page.waitForEvent('download');
  await page.getByTestId('download-imatrix').click();
  const imatrixFile = await imatrixDownload;
  expect(imatrixFile.suggestedFilename()).toBe('imatrix.gguf');
  const imatrix = readGguf(new Uint8Array(readFileSync(await imatrixFile.path())));
  expect(kvValue(imatrix, 'imatrix.chunk_count')).toBe(4);
  expect(imatrix.tensors.size).toBe(2 * 7 * config.num_hidden_layers);

  await page.getByTestId('layer-chart').scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(SCREENSHOTS_DIR, 'studio-run.png'), fullPage: true });
  expect(errors).toEqual([]);
});

test('cancel mid-run keeps the finished layers; running again finishes; runs survive a reload', async ({ page }) => {
  const errors = trackErrors(page);
  await page.goto('/');
  await loadDemo(page);
  await quickSettings(page, '3');
  await page.getByTestId('run').click();
  await expect.poll(async () => Number(await page.getByTestId('layer-chart').getAttribute('data-count')), { timeout: 300_000 }).toBeGreaterThan(0);
  await page.getByTestId('cancel').click();
  await expect(page.getByTestId('progress')).toHaveAttribute('data-status', 'cancelled', { timeout: 30_000 });
  const kept = Number(await page.getByTestId('layer-chart').getAttribute('data-count'));
  expect(kept).toBeGreaterThan(0);
  await expect(page.getByTestId('cancelled')).toContainText('finished layers are kept');
  // Nothing to download from a cancelled run.
  await expect(page.getByTestId('download')).toBeDisabled();

  await runToEnd(page);
  await expect(page.getByTestId('run-history')).toHaveAttribute('data-count', '2');
  await page.reload();
  await expect(page.getByTestId('run-history')).toHaveAttribute('data-count', '2');
  expect(errors).toEqual([]);
});

test('stories260K dropped as files runs with a pasted calibration; a corrupt file gets a clear message', async ({ page }) => {
  const errors = trackErrors(page);
  await page.goto('/');
  // A truncated safetensors file: the message names it and says what to do; nothing else breaks.
  const dir = sharedModelDir(STORIES_260K);
  const asBuffer = (name: string) => ({ name, mimeType: 'application/octet-stream', buffer: readFileSync(path.join(dir, name)) });
  await page.getByTestId('model-input').setInputFiles([
    asBuffer('config.json'),
    asBuffer('tokenizer.json'),
    { name: 'model.safetensors', mimeType: 'application/octet-stream', buffer: readFileSync(path.join(dir, 'model.safetensors')).subarray(0, 5000) },
  ]);
  await expect(page.getByTestId('error')).toContainText('model.safetensors');
  await expect(page.getByTestId('error')).toContainText(/download it again/);

  // Dropped anywhere on the page, as files.
  const files = readdirSync(dir).map((name) => ({ name, b64: readFileSync(path.join(dir, name)).toString('base64') }));
  const dataTransfer = await page.evaluateHandle((list) => {
    const dt = new DataTransfer();
    for (const f of list) dt.items.add(new File([Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0))], f.name));
    return dt;
  }, files);
  await page.dispatchEvent('main', 'dragover', { dataTransfer });
  await page.dispatchEvent('main', 'drop', { dataTransfer });
  await expect(page.getByTestId('model-summary')).toHaveAttribute('data-status', 'ready');
  await expect(page.getByTestId('model-hidden')).toHaveAttribute('data-value', '64');
  await expect(page.getByTestId('error')).toHaveCount(0);

  await page.getByTestId('calibration-paste').fill(readCorpus('stories260K_generated_200_seed20251122.txt').slice(0, 20_000));
  await page.getByTestId('calibration-use-paste').click();
  await page.getByTestId('evaluation-paste-name').fill('aesop');
  await page.getByTestId('evaluation-paste').fill(readCorpus('aesop_fables_body_reflowed.txt').slice(0, 6000));
  await page.getByTestId('evaluation-add-paste').click();
  await quickSettings(page);
  await page.getByTestId('group-size').selectOption('32');
  // The MLP width 172 is padded for the export.
  await expect(page.getByTestId('plan-padding')).toContainText('192');
  await runToEnd(page);
  await expect(page.getByTestId('layer-chart')).toHaveAttribute('data-count', '35');
  expect(await pplOf(page, 0, 'gptq')).toBeGreaterThan(1);
  expect(errors).toEqual([]);
});

test('a Hub repo id fetches config, tokenizer and weights by range requests', async ({ page }) => {
  const errors = trackErrors(page);
  const hub = await startHubServer({ repos: { 'gptq-studio/demo': DEMO_DIR }, redirect: true });
  try {
    await page.goto(`/?hub=${encodeURIComponent(hub.baseUrl)}`);
    await page.getByTestId('hub-repo').fill('gptq-studio/nope');
    await page.getByTestId('hub-fetch').click();
    await expect(page.getByTestId('error')).toContainText(/no such repo/i);
    await page.getByTestId('hub-repo').fill('gptq-studio/demo');
    await page.getByTestId('hub-fetch').click();
    await expect(page.getByTestId('model-summary')).toHaveAttribute('data-status', 'ready');
    await expect(page.getByTestId('model-arch')).toHaveText('llama');
    expect(hub.rangeRequests('model.safetensors').length).toBeGreaterThan(0);
  } finally {
    await hub.close();
  }
  expect(errors).toEqual([]);
});
