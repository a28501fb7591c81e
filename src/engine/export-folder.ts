/**
 * The files of a run's export folder as asked (the CLI's --format: a GPTQ checkpoint, a GGUF for
 * llama.cpp with its imatrix.gguf, or both; the studio's zip: the checkpoint) and report.json, which
 * describes what was written (src/core/report.ts WrittenReport): the export asked for, the files,
 * the GPTQ plan only when a GPTQ checkpoint was asked for. Every folder with a model has a README.md
 * model card listing its files by name: the checkpoint's card, or, for a GGUF without a checkpoint,
 * the GGUF's (ggufModelCard: the block type, the settings, the perplexities, how to run it with llama.cpp).
 */
import { CARD_FILE_NOTE, ggufFileNote, ggufModelCard, imatrixFileNote, REPORT_FILE_NOTE, type CardFile, type GgufCardFile } from '../core/export/model-card';
import { lateTextFile, textFile, type ExportFile } from '../core/export/safetensors-writer';
import { reportJson, writesGguf, writesGptq, writtenReport, type ReportOutput, type WrittenReport } from '../core/report';
import { exportCheckpoint } from './export-checkpoint';
import { exportGguf, exportImatrix } from './export-gguf';
import type { RunOutput } from './run-model';

export interface FolderInputs {
  run: Pick<RunOutput, 'report' | 'weights' | 'ckpt' | 'model'>;
  output: ReportOutput;
  /** The folder's name, which the card's load snippets use; a path is cut to its last segment. */
  folder: string;
  /** The prompt of the card's load snippets. */
  prompt?: string;
  /** Called as report.json is made, after every other file was written (the CLI adds its peak memory). */
  beforeReport?: (report: WrittenReport) => void;
}

export interface ExportFolder {
  /** In writing order: the checkpoint's files, the GGUF, imatrix.gguf, the GGUF's README.md when there is no checkpoint, report.json last. */
  files: ExportFile[];
  /** report.json's content (beforeReport has run once report.json is read). */
  report: WrittenReport;
  /** Why no GPTQ checkpoint was written although one was asked for (the plan's refusal), or null. */
  gptqRefusal: string | null;
}

/**
 * The folder's files, made lazily (each streams when written). Throws the GGUF plan's refusal when
 * a GGUF is asked for and the run's grid has none (the CLI refuses such runs before they start).
 */
export function exportFolder({ run, output, folder, prompt, beforeReport }: FolderInputs): ExportFolder {
  const { report, weights, ckpt, model } = run;
  const name = folder.split(/[\\/]/).map((s) => s.trim()).filter(Boolean).pop() ?? 'model';
  const gptq = writesGptq(output.format);
  const gguf = writesGguf(output.format);
  const floatType = output.ggufFloat ?? 'F16';
  const gptqRefusal = gptq ? report.export.refusal : null;
  const withCheckpoint = gptq && gptqRefusal === null;
  const beside: ExportFile[] = [];
  const notes: CardFile[] = [];
  let ggufBytes: number | null = null;
  let ggufCard: GgufCardFile | null = null;
  if (gguf) {
    const plan = report.gguf;
    if (!plan || plan.refusal || !plan.type) throw new Error(`no GGUF for these settings: ${plan?.refusal ?? 'the run has no GGUF plan'}`);
    const file = exportGguf({ ckpt, model, weights, plan, modelName: report.model.name, floatType, half: report.export.f16 });
    const imatrix = exportImatrix({ ckpt, weights, settings: report.settings, calibrationName: report.calibration.text });
    ggufBytes = file.size;
    beside.push(file, imatrix);
    notes.push({ name: file.name, what: ggufFileNote(plan.type, floatType, withCheckpoint) }, { name: imatrix.name, what: imatrixFileNote(report.settings) });
    ggufCard = { name: file.name, type: plan.type, floatType, floatLinears: plan.floatLinears };
  }
  // A GGUF without a checkpoint (--format gguf, or a checkpoint the plan refused) gets its own card.
  if (ggufCard && !withCheckpoint) notes.push({ name: 'README.md', what: CARD_FILE_NOTE });
  notes.push({ name: 'report.json', what: REPORT_FILE_NOTE });
  const checkpoint = withCheckpoint
    ? exportCheckpoint({ ckpt, gptq: weights.gptq, report, plan: report.export, folder: name, prompt, alongside: notes })
    : [];
  if (ggufCard && !withCheckpoint) beside.push(textFile('README.md', ggufModelCard(report, ggufCard, prompt, notes)));
  const files = [...checkpoint, ...beside];
  const written = writtenReport(report, { format: output.format, ggufFloat: gguf ? floatType : null }, ['report.json', ...files.map((f) => f.name)], ggufBytes);
  files.push(lateTextFile('report.json', () => {
    beforeReport?.(written);
    return reportJson(written);
  }));
  return { files, report: written, gptqRefusal };
}
