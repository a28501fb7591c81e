/**
 * About how many bytes an export writes, known before the run from the checkpoint's tensor shapes
 * and the plans (the exact sizes exist only once the files are made, at the end of the run), so
 * that a run can be refused up front when its output will not fit where it is to be written.
 *   GPTQ checkpoint  each quantized linear's qweight, qzeros, scales and g_idx (storedBits, with the
 *                    plan's padded MLP width), every other tensor of the checkpoint in F16
 *   GGUF             the quantized linears in the block type's bytes per 32 weights, the linears the
 *                    GGUF plan keeps as floats and every other tensor in the float type, and
 *                    imatrix.gguf's Σx² per input column
 *   and              the tokenizer (its files, or a GGUF's vocabulary), the card, report.json and configs
 * Pure: reads only shapes, never weights.
 */
import type { Checkpoint } from '../core/model/checkpoint';
import { shapeSize } from '../core/model/safetensors';
import type { RunSettings } from '../core/run';
import { writesGguf, writesGptq, type GgufFloatType, type OutputFormat } from '../core/report';
import { plannedLinears, storedBits } from '../core/export/bpw';
import type { ExportPlan } from '../core/export/plan';
import type { GgufPlan } from '../core/export/gguf/plan';
import { GGML_TYPES } from '../core/export/gguf/constants';

/** The card, report.json, config files and the files' headers: an allowance, and one more per quantized linear. */
const SMALL_FILES_BYTES = 16 << 10;
const PER_LINEAR_BYTES = 512;

export interface ExportSizeInputs {
  ckpt: Pick<Checkpoint, 'layout' | 'tensors' | 'tokenizerJson' | 'tokenizerConfigJson'>;
  settings: Pick<RunSettings, 'bits' | 'groupSize' | 'moduleBits'>;
  exportPlan: Pick<ExportPlan, 'intermediate' | 'unquantized' | 'refusal'>;
  ggufPlan: Pick<GgufPlan, 'type' | 'floatLinears'> | null;
  output: { format: OutputFormat; ggufFloat?: GgufFloatType };
}

/**
 * Estimated bytes of every file an export with `output` writes (see the module comment); the
 * report alone (--format report) is counted as the small files. Throws nothing.
 */
export function estimateExportBytes({ ckpt, settings, exportPlan, ggufPlan, output }: ExportSizeInputs): number {
  const { layout } = ckpt;
  const bitsOf = (b: number, name: string) => settings.moduleBits?.[`${b}.${name}`] ?? settings.bits;
  const quantized = plannedLinears(layout, exportPlan, settings.groupSize, bitsOf);
  const quantizedTensors = new Set(quantized.map((l) => `${layout.blockPrefix(l.block)}${l.name}.weight`));
  let otherElements = 0;
  for (const [name, info] of ckpt.tensors) if (!quantizedTensors.has(name)) otherElements += shapeSize(info.shape);
  // The tokenizer: its files beside a checkpoint, its vocabulary in a GGUF's metadata (about as large).
  const tokenizer = (ckpt.tokenizerJson?.length ?? 0) + (ckpt.tokenizerConfigJson?.length ?? 0);
  let total = SMALL_FILES_BYTES + quantized.length * PER_LINEAR_BYTES;
  if (writesGptq(output.format) && exportPlan.refusal === null) {
    total += quantized.reduce((s, l) => s + storedBits(l).total / 8, 0) + otherElements * 2 + tokenizer;
  }
  if (writesGguf(output.format) && ggufPlan?.type) {
    const floatBytes = output.ggufFloat === 'F32' ? 4 : 2;
    const floats = new Set(ggufPlan.floatLinears.map((f) => f.name));
    const type = GGML_TYPES[ggufPlan.type];
    for (const l of quantized) {
      const weights = l.N * l.K;
      total += floats.has(l.name) ? weights * floatBytes : (weights / type.blockSize) * type.blockBytes;
      total += l.K * 4; // imatrix.gguf: Σx² per input column (F32)
    }
    total += otherElements * floatBytes + tokenizer;
  }
  return Math.ceil(total);
}
