/** The quantize command's flags: parsing, checking and --help. Pure: no file system here. */
import { dampingRefusal } from '../core/damping';
import { defaultRunSettings, type RunSettings } from '../core/run';
import { parseStrategies, SWEEP_BITS, type Strategy } from '../core/sweep';
import { isPackable } from '../core/export/pack';
import { staticGroupsRefusal } from '../core/groups';
import { ggufTypeOf } from '../core/export/gguf/plan';

import { OUTPUT_FORMATS, writesGguf, type GgufFloatType, type OutputFormat } from '../core/report';
import { decimalOrNaN, parseInteger, UsageError, type IntegerRange } from './flag-values';
import { closestFlag } from './closest-flag';

/** Which files the run writes besides report.json (src/core/report.ts). */
export { OUTPUT_FORMATS, type OutputFormat };

export interface CliOptions {
  model: string;
  calibration: string;
  eval: string;
  out: string;
  /** Settings given on the command line; seqlen is resolved against the model later. */
  settings: Omit<RunSettings, 'seqlen'> & { seqlen: number | null };
  /** Budget for the estimated peak GPU memory, in bytes. */
  gpuMemoryBudget: number;
  /** Budget for the estimated peak host memory, in bytes; null: the machine's memory (quantize.ts). */
  hostMemoryBudget: number | null;
  format: OutputFormat;
  /** Float type of the GGUF's embeddings, untied head and float linears (norms and biases are F32). */
  ggufFloat: GgufFloatType;
  /** --sweep: the strategies to compare (report.json only); null for a single run. */
  sweep: Strategy[] | null;
  /** --seeds: calibration seeds of a sweep (--seed, --seed + 1, …). */
  seeds: number;
  /** --sensitivity: a sweep also measures the layer-sensitivity map. */
  sensitivity: boolean;
  /** --target-bpw: a mixed-precision run planned from the sensitivity map to this many bits per weight; null for none. */
  targetBpw: number | null;
  /** --eval-windows: at most this many evaluation windows (the first of the text); null: every window. */
  evalWindows: number | null;
}

export { UsageError };

export const DEFAULT_GPU_MEMORY_MIB = 4096;

