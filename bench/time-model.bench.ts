/**
 * How well the time model (src/core/time-model.ts) predicts a run on this adapter: measures the
 * adapter (src/gpu/speed.ts), predicts each stage of whole-model runs of several sizes, runs them
 * (src/engine/run-model.ts) and prints predicted against measured seconds, and the FLOPs by class
 * of work. The EFFICIENCY constants of the time model were read off these figures. Asserts nothing.
 *
 * Run: npm run bench:time [-- --model demo|stories --sizes 4x64x4,8x128x16 --group-size 32]
 *   --sizes  nsamples x seqlen x evaluation windows per text, comma-separated
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { nodeRuntime } from '../src/testing/node-gpu';
import { folderSources } from '../src/testing/node-source';
import { openCheckpoint } from '../src/core/model/checkpoint';
import { runModel } from '../src/engine/run-model';
import { planRun } from '../src/engine/run-plan';
import { modelShape } from '../src/engine/run-shape';
import { measureSpeed } from '../src/gpu/speed';
import { describeAdapter } from '../src/gpu/device';
import { estimateTime, runWork } from '../src/core/time-model';
import { defaultRunSettings } from '../src/core/run';
import { readCorpus, sharedModelDir, STORIES_260K } from '../src/testing/shared-models';

const DEMO = fileURLToPath(new URL('../public/demo/', import.meta.url));

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const fmt = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '—');
const gf = (x: number) => `${(x / 1e9).toFixed(3)}`;

async function main() {
  const model = arg('--model', 'demo');
  const sizes = arg('--sizes', '4x64x4,8x128x8,16x128x16').split(',').map((s) => s.split('x').map(Number));
  const groupSize = Number(arg('--group-size', model === 'demo' ? '128' : '32'));
  const rt = await nodeRuntime();
  console.log(`adapter: ${describeAdapter(rt.summary)}`);
  const speed = await measureSpeed(rt);
  console.log(`speed probe: GEMM ${fmt(speed.gflops)} GFLOP/s at n=${speed.probe?.n}, sync ${fmt(speed.syncSeconds * 1000, 3)} ms, probe took ${fmt(speed.probe?.seconds ?? 0, 3)} s`);

  const dir = model === 'demo' ? DEMO : sharedModelDir(STORIES_260K);
  const calibration = model === 'demo'
    ? { name: 'calibration.txt', text: readFileSync(`${DEMO}calibration.txt`, 'utf8') }
    : { name: 'calib', text: readCorpus('stories260K_generated_200_seed20251122.txt') };
  const evaluations = model === 'demo'
    ? [{ name: 'eval-kjv.txt', text: readFileSync(`${DEMO}eval-kjv.txt`, 'utf8') }]
    : [{ name: 'aesop', text: readCorpus('aesop_fables_body_reflowed.txt') }];
  const ckpt = await openCheckpoint(await folderSources(dir));
  console.log('| nsamples×seqlen | eval windows | quantization s (predicted) | Σ GPTQ per linear s | evaluation s (predicted) | total s (predicted) | GFLOP: calib lin / attn / H / inv / sweep / err / eval lin / eval attn |');
  console.log('|---|---|---|---|---|---|---|');
  for (const [nsamples, seqlen, evalWindows] of sizes) {
    const settings = { ...defaultRunSettings, groupSize, nsamples, seqlen };
    const plan = planRun(ckpt, settings, rt, 2 ** 31);
    const { report } = await runModel(rt, {
      files: await folderSources(dir), modelName: model, calibration, evaluations, evalWindowLimit: evalWindows,
      settings, gpuMemoryBudget: 2 ** 31,
    }, { details: true });
    const windows = report.evaluations.reduce((s, e) => s + e.windows, 0);
    const work = runWork(modelShape(ckpt, plan.export), { nsamples, seqlen, trueSequential: true, evalWindows: windows });
    const t = estimateTime(work, speed);
    const f = work.flops;
    const perLinear = report.layers.reduce((s, l) => s + l.gptq.seconds, 0);
    console.log(
      `| ${nsamples}×${seqlen} | ${windows} | ${fmt(report.seconds.quantization + report.seconds.calibration)} (${fmt(t.quantization)}) | ${fmt(perLinear)} | ` +
      `${fmt(report.seconds.evaluation)} (${fmt(t.evaluation)}) | ${fmt(report.seconds.total)} (${fmt(t.total)}) | ` +
      `${[f.calibrationLinears, f.calibrationAttention, f.hessian, f.inverse, f.sweep, f.outputError, f.evaluationLinears, f.evaluationAttention].map(gf).join(' / ')} |`,
    );
  }
  rt.destroy();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
