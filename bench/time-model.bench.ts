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
import { describeAdapter } from '../src/gpu/device';
import { estimateTime, INVERSE_STEP, runWork, workSeconds } from '../src/core/time-model';
import { measureAdapter } from '../src/engine/adapter-speed';
import { describeAttentionChoice } from '../src/core/kernel-choice';
import { defaultRunSettings } from '../src/core/run';
import { readCorpus, sharedModelDir, STORIES_260K } from '../src/testing/shared-models';
import { flagUsage, intFlag, readFlags, runBench, UsageError } from './flags';

const DEMO = fileURLToPath(new URL('../public/demo/', import.meta.url));

const FLAGS: Record<string, string> = {
  '--model': 'demo or stories (default demo)',
  '--sizes': 'nsamples×seqlen×evaluation windows per text, comma-separated (default 4x64x4,8x128x8,16x128x16)',
  '--group-size': 'columns per group, -1 = per row (demo 128, stories 32)',
};
const USAGE = flagUsage('npm run bench:time', FLAGS, 13);

const fmt = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '—');
const gf = (x: number) => `${(x / 1e9).toFixed(3)}`;

async function main() {
  const flags = readFlags(process.argv.slice(2), FLAGS, USAGE);
  const arg = (name: string, fallback: string): string => flags.get(name) ?? fallback;
  const model = arg('--model', 'demo');
  if (model !== 'demo' && model !== 'stories') throw new UsageError(`--model must be demo or stories, got ${model}`);
  const sizes = arg('--sizes', '4x64x4,8x128x8,16x128x16').split(',').map((s) => {
    const m = /^(\d+)x(\d+)x(\d+)$/.exec(s.trim());
    if (!m || m.slice(1).some((x) => Number(x) < 1)) throw new UsageError(`--sizes: "${s}" is not nsamples×seqlen×windows, e.g. 8x128x8`);
    return m.slice(1).map(Number);
  });
  const groupSize = intFlag(flags, '--group-size', -1) ?? (model === 'demo' ? 128 : 32);
  if (groupSize === 0) throw new UsageError('--group-size must be -1 or positive');
  const rt = await nodeRuntime();
  console.log(`adapter: ${describeAdapter(rt.summary)}`);
  // As the studio does (src/worker/api.ts).
  const speed = await measureAdapter(rt);
  console.log(`kernels (timed on probes): GEMM ${speed.kernels?.gemm}; attention ${speed.kernels ? describeAttentionChoice(speed.kernels.attention) : '—'}`);
  console.log(`speed probe: GEMM ${fmt(speed.gflops)} GFLOP/s at n=${speed.probe?.n}, sync ${fmt(speed.syncSeconds * 1000, 3)} ms, probe took ${fmt(speed.probe?.seconds ?? 0, 3)} s`);
  console.log(`a quantized linear's fixed cost: ${fmt((speed.linear?.seconds ?? 0) * 1000, 1)} ms, and ${fmt((speed.linear?.stepSeconds ?? 0) * 1000, 1)} ms for each further ${INVERSE_STEP} columns`);

  const dir = model === 'demo' ? DEMO : sharedModelDir(STORIES_260K);
  const calibration = model === 'demo'
    ? { name: 'calibration.txt', text: readFileSync(`${DEMO}calibration.txt`, 'utf8') }
    : { name: 'calib', text: readCorpus('stories260K_generated_200_seed20251122.txt') };
  const evaluations = model === 'demo'
    ? [{ name: 'eval-kjv.txt', text: readFileSync(`${DEMO}eval-kjv.txt`, 'utf8') }]
    : [{ name: 'aesop', text: readCorpus('aesop_fables_body_reflowed.txt') }];
  const ckpt = await openCheckpoint(await folderSources(dir));
  console.log('Measured seconds (predicted in parentheses). forward: the calibration passes with the Hessians (stages embedding, capture, forward; predicted: linears, attention, H);');
  console.log('linears: GPTQ, RTN and both output errors of every linear (predicted: inverse, sweep, output error and the linears\' fixed cost);');
  console.log('other: the rest of the quantization and calibration (reading, host work; predicted: the syncs).');
  console.log('| nsamples×seqlen | eval windows | forward s | linears s | other s | quantization s | evaluation s | total s | GFLOP: calib lin / attn / H / inv / sweep / err / eval lin / eval attn |');
  console.log('|---|---|---|---|---|---|---|---|---|');
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
    const w = workSeconds(work, speed);
    const p = w.flops;
    const f = work.flops;
    const q = report.seconds.stages?.quantization;
    const pair = (measured: number | undefined, predicted: number) => `${fmt(measured ?? Number.NaN)} (${fmt(predicted)})`;
    const quantization = report.seconds.quantization + report.seconds.calibration;
    const forward = q && q.embedding + q.capture + q.forward;
    const predictedForward = p.calibrationLinears + p.calibrationAttention + p.hessian;
    const linears = q && q.gptq + q.rtn + q.outputMse;
    const predictedLinears = p.inverse + p.sweep + p.outputError + w.linears;
    const other = linears !== undefined && forward !== undefined ? quantization - forward - linears : undefined;
    const predictedOther = t.quantization - predictedForward - predictedLinears;
    console.log(
      `| ${nsamples}×${seqlen} | ${windows} | ${pair(forward, predictedForward)} | ` +
      `${pair(linears, predictedLinears)} | ${pair(other, predictedOther)} | ` +
      `${pair(quantization, t.quantization)} | ${pair(report.seconds.evaluation, t.evaluation)} | ` +
      `${pair(report.seconds.total, t.total)} | ` +
      `${[f.calibrationLinears, f.calibrationAttention, f.hessian, f.inverse, f.sweep, f.outputError, f.evaluationLinears, f.evaluationAttention].map(gf).join(' / ')} |`,
    );
  }
  rt.destroy();
}

runBench(main, USAGE);
