/** The quantize command's file-system checks before any work: flag, path and what is wrong. */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkInputs, checkOut, InputError, pathBase, readText, resolveInputPaths } from './inputs';

describe('input paths', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gptq-cli-inputs-'));
  const model = join(dir, 'model');
  mkdirSync(model);
  const text = join(dir, 'text.txt');
  writeFileSync(text, 'Once upon a time.');
  const ok = { model, calibration: text, eval: text };

  async function refusal(opts: typeof ok): Promise<string> {
    const e = await checkInputs(opts).then(() => null, (err: unknown) => err);
    expect(e).toBeInstanceOf(InputError);
    return (e as Error).message;
  }

  it('accept a folder and two files', async () => {
    await expect(checkInputs(ok)).resolves.toBeUndefined();
    await expect(readText('--calibration', text)).resolves.toEqual({ name: 'text.txt', path: text, text: 'Once upon a time.' });
  });

  it('refuse a text that is not UTF-8 (a gzip file), naming the flag and the path', async () => {
    const gz = join(dir, 'calib.txt.gz');
    writeFileSync(gz, Uint8Array.of(0x1f, 0x8b, 0x08, 0x00, 0xff, 0xfe, 0x41));
    const e = await readText('--calibration', gz).then(() => null, (err: unknown) => err);
    expect(e).toBeInstanceOf(InputError);
    expect((e as Error).message).toBe(`--calibration ${gz}: is not UTF-8 text (a compressed or binary file?); give a plain text file`);
  });

  it('--out: an empty folder passes and is left empty (the probe is made inside it, where the files will go)', async () => {
    const out = join(dir, 'empty-out');
    mkdirSync(out);
    await expect(checkOut(out, model)).resolves.toBeUndefined();
    expect(readdirSync(out)).toEqual([]);
  });

  it('--out: an existing file is refused, saying --out is a folder and which to give, and is left as it was', async () => {
    const file = join(dir, 'quantized.gguf');
    writeFileSync(file, 'mine');
    const e = await checkOut(file, model).then(() => null, (err: unknown) => err);
    expect(e).toBeInstanceOf(InputError);
    expect((e as Error).message).toBe(`--out ${file} is an existing file: --out is the folder the run writes report.json and the model's files into, ` +
      `and it must not exist or be empty; give a new folder, e.g. --out ${join(dir, 'quantized')} (nothing was run, and ${file} is left as it is)`);
    expect(readFileSync(file, 'utf8')).toBe('mine');
    // The suggestion is a path that does not exist yet: without the extension, else with "-out" (the model folder is there).
    writeFileSync(join(dir, 'model.gguf'), 'mine');
    await expect(checkOut(join(dir, 'model.gguf'), model)).rejects.toThrow(`e.g. --out ${join(dir, 'model-out')} (`);
  });

  it('--out: a folder that is not empty is refused, saying what it holds, what --out takes and a folder to give; it is left as it was', async () => {
    const full = join(dir, 'full');
    mkdirSync(full);
    for (const f of ['b.txt', 'a.txt', 'c.txt', 'd.txt']) writeFileSync(join(full, f), 'mine');
    const e = await checkOut(full, model).then(() => null, (err: unknown) => err);
    expect(e).toBeInstanceOf(InputError);
    expect((e as Error).message).toBe(`--out ${full} is not empty: it holds a.txt, b.txt, c.txt, … (4 entries). The run writes report.json and the model's ` +
      `files into a folder that does not exist yet or is empty, never among other files; give a new folder, e.g. --out ${full}-out ` +
      `(nothing was run, and ${full} is left as it is)`);
    expect(readdirSync(full).sort()).toEqual(['a.txt', 'b.txt', 'c.txt', 'd.txt']);
    // The offer does not exist yet: "-out" taken, "-out-2".
    mkdirSync(`${full}-out`);
    await expect(checkOut(full, model)).rejects.toThrow(`e.g. --out ${full}-out-2 (`);
  });

  it('--out: the folder offered is never inside the --model folder, links resolved', async () => {
    const m = join(dir, 'stories');
    mkdirSync(m);
    writeFileSync(join(m, 'config.json'), '{}');
    const inner = join(m, 'quantized');
    mkdirSync(inner);
    writeFileSync(join(inner, 'report.json'), '{}');
    const refused = async (out: string) => {
      const e = await checkOut(out, m).then(() => null, (err: unknown) => err);
      expect(e, out).toBeInstanceOf(InputError);
      return (e as Error).message;
    };
    // --out the model folder itself: said, and a folder beside it.
    expect(await refused(m)).toMatch(new RegExp(`^--out ${m} is not empty \\(it is the --model folder\\): it holds config\\.json, quantized\\. .*e\\.g\\. --out ${m}-out \\(`));
    // An --out inside it (a folder, a file): beside the model folder, not beside --out.
    expect(await refused(inner)).toContain(`e.g. --out ${m}-gptq (`);
    expect(await refused(join(m, 'config.json'))).toContain(`e.g. --out ${m}-gptq (`);
    // Through a link to the model folder too.
    const link = join(dir, 'stories-link');
    symlinkSync(m, link);
    expect(await refused(join(link, 'quantized'))).toContain(`e.g. --out ${m}-gptq (`);
    mkdirSync(`${m}-gptq`);
    expect(await refused(inner)).toContain(`e.g. --out ${m}-gptq-2 (`);
    // The model folder given through the link: the same.
    const e = await checkOut(inner, link).then(() => null, (err: unknown) => err);
    expect((e as Error).message).toContain(`e.g. --out ${link}-gptq (`);
  });

  it('name the flag and the path that does not exist, never Node\'s raw ENOENT', async () => {
    const gone = join(dir, 'gone');
    const messages = [
      await refusal({ ...ok, model: gone }),
      await refusal({ ...ok, calibration: 'no-such-calibration.txt' }),
      await refusal({ ...ok, eval: join(dir, 'eval.txt') }),
    ];
    expect(messages[0]).toBe(`--model ${gone}: does not exist; give the checkpoint folder (config.json, model.safetensors, tokenizer.json)`);
    expect(messages[1]).toBe('--calibration no-such-calibration.txt: does not exist; give a UTF-8 text file');
    expect(messages[2]).toBe(`--eval ${join(dir, 'eval.txt')}: does not exist; give a UTF-8 text file`);
    for (const m of messages) expect(m).not.toMatch(/ENOENT|scandir|open '/);
    await expect(readText('--eval', gone)).rejects.toThrow(`--eval ${gone}: does not exist`);
  });

  it('name a file given for the folder, a folder given for a file, and a path under a file', async () => {
    expect(await refusal({ ...ok, model: text })).toBe(`--model ${text} is a file, not a folder; give the checkpoint folder (config.json, model.safetensors, tokenizer.json)`);
    expect(await refusal({ ...ok, calibration: model })).toBe(`--calibration ${model} is a folder, not a file; give a UTF-8 text file`);
    expect(await refusal({ ...ok, eval: join(text, 'x.txt') })).toMatch(/^--eval .*text\.txt\/x\.txt: does not exist \(a part of the path is a file, not a folder\)/);
  });

  it('check --model first, then --calibration, then --eval', async () => {
    expect(await refusal({ model: join(dir, 'a'), calibration: join(dir, 'b'), eval: join(dir, 'c') })).toMatch(/^--model /);
    expect(await refusal({ ...ok, calibration: join(dir, 'b'), eval: join(dir, 'c') })).toMatch(/^--calibration /);
  });
});