export const HELP = `Usage: npm run quantize -- --model DIR --calibration FILE --eval FILE --out DIR [options]

Quantizes a Hugging Face checkpoint with GPTQ on the GPU (WebGPU through Dawn), block by block,
and writes DIR/report.json (settings, adapter, calibration windows, per-linear output MSE of GPTQ
and RTN, GPTQ loss and damping, perplexity of the original, RTN and GPTQ models, timings, and the
list of files written) and, by --format:
  gptq  the GPTQ checkpoint: model.safetensors, config.json with quantization_config,
        quantize_config.json, the tokenizer files and a README.md model card (2, 3, 4 or 8 bits)
  gguf  <model>-<TYPE>.gguf for llama.cpp, written from the run's own codes (4-bit symmetric Q4_0,
        4-bit asymmetric Q4_1, 8-bit symmetric Q8_0; groups a multiple of 32 or -1; act-order only
        with static groups), imatrix.gguf from the run's Hessians, and a README.md card (how to run
        it with llama.cpp). Other grids are refused before the run, with the nearest setting that
        has an exact GGUF type.
  report  report.json alone: any width from 2 to 8 bits (5, 6 and 7 have no checkpoint format).
A width the chosen format cannot write is refused before the run.

Before the run it prints the plan on stderr: the model, its blocks, the calibration and evaluation
windows, the estimated GPU and host memory, and the estimated time (quantization, evaluation, in all)
on this adapter, as the studio estimates it. Flags and inputs are checked before the GPU adapter is
created; the GPU memory check and the weights' NaN/Inf scan come after it.

Required:
  --model DIR            checkpoint folder: config.json, model.safetensors (or shards + index), tokenizer.json
  --calibration FILE     UTF-8 text the calibration windows are drawn from
  --eval FILE            UTF-8 text perplexity is measured on (non-overlapping windows of --seqlen)
  --out DIR              output folder (not a file); must not exist or be empty (written only at the end of a run
                         that finished, or whose evaluation was cancelled: see Exit codes)

Calibration:
  --nsamples N           calibration windows, 1 to 65536 (default ${defaultRunSettings.nsamples})
  --seqlen L             tokens per window (default: the model's context, at most 2048)
  --seed S               seed of the window offsets, as Python's random.seed (default ${defaultRunSettings.seed})
  --eval-windows N       evaluate on the first N windows of --eval (default: every window of the text;
                         an N above the text's windows evaluates all of them, as the plan says)

Quantization:
  --bits B               bits per weight, 2 to 8 (default ${defaultRunSettings.bits})
  --group-size G         columns per group, or -1 for one group per row (default ${defaultRunSettings.groupSize})
  --sym | --asym         symmetric (default) or asymmetric grid
  --act-order            quantize columns in order of decreasing Hessian diagonal
  --static-groups        find every group's grid on the weights before GPTQ updates them (and before
                         --act-order reorders the columns, so g_idx stays in order); needs groups
                         (--group-size G): with one group per row it would change nothing
  --damp P               damping as a fraction of the mean Hessian diagonal (0.01 or 1e-2), or a percent
                         of it with % (default ${defaultRunSettings.percDamp}, i.e. 1%)
  --no-true-sequential   quantize all linears of a block on the block's original inputs
  --mse                  search clipped grids that minimise the weight error (norm 2.4)

Output:
  --format F             gptq, gguf, both or report (default gptq)
  --gguf-float T         f16 or f32: the GGUF's embeddings, untied head and float linears (default f16;
                         only with --format gguf or both)

Comparing strategies:
  --sweep LIST           compare rounding strategies on the same calibration and evaluation windows and
                         write one report.json with every strategy's perplexity, KL divergence from the
                         original, top-1 agreement, bits per weight and per-layer output error (no
                         checkpoint). LIST is comma-separated; each strategy is
                           [gptq:|rtn:|awq:]BITS[gGROUP][+asym][+act][+static][+mse][+dampF]
                         BITS 2, 3, 4 or 8; no g means one group per row; act, static and damp are
                         GPTQ's (static needs a group size); AWQ is activation-aware scaling with RTN
                         on its grid, for comparison (no download). E.g.
                         --sweep "4g128,4g32,3g128+asym,rtn:4g128,awq:4g128". Letters may be in either
                         case (RTN:4G32 is rtn:4g32; the report writes labels in lower case); an empty
                         entry (two commas, or one at either end) is refused.
                         The quantization flags above do not apply to a sweep.
  --seeds N              repeat every strategy over N calibration seeds (--seed, --seed + 1, …): each
                         result gets its spread over seeds (default 1)
  --sensitivity          also measure every linear's output error at 2, 3, 4 and 8 bits (with the first
                         GPTQ strategy's settings) into the report's "sensitivity" map
  --target-bpw B         a mixed-precision run: measure that map with the quantization flags, give each
                         linear (q/k/v and gate/up together) the width that keeps the export's bits per
                         weight (qweight, qzeros, scales, g_idx) at or under B with the least output
                         error, run it and write its checkpoint, the widths in quantization_config.dynamic
                         (GPTQModel and vLLM read them; transformers does not: see the model card).
                         --bits (2, 3, 4 or 8) then sets no width of the file: it is the width the map's
                         pass quantizes each block at, so the next blocks' inputs are those of a model at
                         --bits, as GPTQ runs block by block; the file's widths are the plan's, and its
                         base width (quantization_config.bits) is the one most weights get

Other:
  --gpu-memory MIB       refuse runs whose estimated GPU memory exceeds this (default ${DEFAULT_GPU_MEMORY_MIB})
  --host-memory MIB      refuse runs whose estimated host memory exceeds this (default: the machine's memory)
  --help                 this text (given anywhere, it wins over every other flag)

Numbers: an integer flag takes plain decimal digits (1000, not 1e3 or 0x3e8); --damp and --target-bpw
take decimal numbers (0.01, 1e-2, 3.5).

Environment: WGPU_BACKEND=vulkan|opengles (default opengles, which works on Mesa's llvmpipe without a GPU).
Exit codes: 0 done, 1 the run failed, 2 bad flags or inputs, 130 cancelled (Ctrl-C). Ctrl-C during the
evaluation writes the quantized model, the perplexities not measured null in report.json; before the
quantization has finished it writes nothing (a --sweep whose first strategies had finished every seed
writes their report.json, marked "cancelled"). A second Ctrl-C quits at once; while the files are
written, it stops the writing and leaves nothing in --out.`;

