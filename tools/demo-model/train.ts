/**
 * Makes the studio's demo model from scratch: KJV text → byte-level BPE → a small Llama trained
 * on one CPU thread → a Hugging Face checkpoint folder (public/demo), checked with the project's
 * own reader and f64 forward. Usage: npx tsx tools/demo-model/train.ts [--steps N] [--help]
 */
import { copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { evaluationWindows } from '../../src/core/model/calibration';
import { loadTokenizer } from '../../src/core/model/tokenizer';
import { BpeEncoder, tokenizerJson, trainBpe } from './bpe';
import { greedy, unigramPerplexity, windowLoss } from './evaluate';
import { generationConfigJson, llamaConfigJson, tokenizerConfigJson } from './hf-files';
import { createParams, initParams, Workspace, type ModelShape } from './model';
import { AdamW, clipGradients, learningRate } from './optim';
import { readmeText, remakeCommand, type TrainOptions, type TrainResult } from './readme';
import { Rng } from './rng';
import { safetensorsBytes } from './safetensors-writer';
import { bibleSource, CALIBRATION_BOOKS, EVAL_BOOKS, parseBible, readBibleRaw, splitBible } from './text';
import { verifyCheckpoint, type Verification } from './verify';

export const LICENSE_FILE = '/usr/share/common-licenses/GPL-3';
const EVAL_SEQLEN = 128;
/** Every file the run writes into the output folder. */
const SHIPPED = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json',
  'calibration.txt', 'eval-kjv.txt', 'eval-license.txt', 'expected.json', 'README.md'];

const flags = {
  steps: { type: 'string', default: '900' },
  batch: { type: 'string', default: '8' },
  seq: { type: 'string', default: '128' },
  lr: { type: 'string', default: '2.5e-3' },
  'min-lr': { type: 'string', default: '2.5e-4' },
  warmup: { type: 'string', default: '50' },
  'weight-decay': { type: 'string', default: '0.1' },
  clip: { type: 'string', default: '1.0' },
  intermediate: { type: 'string', default: '256' },
  vocab: { type: 'string', default: '1024' },
  seed: { type: 'string', default: '1234' },
  out: { type: 'string', default: fileURLToPath(new URL('../../public/demo', import.meta.url)) },
  'log-every': { type: 'string', default: '25' },
  'eval-every': { type: 'string', default: '150' },
  'no-verify': { type: 'boolean', default: false },
  help: { type: 'boolean', default: false },
} as const;

function options(args: string[]): TrainOptions {
  const { values: v } = parseArgs({ args, options: flags, allowPositionals: false });
  if (v.help) {
    console.log('npx tsx tools/demo-model/train.ts [flags]\n' + Object.entries(flags)
      .map(([k, f]) => `  --${k}${f.type === 'string' ? ` (default ${f.default})` : ''}`).join('\n'));
    process.exit(0);
  }
  const num = (k: keyof typeof flags) => {
    const x = Number(v[k]);
    if (!Number.isFinite(x)) throw new Error(`--${k}: not a number: ${String(v[k])}`);
    return x;
  };
  return {
    steps: num('steps'), batch: num('batch'), seq: num('seq'), lr: num('lr'), minLr: num('min-lr'),
    warmup: num('warmup'), weightDecay: num('weight-decay'), clip: num('clip'), intermediate: num('intermediate'),
    vocab: num('vocab'), seed: num('seed'), out: v.out as string, logEvery: num('log-every'),
    evalEvery: num('eval-every'), verify: !v['no-verify'],
  };
}

const seconds = (t0: number) => (performance.now() - t0) / 1000;
const json = (x: unknown) => JSON.stringify(x, null, 2) + '\n';

