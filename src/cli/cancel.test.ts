/**
 * Ctrl-C (SIGINT) sent to the quantize command as a subprocess on the shared test model, at a
 * moment chosen from its own output (no timing assumption): during the evaluation the quantized
 * model is written with the perplexities not measured left null, exit 130; during the quantization
 * nothing is written, exit 130.
 */
import { describe, it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openCheckpoint } from '../core/model/checkpoint';
import { folderSources } from '../testing/node-source';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SHARED = fileURLToPath(new URL('../../../shared/', import.meta.url));
const MODEL = join(SHARED, 'models/stories260K');
const CALIBRATION = join(SHARED, 'corpus/stories260K_generated_200_seed20251122.txt');
// 53k tokens: 1481 windows of 64, minutes of evaluation on a software adapter (the signal is sent
// milliseconds after the evaluation starts).
const EVALUATION = join(SHARED, 'corpus/alice_gutenberg_alice30.txt');

/**
 * Runs the CLI with `args` and sends it one SIGINT as soon as a line of its stderr matches `when`.
 * Resolves with its exit code (null when a signal killed it), the signal, stderr, and whether the
 * SIGINT was sent.
 */
function interrupted(args: string[], when: RegExp): Promise<{ code: number | null; signal: string | null; stderr: string; sent: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', './tools/register-raw.mjs', '--import', 'tsx', 'src/cli/quantize.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, EGL_PLATFORM: 'surfaceless' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    let sent = false;
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
      if (!sent && stderr.split('\n').slice(0, -1).some((line) => when.test(line))) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stderr, sent }));
  });
}

describe('Ctrl-C', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gptq-cancel-'));

  it('during the evaluation: writes the quantized model and report.json with the perplexities not measured as null, exit 130', async () => {
    const out = join(dir, 'cancelled-evaluation');
    const r = await interrupted(['--model', MODEL, '--calibration', CALIBRATION, '--eval', EVALUATION, '--out', out,
      '--nsamples', '4', '--seqlen', '64', '--group-size', '32'], /^evaluation: /);
    expect(r.sent, r.stderr).toBe(true);
    expect(r.signal, r.stderr).toBeNull();
    expect(r.code, r.stderr).toBe(130);
    // What was written and what was not measured, said once the files are in place.
    expect(r.stderr).toMatch(/^evaluation cancelled \(Ctrl-C\): the quantized model was written to .*cancelled-evaluation \(report\.json, model\.safetensors, /m);
    expect(r.stderr).toMatch(/not measured: the original, RTN and GPTQ perplexities of alice_gutenberg_alice30\.txt/);

    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(readdirSync(out).sort()).toEqual([...report.files].sort());
    expect(report.files).toEqual(expect.arrayContaining(['report.json', 'model.safetensors', 'config.json', 'quantize_config.json', 'README.md']));
    // The 1481 windows were planned; none of the three models was measured on all of them.
    expect(report.evaluations).toEqual([{ text: 'alice_gutenberg_alice30.txt', seqlen: 64, windows: 1481, original: null, rtn: null, gptq: null }]);
    expect(report.perplexity).toEqual(report.evaluations[0]);
    expect(report.divergence).toEqual({});
    expect(report.layers).toHaveLength(35);
    expect(report.size.quantizedBytes).toBe(statSync(join(out, 'model.safetensors')).size);
    // The card says so, and claims no number for them.
    const card = readFileSync(join(out, 'README.md'), 'utf8');
    expect(card).toContain('| alice_gutenberg_alice30.txt | 1481 × 64 | not measured | not measured | not measured |');
    expect(card).toMatch(/The evaluation was cancelled/);

    // A GPTQ checkpoint the project's reader opens: 4-bit codes on groups of 32, near the original.
    const ckpt = await openCheckpoint(await folderSources(out));
    expect(ckpt.quantization).toMatchObject({ bits: 4, groupSize: 32 });
    const original = await openCheckpoint(await folderSources(MODEL));
    for (const linear of ['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'self_attn.o_proj']) {
      const [q, w] = [await ckpt.readLinearWeight(2, linear), await original.readLinearWeight(2, linear)];
      expect(q.length).toBe(w.length);
      let err = 0;
      let norm = 0;
      for (let i = 0; i < w.length; i++) {
        err += (q[i] - w[i]) ** 2;
        norm += w[i] ** 2;
      }
      expect(Math.sqrt(err / norm), linear).toBeGreaterThan(0);
      expect(Math.sqrt(err / norm), linear).toBeLessThan(0.3);
      // At most 16 values in each group of 32 weights of a row.
      const row = q.subarray(0, 32);
      expect(new Set(row).size, linear).toBeLessThanOrEqual(16);
    }
    // Nothing left beside the folder (its temporary folder was renamed into place).
    expect(readdirSync(dir).filter((f) => f.includes('partial'))).toEqual([]);
  });

  it('during the quantization: writes nothing, says so and why, exit 130', async () => {
    const out = join(dir, 'cancelled-quantization');
    // 128 windows of 256 tokens: a quantization of tens of seconds; the signal is sent as it starts.
    const r = await interrupted(['--model', MODEL, '--calibration', CALIBRATION, '--eval', EVALUATION, '--out', out,
      '--nsamples', '128', '--seqlen', '256', '--group-size', '32'], /^quantization: /);
    expect(r.sent, r.stderr).toBe(true);
    expect(r.signal, r.stderr).toBeNull();
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/^cancelled before the quantization had finished \(Ctrl-C\): nothing was written to .*cancelled-quantization, since a checkpoint needs every linear quantized/m);
    expect(r.stderr).not.toMatch(/^evaluation: /m);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('partial'))).toEqual([]);
  });
});
