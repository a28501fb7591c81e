/**
 * The quantize command's file-system checks, made before any work: the --model folder and the
 * --calibration / --eval files exist and are what they should be, --out can be written at the
 * end; and the texts read. Each failure is an InputError (exit 2) naming the flag and the path.
 */
import { mkdir, readFile, readdir, realpath, rmdir, stat } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';

/** A problem with the flags or inputs: exit code 2. */
export class InputError extends Error {
  override name = 'InputError';
}

export const fail = (message: string): never => {
  throw new InputError(message);
};

/** The command as npm runs it (package.json's "quantize" script): how a run through npm is known. */
const SCRIPT = 'src/cli/quantize.ts';

/**
 * The folder relative paths of the flags are taken from. `npm run quantize` runs the command in the
 * package's root (npm --prefix DIR, or npm run from a subfolder, changes the working folder), and
 * sets INIT_CWD to the folder the user ran npm from: when this process is npm's run of our script
 * (npm_lifecycle_script names it), INIT_CWD; otherwise (node run directly, or a child of another
 * npm script such as the tests, whose INIT_CWD is not this command's) `cwd`.
 */
export function pathBase(cwd: string, env: Readonly<Record<string, string | undefined>>): string {
  const init = env.INIT_CWD;
  return init && env.npm_lifecycle_script?.includes(SCRIPT) ? init : cwd;
}

/** The path flags made absolute from pathBase, so that what is read and what messages show is where the user meant. */
export function resolveInputPaths<T extends { model: string; calibration: string; eval: string; out: string }>(
  opts: T,
  cwd: string,
  env: Readonly<Record<string, string | undefined>>,
): T {
  const base = pathBase(cwd, env);
  return { ...opts, model: resolve(base, opts.model), calibration: resolve(base, opts.calibration), eval: resolve(base, opts.eval), out: resolve(base, opts.out) };
}

/** Why a path could not be used, in words (an errno code other than these is given as it is). */
function because(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return 'cannot be read (permission denied)';
  if (code === 'ENOTDIR') return 'does not exist (a part of the path is a file, not a folder)';
  if (code === 'ENOENT') return 'does not exist';
  return `cannot be read (${code ?? (e as Error).message})`;
}

/**
 * Checks that `path`, given as `flag`, exists and is a folder (`kind` 'folder') or a file.
 * Throws InputError: "--model ./nope: no such folder (it does not exist); give …".
 */
export async function checkPath(flag: string, path: string, kind: 'folder' | 'file'): Promise<void> {
  const what = kind === 'folder' ? 'the checkpoint folder (config.json, model.safetensors, tokenizer.json)' : 'a UTF-8 text file';
  let s;
  try {
    s = await stat(path);
  } catch (e) {
    return fail(`${flag} ${path}: ${because(e)}; give ${what}`);
  }
  if (kind === 'folder' && !s.isDirectory()) fail(`${flag} ${path} is a file, not a folder; give ${what}`);
  if (kind === 'file' && s.isDirectory()) fail(`${flag} ${path} is a folder, not a file; give ${what}`);
  if (kind === 'file' && !s.isFile()) fail(`${flag} ${path} is not a regular file; give ${what}`);
}

/** The run's input paths, checked in the order the flags are listed in --help. */
export async function checkInputs(opts: { model: string; calibration: string; eval: string }): Promise<void> {
  await checkPath('--model', opts.model, 'folder');
  await checkPath('--calibration', opts.calibration, 'file');
  await checkPath('--eval', opts.eval, 'file');
}

/**
 * A text file of the run: `name` (the file name, what report.json shows) and `path` (what
 * messages show: the path as given).
 */
export async function readText(flag: string, path: string): Promise<{ name: string; path: string; text: string }> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    return fail(`${flag} ${path}: ${because(e)}`);
  }
  try {
    return { name: basename(path), path, text: new TextDecoder('utf-8', { fatal: true }).decode(bytes) };
  } catch {
    // A compressed or binary file would otherwise be read as garbage tokens, and the run go on.
    return fail(`${flag} ${path}: is not UTF-8 text (a compressed or binary file?); give a plain text file`);
  }
}

