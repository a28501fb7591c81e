/**
 * The files of a run's GPTQ checkpoint: model.safetensors (quantized linears as qweight, qzeros,
 * scales, g_idx and bias; every other tensor the model uses), config.json with its
 * quantization_config, torch_dtype/dtype float16 (and the padded MLP width, if any),
 * quantize_config.json, the tokenizer and generation files, and a README model card. Every float
 * tensor is F16: GPTQ checkpoints are float16 models (../shared/docs/loaders.md §4), and the plan
 * has checked before the run that every value fits. Tensors are packed or converted one at a time
 * as the stream reaches them, from the integer codes of the run.
 */
import type { Checkpoint } from '../core/model/checkpoint';
import { requiredTensors } from '../core/model/architecture';
import type { RunReport } from '../core/report';
import type { RunSettings } from '../core/run';
import type { GptqResult } from '../core/types';
import { checkedHalfBytes } from '../core/export/f16';
import { packLinear, isTrivialGroupIndex, type PackedLinear } from '../core/export/gptq-linear';
import type { PackableBits } from '../core/export/pack';
import type { ExportPlan } from '../core/export/plan';
import { quantizationConfig } from '../core/export/quant-config';
import { checkpointFileNote, modelCard, type CardFile } from '../core/export/model-card';
import { bytesOf, safetensorsFile, textFile, type ExportFile, type TensorEntry } from '../core/export/safetensors-writer';
import { weightKey } from './quantize-model';
import { readTensorRows } from './model/load-model';
import { shareableModelName } from '../core/shareable-name';

export interface ExportInputs {
  ckpt: Checkpoint;
  /** GPTQ results of the run by weightKey(block, linear); linears without one stay as stored. */
  gptq: Map<string, GptqResult>;
  report: RunReport;
  plan: ExportPlan;
  /** The folder name inside the zip and in the model card's snippets. */
  folder: string;
  /** The prompt of the model card's load snippets (a default suits most models). */
  prompt?: string;
  /** The folder's other files, written beside the checkpoint (a GGUF, imatrix.gguf, report.json): the card lists them after its own. */
  alongside?: CardFile[];
}

/** Bytes of f32 values converted at a time when a tensor is written as F16. */
const PIECE_BYTES = 16 << 20;

/**
 * A float tensor as F16 bytes in pieces of rows, read by range and converted one piece at a time, so
 * that neither a whole f32 copy nor the whole F16 bytes of it (an embedding is the largest) are held;
 * [shape] → F16 bytes, row-major, in pieces of at most `pieceBytes` of f32. An F16 tensor's bytes are
 * copied as stored. Throws as checkedHalfBytes (the index is the tensor's).
 */
export async function* halfPieces(ckpt: Checkpoint, name: string, pieceBytes = PIECE_BYTES): AsyncGenerator<Uint8Array> {
  const { shape, dtype } = ckpt.tensors.get(name)!;
  const rows = shape[0] ?? 1;
  const cols = shape.slice(1).reduce((a, b) => a * b, 1);
  const perPiece = Math.max(1, Math.floor(pieceBytes / (cols * 4)));
  for (let r0 = 0; r0 < rows; r0 += perPiece) {
    const n = Math.min(perPiece, rows - r0);
    yield dtype === 'F16'
      ? await ckpt.readTensorRange(name, r0 * cols * 2, n * cols * 2)
      : checkedHalfBytes(await readTensorRows(ckpt, name, r0, n), name, r0 * cols);
  }
}

/** A bias padded with zeros to n entries. */
function padded(values: Float32Array, n: number): Float32Array {
  if (values.length === n) return values;
  const out = new Float32Array(n);
  out.set(values);
  return out;
}

/**
 * model.safetensors alone (its size is known before a byte is produced), and whether any g_idx
 * is non-trivial (desc_act).
 */