async function main(): Promise<void> {
  const opts = options(process.argv.slice(2));
  const tStart = performance.now();
  const out = opts.out;
  mkdirSync(out, { recursive: true });

  // 1. text
  const split = splitBible(parseBible(readBibleRaw()));
  const license = readFileSync(LICENSE_FILE, 'utf8');
  writeFileSync(join(out, 'calibration.txt'), split.calibration);
  writeFileSync(join(out, 'eval-kjv.txt'), split.evalKjv);
  copyFileSync(LICENSE_FILE, join(out, 'eval-license.txt'));
  console.log(`text: train ${split.train.length} B (${split.trainBooks.length} books), calibration ${split.calibration.length} B ` +
    `(${CALIBRATION_BOOKS.join(', ')}), eval-kjv ${split.evalKjv.length} B (${EVAL_BOOKS.join(', ')}), eval-license ${license.length} B`);

  // 2. tokenizer, checked against the project's loader (@huggingface/tokenizers)
  let t0 = performance.now();
  const bpe = trainBpe(split.train, opts.vocab);
  const encoder = new BpeEncoder(bpe);
  const tokJson = JSON.stringify(tokenizerJson(bpe));
  const tokConfig = tokenizerConfigJson(256);
  writeFileSync(join(out, 'tokenizer.json'), tokJson);
  writeFileSync(join(out, 'tokenizer_config.json'), json(tokConfig));
  writeFileSync(join(out, 'generation_config.json'), json(generationConfigJson()));
  const hf = loadTokenizer(tokJson, JSON.stringify(tokConfig));
  const ids: Record<string, number[]> = {};
  for (const [name, text] of Object.entries({ train: split.train, calibration: split.calibration, evalKjv: split.evalKjv, license })) {
    const mine = encoder.encode(text);
    const theirs = hf.encode(text, { addSpecialTokens: false });
    if (mine.length !== theirs.length || mine.some((x, i) => x !== theirs[i])) throw new Error(`tokenizer: ${name}: ids differ from @huggingface/tokenizers`);
    if (hf.decode(theirs) !== text) throw new Error(`tokenizer: ${name}: decode(encode(text)) differs`);
    ids[name] = mine;
  }
  console.log(`tokenizer: ${bpe.tokens.length} tokens in ${seconds(t0).toFixed(1)} s; train ${ids.train.length} tokens ` +
    `(${(split.train.length / ids.train.length).toFixed(2)} bytes/token); ids and round trips match @huggingface/tokenizers`);

  // 3. model
  const shape: ModelShape = {
    vocab: opts.vocab, hidden: 128, inter: opts.intermediate, layers: 4, heads: 4, kvHeads: 2, headDim: 32,
    ropeTheta: 10000, eps: 1e-5, maxPositions: 256,
  };
  if (opts.seq > shape.maxPositions) throw new Error(`--seq ${opts.seq} exceeds max_position_embeddings ${shape.maxPositions}`);
  const params = createParams(shape, 'f32');
  initParams(params, new Rng(opts.seed));
  const parameters = params.data.length;
  const ws = new Workspace(params, opts.batch, opts.seq);
  const evalWs = new Workspace(params, 1, EVAL_SEQLEN);
  const grads = new Float32Array(parameters);
  const adam = new AdamW(params, { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: opts.weightDecay });
  const kjvWindows = evaluationWindows(ids.evalKjv, EVAL_SEQLEN);
  const licenseWindows = evaluationWindows(ids.license, EVAL_SEQLEN);
  console.log(`model: ${parameters} parameters; ${opts.steps} steps × ${opts.batch} × ${opts.seq} tokens, lr ${opts.lr} → ${opts.minLr}`);

  // 4. training
  const train = Int32Array.from(ids.train);
  const batchRng = new Rng(opts.seed + 1);
  const input = new Int32Array(opts.batch * opts.seq);
  const target = new Int32Array(opts.batch * opts.seq);
  t0 = performance.now();
  let logSum = 0;
  let logCount = 0;
  let finalTrainLoss = NaN;
  for (let step = 0; step < opts.steps; step++) {
    for (let b = 0; b < opts.batch; b++) {
      const o = batchRng.int(train.length - opts.seq);
      input.set(train.subarray(o, o + opts.seq), b * opts.seq);
      target.set(train.subarray(o + 1, o + 1 + opts.seq), b * opts.seq);
    }
    const lr = learningRate(step, opts.steps, opts.warmup, opts.lr, opts.minLr);
    const r = ws.forward(input, target);
    grads.fill(0);
    ws.backward(grads);
    const norm = clipGradients(grads, opts.clip);
    adam.step(grads, lr);
    logSum += r.sum / r.count;
    logCount++;
    if ((step + 1) % opts.logEvery === 0 || step + 1 === opts.steps) {
      const elapsed = seconds(t0);
      finalTrainLoss = logSum / logCount;
      console.log(`step ${step + 1}/${opts.steps}  train loss ${finalTrainLoss.toFixed(4)}  lr ${lr.toExponential(2)}  ` +
        `|g| ${norm.toFixed(2)}  ${((step + 1) * opts.batch * opts.seq / elapsed).toFixed(0)} tok/s  ` +
        `${elapsed.toFixed(0)} s, ~${(elapsed / (step + 1) * (opts.steps - step - 1)).toFixed(0)} s left`);
      logSum = 0;
      logCount = 0;
    }
    if ((step + 1) % opts.evalEvery === 0 && step + 1 < opts.steps) {
      const e = windowLoss(evalWs, kjvWindows.slice(0, 16));
      console.log(`  held-out (eval-kjv, first 16 windows): loss ${e.meanNll.toFixed(4)}, perplexity ${e.perplexity.toFixed(2)}`);
    }
  }
  const trainSeconds = seconds(t0);

  // 5. held-out loss with the trainer's forward, on the windows the project's evaluation draws
  const evalKjv = windowLoss(evalWs, kjvWindows);
  const evalKjv2 = windowLoss(evalWs, kjvWindows.slice(0, 2));
  const evalLicense = windowLoss(evalWs, licenseWindows);
  console.log(`held-out: eval-kjv loss ${evalKjv.meanNll.toFixed(4)} (perplexity ${evalKjv.perplexity.toFixed(2)}, ${evalKjv.windows} windows); ` +
    `eval-license loss ${evalLicense.meanNll.toFixed(4)} (perplexity ${evalLicense.perplexity.toFixed(2)}, ${evalLicense.windows} windows)`);
  const prompt = 'And God said,';
  const sample = { prompt, text: encoder.decode(greedy(evalWs, encoder.encode(prompt), 48)) };
  console.log(`sample: ${JSON.stringify(prompt + sample.text)}`);

  // 6. weights
  const tensors = params.specs.map((s) => ({ name: s.name, shape: s.shape, data: params.data.subarray(s.offset, s.offset + s.size) as Float32Array }));
  writeFileSync(join(out, 'model.safetensors'), safetensorsBytes(tensors));
  writeFileSync(join(out, 'config.json'), json(llamaConfigJson(shape)));

  // 7. the project's reader and f64 forward on the written folder
  let verification: Verification | null = null;
  if (opts.verify) {
    t0 = performance.now();
    verification = await verifyCheckpoint(out, ['eval-kjv.txt', 'eval-license.txt'], EVAL_SEQLEN);
    for (const [ref, ours] of [[verification.evals[0], evalKjv], [verification.evals[1], evalLicense]] as const) {
      const rel = Math.abs(ref.perplexity - ours.perplexity) / ours.perplexity;
      console.log(`f64 reference: ${ref.file} perplexity ${ref.perplexity.toFixed(4)} (trainer ${ours.perplexity.toFixed(4)}, relative difference ${rel.toExponential(2)})`);
      if (ref.tokens !== ours.tokens || rel > 1e-4) throw new Error(`${ref.file}: the f64 reference disagrees with the trainer`);
    }
    console.log(`verified with openCheckpoint + forward-reference.ts in ${seconds(t0).toFixed(0)} s`);
  }

  const fileBytes: Record<string, number> = {};
  for (const name of SHIPPED) fileBytes[name] = name.endsWith('.md') || name === 'expected.json' ? 0 : statSync(join(out, name)).size;
  const result: TrainResult = {
    opts, shape, parameters, bibleSource: bibleSource(), unigramKjv: unigramPerplexity(train, kjvWindows, opts.vocab), fileBytes,
    textBytes: { train: split.train.length, calibration: split.calibration.length, evalKjv: split.evalKjv.length, evalLicense: license.length },
    trainTokens: train.length, tokensSeen: opts.steps * opts.batch * opts.seq, trainSeconds,
    totalSeconds: seconds(tStart), finalTrainLoss, evalKjv, evalKjv2, evalLicense, sample, verification,
  };
  writeFileSync(join(out, 'expected.json'), json({
    note: 'Recorded by tools/demo-model/train.ts; src/core/model/demo-model.test.ts checks the f64 forward against evalKjv2.',
    seqlen: EVAL_SEQLEN,
    evalKjv2: evalKjv2,
    evalKjv,
    evalLicense,
    reference: verification?.evals ?? null,
  }));
  const command = remakeCommand(opts, options([]));
  // README.md and expected.json are listed with their real sizes (README written twice: its size is in itself)
  fileBytes['expected.json'] = statSync(join(out, 'expected.json')).size;
  writeFileSync(join(out, 'README.md'), readmeText(result, split.trainBooks, command));
  fileBytes['README.md'] = statSync(join(out, 'README.md')).size;
  writeFileSync(join(out, 'README.md'), readmeText(result, split.trainBooks, command));
  console.log(`done in ${result.totalSeconds.toFixed(0)} s (training ${trainSeconds.toFixed(0)} s) → ${out}`);
}

await main();
