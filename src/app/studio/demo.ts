/** The demo model and texts shipped under public/demo (see public/demo/README.md). */
export const DEMO_MODEL_FILES = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json'] as const;

/** The first is the calibration text; the others are evaluation texts (in and out of its domain). */
export const DEMO_TEXTS = [
  { file: 'calibration.txt', name: 'demo calibration (King James Bible, training books)' },
  { file: 'eval-kjv.txt', name: 'King James Bible, held-out books' },
  { file: 'eval-license.txt', name: 'GNU GPL v3 text (out of domain)' },
] as const;

export function demoUrl(file: string): string {
  return `${import.meta.env.BASE_URL}demo/${file}`;
}