const VALUE_FLAGS = ['--model', '--calibration', '--eval', '--out', '--nsamples', '--seqlen', '--seed', '--bits', '--group-size', '--damp', '--gpu-memory', '--host-memory', '--format', '--gguf-float', '--sweep', '--seeds', '--target-bpw', '--eval-windows'];
const BOOLEAN_FLAGS = ['--sym', '--asym', '--act-order', '--static-groups', '--no-true-sequential', '--mse', '--sensitivity', '--help'];
/** Flags a sweep's strategies carry themselves. */
const STRATEGY_FLAGS = ['--bits', '--group-size', '--sym', '--asym', '--act-order', '--static-groups', '--damp', '--mse'];

/** The integers the flags take, beyond their own refusals (src/cli/flag-values.ts: plain decimal digits). */
const INTEGER_FLAGS: Record<string, IntegerRange> = {
  '--nsamples': { min: 1, max: 65536, maxWhy: 'calibration windows; GPTQ\'s default is 128' },
  '--seqlen': { min: 2 },
  '--seed': { min: 0, max: Number.MAX_SAFE_INTEGER - 15, maxWhy: 'a sweep\'s seeds count up from it, and every one must be an exact integer' },
  '--bits': { min: 2, max: 8 },
  '--group-size': { min: -1 },
  '--gpu-memory': { min: 1, max: Math.floor(Number.MAX_SAFE_INTEGER / 2 ** 20), maxWhy: 'MiB: 8 PiB' },
  '--host-memory': { min: 1, max: Math.floor(Number.MAX_SAFE_INTEGER / 2 ** 20), maxWhy: 'MiB: 8 PiB' },
  '--eval-windows': { min: 1 },
  '--seeds': { min: 1, max: 16 },
};

/** The integer given for `flag` (one of INTEGER_FLAGS); throws UsageError. */
const integer = (flag: string, v: string): number => parseInteger(flag, v, INTEGER_FLAGS[flag]);

/** The widths each --format writes, from the export plans' own rules (pack.ts, gguf/plan.ts). */
export function formatWidths(): string {
  const widths = [2, 3, 4, 5, 6, 7, 8];
  const list = (ws: (number | string)[]) => `${ws.slice(0, -1).join(', ')}${ws.length > 1 ? ' or ' : ''}${ws.at(-1)}`;
  const gguf = widths.flatMap((bits) => {
    const types = [true, false].flatMap((sym) => {
      const type = ggufTypeOf({ bits, sym });
      return type ? [`${type} ${sym ? 'symmetric' : 'asymmetric'}`] : [];
    });
    return types.length > 0 ? [`${bits} (${types.join(', ')})`] : [];
  });
  const both = widths.filter((bits) => isPackable(bits) && (ggufTypeOf({ bits, sym: true }) ?? ggufTypeOf({ bits, sym: false })) !== null);
  return `--format gptq writes ${list(widths.filter(isPackable))} bits, --format gguf ${list(gguf)}, ` +
    `--format both ${list(both)}, and --format report (report.json alone) any width from 2 to 8`;
}