describe('relative paths under npm run', () => {
  // npm run quantize's environment: npm sets INIT_CWD (where the user ran npm) and the script it runs.
  const npm = { INIT_CWD: '/home/ada/work', npm_lifecycle_script: 'node --import ./tools/register-raw.mjs --import tsx src/cli/quantize.ts' };

  it('are taken from where the user ran npm (INIT_CWD), not the package root npm --prefix moved to', () => {
    const opts = resolveInputPaths({ model: './x', calibration: 'c.txt', eval: '../e.txt', out: 'out', bits: 4 }, '/repo', npm);
    expect(opts).toEqual({ model: '/home/ada/work/x', calibration: '/home/ada/work/c.txt', eval: '/home/ada/e.txt', out: '/home/ada/work/out', bits: 4 });
    // Absolute paths stay as they are.
    expect(resolveInputPaths({ model: '/m', calibration: '/c', eval: '/e', out: '/o' }, '/repo', npm)).toEqual({ model: '/m', calibration: '/c', eval: '/e', out: '/o' });
  });

  it('are taken from the working folder when npm did not run this command (node directly, or a child of another npm script)', () => {
    expect(pathBase('/repo', {})).toBe('/repo');
    expect(pathBase('/repo', { INIT_CWD: '/home/ada/work', npm_lifecycle_script: 'vitest run' })).toBe('/repo');
    expect(pathBase('/repo', npm)).toBe('/home/ada/work');
  });

  it('show the path resolved in the message when it does not exist', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gptq-cli-npm-'));
    writeFileSync(join(dir, 'c.txt'), 'text');
    const opts = resolveInputPaths({ model: './model', calibration: 'c.txt', eval: 'c.txt', out: 'o' }, '/repo', { ...npm, INIT_CWD: dir });
    await expect(checkInputs(opts)).rejects.toThrow(`--model ${join(dir, 'model')}: does not exist; give the checkpoint folder`);
  });
});