/**
 * Refuses, before any work, an --out the run could not write at its end: an existing file or
 * non-empty folder (each refusal offers a new folder, never inside `model`: offerFolder), a path
 * under a file, or a place where no folder can be made (write-folder.ts makes its temporary folder
 * inside an existing --out, else beside it). The check makes and removes one empty folder there.
 * `model`: the --model folder.
 */
export async function checkOut(out: string, model: string): Promise<void> {
  const s = await stat(out).catch(() => null);
  if (s) {
    const instead = async () => {
      const offer = await offerFolder(out, model);
      return offer ? `give a new folder, e.g. --out ${offer}` : 'give a new or empty folder';
    };
    if (!s.isDirectory()) {
      const what = s.isFile() ? 'is an existing file' : 'exists and is not a folder';
      fail(`--out ${out} ${what}: --out is the folder the run writes report.json and the model's files into, and it must not exist ` +
        `or be empty; ${await instead()} (nothing was run, and ${out} is left as it is)`);
    }
    const held = (await readdir(out)).sort();
    if (held.length > 0) {
      const shown = `${held.slice(0, 3).join(', ')}${held.length > 3 ? `, … (${held.length} entries)` : ''}`;
      const isModel = (await realPath(out)) === (await realPath(model));
      fail(`--out ${out} is not empty${isModel ? ' (it is the --model folder)' : ''}: it holds ${shown}. The run writes report.json and the ` +
        `model's files into a folder that does not exist yet or is empty, never among other files; ${await instead()} ` +
        `(nothing was run, and ${out} is left as it is)`);
    }
    await probeFolder(out, out);
    return;
  }
  let parent = dirname(out);
  let ps = await stat(parent).catch(() => null);
  while (!ps && dirname(parent) !== parent) {
    parent = dirname(parent);
    ps = await stat(parent).catch(() => null);
  }
  if (!ps || !ps.isDirectory()) fail(`--out ${out} cannot be made: ${parent} is not a folder; give a folder path`);
  await probeFolder(out, parent);
}

/** `path` with symbolic links resolved as far as it exists (the rest, not made yet, appended as given). */
async function realPath(path: string): Promise<string> {
  const rest: string[] = [];
  let at = resolve(path);
  for (;;) {
    try {
      return join(await realpath(at), ...rest.reverse());
    } catch {
      if (dirname(at) === at) return resolve(path);
      rest.push(basename(at));
      at = dirname(at);
    }
  }
}

/** Whether `path` is `folder` or lies inside it (links resolved). */
async function isWithin(path: string, folder: string): Promise<boolean> {
  const rel = relative(await realPath(folder), await realPath(path));
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/**
 * A folder that does not exist yet, for the user to give as --out instead of `out`: beside it,
 * `out` without its extension or with "-out" (then "-out-2" … "-out-9"); where those lie inside
 * the --model folder `model` (an --out inside it), beside the model folder: "MODEL-gptq" (then
 * "-gptq-2" …). Never inside `model`, whose folder the run reads; null when every one exists.
 */
export async function offerFolder(out: string, model: string): Promise<string | null> {
  const ext = extname(out);
  const stem = ext ? out.slice(0, -ext.length) : out;
  const numbered = (base: string) => [base, ...Array.from({ length: 8 }, (_, i) => `${base}-${i + 2}`)];
  const candidates = [...(stem !== out ? [stem] : []), ...numbered(`${stem}-out`), ...numbered(`${resolve(model)}-gptq`)];
  for (const candidate of candidates) {
    if (await isWithin(candidate, model)) continue;
    if (!(await stat(candidate).catch(() => null))) return candidate;
  }
  return null;
}

/** Refuses --out `out` when no folder can be made in `where` (made and removed again). */
async function probeFolder(out: string, where: string): Promise<void> {
  const probe = join(where, `.gptq-studio-probe-${process.pid}`);
  try {
    await mkdir(probe);
    await rmdir(probe);
  } catch (e) {
    fail(`--out ${out} cannot be written: no folder can be created in ${where} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); give a folder you can write to`);
  }
}
