/** The demo model and texts shipped under public/demo (see public/demo/README.md). */
export const DEMO_MODEL_FILES = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json'] as const;

/** The first is the calibration text; the others are evaluation texts (in and out of its domain). */
export const DEMO_TEXTS = [
  { file: 'calibration.txt', name: 'demo calibration (King James Bible, training books)' },
  { file: 'eval-kjv.txt', name: 'King James Bible, held-out books' },
  { file: 'eval-license.txt', name: 'GNU GPL v3 text (out of domain)' },
] as const;

/** The name the demo model is loaded under (its runs, zips and reports carry it). */
export const DEMO_MODEL_NAME = 'gptq-studio-demo';

/** A prompt the demo model (trained on the King James Bible) can continue; the load snippets and generations start from it. */
export const DEMO_PROMPT = 'In the beginning God created';

export function demoUrl(file: string): string {
  return `${import.meta.env.BASE_URL}demo/${file}`;
}

/** One file of public/demo; rejects with a message when it does not load. */
export async function fetchDemo(file: string): Promise<Response> {
  const res = await fetch(demoUrl(file));
  if (!res.ok) throw new Error(`the demo file ${file} did not load (HTTP ${res.status}); reload the page`);
  return res;
}

/** The demo checkpoint's files, fetched from the studio itself. */
export function fetchDemoModel(): Promise<File[]> {
  return Promise.all(DEMO_MODEL_FILES.map(async (f) => new File([await (await fetchDemo(f)).blob()], f)));
}

/** The demo's calibration text (first) and evaluation texts, by the names the studio shows, flagged as the demo's. */
export function fetchDemoTexts(): Promise<{ name: string; text: string; demo: true }[]> {
  return Promise.all(DEMO_TEXTS.map(async (t) => ({ name: t.name, text: await (await fetchDemo(t.file)).text(), demo: true as const })));
}