/**
 * Refuses, before any work, a width the chosen format has no file for. GPTQ packs 2, 3, 4 and 8
 * bits only; the GGUF's own refusal (which also names the nearest setting for this model) comes
 * from its plan, once the model is open.
 */
function checkWidth(bits: number, format: OutputFormat): void {
  if (format === 'report' || format === 'gguf' || isPackable(bits)) return;
  throw new UsageError(`--bits ${bits} cannot be written as --format ${format}: ${formatWidths()}. ` +
    `Choose one of those widths, or --format report to compare GPTQ with RTN at ${bits} bits without a checkpoint`);
}

/** Parses argv (without node and the script); returns null for --help (anywhere in argv: help wins). */
export function parseArgs(argv: string[]): CliOptions | null {
  if (argv.includes('--help')) return null;
  const values = new Map<string, string>();
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [name, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    if (VALUE_FLAGS.includes(name)) {
      const v = inline ?? argv[++i];
      if (v === undefined || (inline === undefined && v.startsWith('--'))) throw new UsageError(`${name} needs a value`);
      if (values.has(name)) throw new UsageError(`${name} is given twice`);
      values.set(name, v);
    } else if (BOOLEAN_FLAGS.includes(name)) {
      if (inline !== undefined) throw new UsageError(`${name} takes no value, got "${a}": give ${name} alone`);
      flags.add(name);
    } else {
      const meant = closestFlag(name, [...VALUE_FLAGS, ...BOOLEAN_FLAGS]);
      throw new UsageError(`unknown argument "${a}"${meant ? `: did you mean ${meant}?` : ''} (see --help)`);
    }
  }
  for (const required of ['--model', '--calibration', '--eval', '--out']) {
    if (!values.has(required)) throw new UsageError(`${required} is required (see --help)`);
    // An empty value ('' from an unset shell variable) would name the current folder.
    if (values.get(required)!.trim() === '') throw new UsageError(`${required} needs a path, got an empty value`);
  }
  if (flags.has('--sym') && flags.has('--asym')) throw new UsageError('--sym and --asym exclude each other');
  const d = defaultRunSettings;
  const get = (f: string) => values.get(f);
  // A fraction of the mean of diag(H) (0.01), or a percent of it (1%), as the studio's field.
  const dampText = get('--damp')?.trim();
  // Decimal numbers only ("0.01", "1e-2", "1%"): "0x1", "" or "Infinity" are not a damping.
  const damp = dampText === undefined ? d.percDamp : dampText.endsWith('%') ? decimalOrNaN(dampText.slice(0, -1)) / 100 : decimalOrNaN(dampText);
  const dampRefused = dampingRefusal(damp);
  if (dampRefused) {
    const how = Number.isFinite(damp) ? '' : ' (a fraction of the mean of diag(H) such as 0.01, or a percent such as 1%)';
    throw new UsageError(`--damp: ${dampRefused}${how}, got "${get('--damp')}"`);
  }
  const groupSize = get('--group-size') === undefined ? d.groupSize : integer('--group-size', get('--group-size')!);
  if (groupSize === 0) throw new UsageError('--group-size must be -1 or a positive integer');
  const format = (get('--format') ?? 'gptq').toLowerCase() as OutputFormat;
  if (!OUTPUT_FORMATS.includes(format)) throw new UsageError(`--format needs gptq, gguf, both or report, got "${get('--format')}"`);
  const ggufFloat = (get('--gguf-float') ?? 'f16').toUpperCase();
  if (ggufFloat !== 'F16' && ggufFloat !== 'F32') throw new UsageError(`--gguf-float needs f16 or f32, got "${get('--gguf-float')}"`);
  let sweep: Strategy[] | null = null;
  if (values.has('--sweep')) {
    const clash = STRATEGY_FLAGS.filter((f) => values.has(f) || flags.has(f));
    if (clash.length > 0) throw new UsageError(`the strategies of --sweep carry their own settings: drop ${clash.join(', ')}`);
    if (values.has('--format') || values.has('--gguf-float')) throw new UsageError('a sweep writes report.json only: drop --format and --gguf-float');
    if (values.has('--target-bpw')) throw new UsageError('--target-bpw makes a run of its own: give it without --sweep');
    try {
      sweep = parseStrategies(get('--sweep')!);
    } catch (e) {
      throw new UsageError(`--sweep: ${(e as Error).message}`);
    }
  } else if (values.has('--seeds') || flags.has('--sensitivity')) {
    throw new UsageError(`${values.has('--seeds') ? '--seeds' : '--sensitivity'} belongs to a sweep: give --sweep with it`);
  }
  let targetBpw: number | null = null;
  if (values.has('--target-bpw')) {
    targetBpw = decimalOrNaN(get('--target-bpw')!);
    if (!(targetBpw > 2 && targetBpw < 16)) throw new UsageError(`--target-bpw needs bits per weight above 2 and below 16 (a decimal number such as 3.5), got "${get('--target-bpw')}"`);
    if (format === 'gguf' || format === 'both') throw new UsageError('a mixed-precision run has no GGUF (one block type per file): drop --format');
  }
  const bits = get('--bits') === undefined ? d.bits : integer('--bits', get('--bits')!);
  if (targetBpw !== null) {
    // A mixed run's file holds the plan's widths (2, 3, 4 or 8); --bits is the width of the map's pass.
    if (!(SWEEP_BITS as readonly number[]).includes(bits)) {
      throw new UsageError(`with --target-bpw, --bits is the width the sensitivity map's pass quantizes each block at (the next blocks ` +
        `see that model's outputs) while it measures every linear at ${SWEEP_BITS.join(', ')} bits; the file's widths are the plan's. ` +
        `Give --bits ${SWEEP_BITS.slice(0, -1).join(', ')} or ${SWEEP_BITS.at(-1)}, got ${bits}`);
    }
  } else if (!values.has('--sweep')) {
    checkWidth(bits, format);
  }
  if (!values.has('--sweep') && values.has('--gguf-float') && !writesGguf(format)) {
    throw new UsageError(`--gguf-float sets the GGUF's float type, and --format ${format} writes no GGUF: give --format gguf or both, or drop --gguf-float`);
  }
  const staticRefused = staticGroupsRefusal({ groupSize, staticGroups: flags.has('--static-groups') }, {
    setting: '--static-groups', perRow: '--group-size -1 (one grid per row, the default)', fix: 'give --group-size G or drop --static-groups',
  });
  if (staticRefused) throw new UsageError(staticRefused);
  return {
    model: get('--model')!,
    calibration: get('--calibration')!,
    eval: get('--eval')!,
    out: get('--out')!,
    settings: {
      ...d,
      nsamples: get('--nsamples') === undefined ? d.nsamples : integer('--nsamples', get('--nsamples')!),
      seqlen: get('--seqlen') === undefined ? null : integer('--seqlen', get('--seqlen')!),
      seed: get('--seed') === undefined ? d.seed : integer('--seed', get('--seed')!),
      bits,
      groupSize,
      sym: !flags.has('--asym'),
      actOrder: flags.has('--act-order'),
      staticGroups: flags.has('--static-groups'),
      percDamp: damp,
      trueSequential: !flags.has('--no-true-sequential'),
      mse: flags.has('--mse'),
    },
    gpuMemoryBudget: (get('--gpu-memory') === undefined ? DEFAULT_GPU_MEMORY_MIB : integer('--gpu-memory', get('--gpu-memory')!)) * 2 ** 20,
    hostMemoryBudget: get('--host-memory') === undefined ? null : integer('--host-memory', get('--host-memory')!) * 2 ** 20,
    evalWindows: get('--eval-windows') === undefined ? null : integer('--eval-windows', get('--eval-windows')!),
    format,
    ggufFloat,
    sweep,
    seeds: get('--seeds') === undefined ? 1 : integer('--seeds', get('--seeds')!),
    sensitivity: flags.has('--sensitivity'),
    targetBpw,
  };
}