export function exportWeights({ ckpt, gptq, settings, plan }: Pick<ExportInputs, 'ckpt' | 'gptq' | 'plan'> & { settings: RunSettings }): { file: ExportFile; descAct: boolean } {
  if (plan.refusal) throw new Error(plan.refusal);
  const { layout, config } = ckpt;
  const entries: TensorEntry[] = [];
  const linearOf = new Map<string, { block: number; name: string }>();
  for (let b = 0; b < layout.numBlocks; b++) {
    for (const l of layout.block.linears) linearOf.set(`${layout.blockPrefix(b)}${l.name}`, { block: b, name: l.name });
  }
  // A tensor the run did not quantize, as F16 (F16 ones copied as stored).
  const asHalf = (name: string): TensorEntry => {
    return { name, dtype: 'F16', shape: ckpt.tensors.get(name)!.shape, bytes: () => halfPieces(ckpt, name) };
  };
  let descAct = false;
  for (const { name } of requiredTensors(layout, config)) {
    const module = name.replace(/\.(weight|bias)$/, '');
    const linear = linearOf.get(module);
    const result = linear && gptq.get(weightKey(linear.block, linear.name));
    if (!result) {
      entries.push(asHalf(name));
      continue;
    }
    const N = result.rows;
    const K = result.cols;
    // A mixed-precision run packs each linear at its own width (named in quantization_config.dynamic).
    const bits = (settings.moduleBits?.[weightKey(linear.block, linear.name)] ?? settings.bits) as PackableBits;
    if (name.endsWith('.bias')) {
      entries.push({ name, dtype: 'F16', shape: [N], bytes: async () => checkedHalfBytes(padded(await ckpt.readTensor(name), N), name) });
      continue;
    }
    descAct ||= !isTrivialGroupIndex(result.gIdx, settings.groupSize);
    // Packed on first use by the qweight entry, handed to the three after it, then dropped.
    let packed: PackedLinear | null = null;
    const take = (pick: (p: PackedLinear) => Uint32Array | Int32Array | Uint16Array, last = false) => () => {
      try {
        packed ??= packLinear(result, bits, plan.format);
      } catch (e) {
        throw new RangeError(`${module}: ${(e as Error).message}`);
      }
      const bytes = bytesOf(pick(packed));
      if (last) packed = null;
      return bytes;
    };
    entries.push(
      { name: `${module}.qweight`, dtype: 'I32', shape: [(K * bits) / 32, N], bytes: take((p) => p.qweight) },
      { name: `${module}.qzeros`, dtype: 'I32', shape: [result.groups, (N * bits) / 32], bytes: take((p) => p.qzeros) },
      { name: `${module}.scales`, dtype: 'F16', shape: [result.groups, N], bytes: take((p) => p.scales) },
      { name: `${module}.g_idx`, dtype: 'I32', shape: [K], bytes: take((p) => p.gIdx, true) },
    );
  }
  return { file: safetensorsFile('model.safetensors', entries, { format: 'pt' }), descAct };
}

/** The checkpoint's files, README.md last; the card lists them and `alongside`. */
export function exportCheckpoint({ ckpt, gptq, report, plan, folder, prompt, alongside = [] }: ExportInputs): ExportFile[] {
  const { layout } = ckpt;
  const weights = exportWeights({ ckpt, gptq, settings: report.settings, plan });
  const quantization = quantizationConfig({ settings: report.settings, plan, layout, descAct: weights.descAct });
  const configJson = JSON.parse(ckpt.configJson) as Record<string, unknown>;
  // transformers saves the folder it loaded from here: a Hub id stays, a local path is cut to its folder name.
  if (typeof configJson._name_or_path === 'string') configJson._name_or_path = shareableModelName(configJson._name_or_path);
  if (plan.intermediate) configJson[layout.intermediateSizeKey] = plan.intermediate.to;
  // vLLM and older readers look for torch_dtype, transformers v5 for dtype (loaders.md §4).
  configJson.torch_dtype = 'float16';
  configJson.dtype = 'float16';
  configJson.quantization_config = quantization;
  const json = (o: unknown) => `${JSON.stringify(o, null, 2)}\n`;

  const files: ExportFile[] = [
    weights.file,
    textFile('config.json', json(configJson)),
    textFile('quantize_config.json', json(quantization)),
  ];
  if (ckpt.tokenizerJson !== null) files.push(textFile('tokenizer.json', ckpt.tokenizerJson));
  if (ckpt.tokenizerConfigJson !== null) files.push(textFile('tokenizer_config.json', ckpt.tokenizerConfigJson));
  if (ckpt.generationConfigJson !== null) files.push(textFile('generation_config.json', ckpt.generationConfigJson));
  const listed = [...files.map((f) => f.name), 'README.md'].map((name) => ({ name, what: checkpointFileNote(name, report.settings, plan) }));
  files.push(textFile('README.md', modelCard(report, plan, folder, prompt, [...listed, ...alongside])));
  return files;
}
