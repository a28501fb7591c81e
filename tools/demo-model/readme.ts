/** public/demo/README.md, written from the numbers of the run that made the files. */
import { EOT } from './bpe';
import type { WindowLoss } from './evaluate';
import type { ModelShape } from './model';
import { CALIBRATION_BOOKS, EVAL_BOOKS } from './text';
import type { Verification } from './verify';

export interface TrainOptions {
  steps: number; batch: number; seq: number; lr: number; minLr: number; warmup: number; weightDecay: number;
  clip: number; intermediate: number; vocab: number; seed: number; out: string; logEvery: number; evalEvery: number;
  verify: boolean;
}

export interface TrainResult {
  opts: TrainOptions;
  shape: ModelShape;
  parameters: number;
  bibleSource: string;
  textBytes: { train: number; calibration: number; evalKjv: number; evalLicense: number };
  trainTokens: number;
  tokensSeen: number;
  trainSeconds: number;
  totalSeconds: number;
  finalTrainLoss: number;
  evalKjv: WindowLoss;
  evalKjv2: WindowLoss;
  evalLicense: WindowLoss;
  unigramKjv: number;
  sample: { prompt: string; text: string };
  verification: Verification | null;
  fileBytes: Record<string, number>;
}

const f = (x: number, digits = 4) => x.toFixed(digits);
const kb = (bytes: number) => `${(bytes / 1000).toFixed(1)} kB`;

/** The exact command line that remakes these files (every flag that differs from the defaults is spelled out). */
export function remakeCommand(o: TrainOptions, defaults: TrainOptions): string {
  const parts = ['npx tsx tools/demo-model/train.ts'];
  const names: [keyof TrainOptions, string][] = [
    ['steps', 'steps'], ['batch', 'batch'], ['seq', 'seq'], ['lr', 'lr'], ['minLr', 'min-lr'], ['warmup', 'warmup'],
    ['weightDecay', 'weight-decay'], ['clip', 'clip'], ['intermediate', 'intermediate'], ['vocab', 'vocab'], ['seed', 'seed'],
  ];
  for (const [k, flag] of names) if (o[k] !== defaults[k]) parts.push(`--${flag} ${o[k]}`);
  return parts.join(' ');
}

export function readmeText(r: TrainResult, trainBooks: readonly string[], command: string): string {
  const s = r.shape;
  const o = r.opts;
  const ref = r.verification?.evals ?? [];
  const refKjv = ref.find((e) => e.file === 'eval-kjv.txt');
  const refLicense = ref.find((e) => e.file === 'eval-license.txt');
  const minutes = (sec: number) => `${(sec / 60).toFixed(1)} min`;
  const files = Object.entries(r.fileBytes).map(([name, bytes]) => `| \`${name}\` | ${kb(bytes)} |`).join('\n');
  const total = Object.values(r.fileBytes).reduce((a, b) => a + b, 0);
  return `# The demo model: a ${(r.parameters / 1e6).toFixed(2)}M-parameter Llama trained on the King James Bible

A small \`LlamaForCausalLM\` checkpoint made from scratch by this project, so the studio has a real
model to quantize with nothing to download. Everything here (text split, tokenizer, weights, the
numbers below) comes from one run of \`tools/demo-model/train.ts\`, in plain TypeScript on one CPU
thread, and is deterministic: the same command remakes the same weights and texts (timings aside).

## Remake it

\`\`\`sh
${command}
\`\`\`

It installs Debian's \`bible-kjv\` package if the \`bible\` command is missing
(\`DEBIAN_FRONTEND=noninteractive apt-get install -y bible-kjv\`, as root or through sudo) and
rewrites this folder. \`--help\` lists the flags (steps, batch, learning rate, ...).

## Files

| file | size |
| --- | --- |
${files}
| total | ${kb(total)} |

- \`config.json\`, \`model.safetensors\` (F32, \`__metadata__\` {"format": "pt"}, Hugging Face names,
  tied embeddings so no \`lm_head.weight\`), \`tokenizer.json\`, \`tokenizer_config.json\`,
  \`generation_config.json\`: a checkpoint folder in the layout of transformers' \`LlamaForCausalLM\`,
  which the studio's reader opens.
- \`calibration.txt\`: GPTQ calibration text from the training domain (${CALIBRATION_BOOKS.join(', ')}; these books are
  also in the training set).
- \`eval-kjv.txt\`: in-domain held-out text, books never trained on: ${EVAL_BOOKS.join(', ')}.
- \`eval-license.txt\`: out-of-domain held-out text, the GNU GPL version 3 verbatim
  (\`/usr/share/common-licenses/GPL-3\`).
- \`expected.json\`: the recorded losses that \`src/core/model/demo-model.test.ts\` checks.

## Model

| | |
| --- | --- |
| architecture | Llama (\`model_type\` "llama"): RMSNorm, RoPE (θ ${s.ropeTheta}, rotate_half), grouped-query causal attention, SiLU-gated MLP, tied LM head |
| hidden size | ${s.hidden} |
| layers | ${s.layers} |
| attention heads | ${s.heads} query, ${s.kvHeads} key/value (head_dim ${s.headDim}) |
| MLP width | ${s.inter} |
| vocabulary | ${s.vocab} |
| context | ${s.maxPositions} (\`max_position_embeddings\`) |
| parameters | ${r.parameters.toLocaleString('en-US')} (${(s.vocab * s.hidden).toLocaleString('en-US')} in the tied embedding) |

Every block linear has in and out features that are multiples of 32 (q ${s.heads * s.headDim}×${s.hidden},
k and v ${s.kvHeads * s.headDim}×${s.hidden}, o ${s.hidden}×${s.heads * s.headDim}, gate and up ${s.inter}×${s.hidden},
down ${s.hidden}×${s.inter}), as the export's packing of GPTQ codes into 32-bit words needs.

## Text

The King James Version text from Debian's \`${r.bibleSource}\`, printed by
\`bible "gen1:1-rev22:21"\`. Cleaning: chapter headings and verse numbers dropped, wrapped lines
joined, one paragraph per chapter, chapters separated by a blank line; case and punctuation kept.
Split by book, deterministically:

- training: ${trainBooks.length} books (every book but the held-out ones), ${kb(r.textBytes.train)},
  ${r.trainTokens.toLocaleString('en-US')} tokens;
- calibration: ${kb(r.textBytes.calibration)}; eval-kjv: ${kb(r.textBytes.evalKjv)}; eval-license: ${kb(r.textBytes.evalLicense)}.

## Tokenizer

A byte-level BPE (GPT-2's scheme: GPT-2's pre-tokenizer regex, bytes mapped to printable
characters, merges applied lowest rank first) learned on the training text by
\`tools/demo-model/bpe.ts\`: each step merges the most frequent adjacent pair (ties: the smallest ids).
Ids: 0 = \`${EOT}\` (special; BOS and EOS, never added to running text), 1–256 = the 256 bytes
in byte order (id = byte + 1), 257–${s.vocab - 1} = the ${s.vocab - 257} merges in the order learned.
\`tokenizer.json\` is the standard Hugging Face format (model BPE with vocab and merges,
ByteLevel pre-tokenizer with \`add_prefix_space\` false and \`use_regex\` true, ByteLevel decoder and
post-processor, \`trim_offsets\` false). The run checks that \`@huggingface/tokenizers\` (the
studio's loader) gives exactly the trainer's ids for every text and that decoding gives the text back.
\`clean_up_tokenization_spaces\` is false so that decode(encode(x)) is x (the KJV writes "thyself ?").
Checked by hand outside the run as well: Python transformers 5.18 (\`AutoTokenizer\`, \`AutoConfig\`)
with tokenizers 0.23 reads these files and gives the same ids, and safetensors 0.8 reads the weights.

## Training

From a seeded init (N(0, 0.02), residual projections N(0, 0.02/√${2 * s.layers}), norm gains 1), forward
and a hand-written backward in f32 storage with f64 arithmetic (\`tools/demo-model/model.ts\`, checked
against finite differences and against the project's f64 forward by \`tools/demo-model/backprop.test.ts\`):

- ${o.steps} steps of ${o.batch} windows × ${o.seq} tokens drawn at seeded random offsets of the training
  tokens: ${r.tokensSeen.toLocaleString('en-US')} tokens seen (${(r.tokensSeen / r.trainTokens).toFixed(2)} epochs);
- AdamW (β ${'0.9, 0.95'}, weight decay ${o.weightDecay} on matrices), learning rate warmed up over ${o.warmup} steps
  to ${o.lr}, then cosine to ${o.minLr}; gradient norm clipped at ${o.clip}; seed ${o.seed};
- ${minutes(r.trainSeconds)} of training, ${minutes(r.totalSeconds)} for the whole run, on one core of a
  shared 2-core AMD EPYC virtual machine (node ${process.versions.node}).

Final training loss (mean of the last ${o.logEvery} steps): ${f(r.finalTrainLoss)} nats/token.

## Results

Perplexity per BPE token on non-overlapping windows of 128 tokens from the start of each text (no
BOS, the last partial window dropped: \`evaluationWindows\` of \`src/core/model/calibration.ts\`),
exp of the mean next-token loss over the 127 predictions of each window:

| text | windows | loss (trainer, f32) | perplexity (trainer) | perplexity (f64 reference) |
| --- | --- | --- | --- | --- |
| eval-kjv.txt (held-out books) | ${r.evalKjv.windows} | ${f(r.evalKjv.meanNll)} | ${f(r.evalKjv.perplexity, 3)} | ${refKjv ? f(refKjv.perplexity, 3) : 'not run'} |
| eval-license.txt (GPL-3, out of domain) | ${r.evalLicense.windows} | ${f(r.evalLicense.meanNll)} | ${f(r.evalLicense.perplexity, 3)} | ${refLicense ? f(refLicense.perplexity, 3) : 'not run'} |
| eval-kjv.txt, first 2 windows (\`expected.json\`) | 2 | ${f(r.evalKjv2.meanNll)} | ${f(r.evalKjv2.perplexity, 4)} | |

For scale: add-one-smoothed unigram frequencies of the training tokens give perplexity
${f(r.unigramKjv, 1)} on the same eval-kjv predictions, and a uniform guess ${s.vocab}.
The f64 column is the project's own reader (\`openCheckpoint\`) and f64 forward
(\`src/core/model/forward-reference.ts\`) on the written files; it agrees with the trainer to f32 rounding.

Greedy continuation of "${r.sample.prompt}" (48 tokens):

> ${(r.sample.prompt + r.sample.text).replace(/\n+/g, ' ')}

## Licences

- The King James Version text is in the public domain: its copyright expired long ago, as Debian's
  \`bible-kjv\` copyright file states (in the United Kingdom alone, the Crown's letters patent still
  govern printing the KJV).
- \`eval-license.txt\` is the GNU General Public License version 3, copied verbatim. Its own terms allow
  that: "Everyone is permitted to copy and distribute verbatim copies of this license document, but
  changing it is not allowed." It is evaluation text only; nothing here is licensed under it.
- The weights and the tokenizer are derived only from the public-domain KJV text.
`;
}
