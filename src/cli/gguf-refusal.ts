/** The CLI's refusal of a run whose GGUF was asked for (--format gguf or both) and cannot be written exactly. */
import { isPackable } from '../core/export/pack';
import type { GgufPlan, GgufSettings } from '../core/export/gguf/plan';
import type { OutputFormat } from '../core/report';

/** The flags that turn `from` into the GGUF plan's suggestion (only those that change): "--bits 4 --group-size 32". */
export function suggestionFlags(from: GgufSettings, to: GgufSettings): string {
  const flags: string[] = [];
  if (to.bits !== from.bits) flags.push(`--bits ${to.bits}`);
  if (to.sym !== from.sym) flags.push(to.sym ? '--sym' : '--asym');
  if (to.groupSize !== from.groupSize) flags.push(`--group-size ${to.groupSize}`);
  if (to.staticGroups && !from.staticGroups) flags.push('--static-groups');
  return flags.join(' ');
}

/**
 * Why the run is refused, and what the user can do: the GGUF plan's refusal, then the settings of
 * its suggestion as flags (when the grid is what has no GGUF type), or else the --format that
 * writes what can be written: the GPTQ checkpoint alone (--format both), the GPTQ checkpoint
 * instead (--format gguf, when the width packs and the checkpoint is not refused), or report.json
 * alone. Null when the GGUF can be written or none was asked for.
 */
export function ggufRefusal(
  plan: { gguf: Pick<GgufPlan, 'refusal' | 'suggestion'>; export: { refusal: string | null } },
  format: OutputFormat,
  settings: GgufSettings,
): string | null {
  if ((format !== 'gguf' && format !== 'both') || plan.gguf.refusal === null) return null;
  const checkpoint = plan.export.refusal === null && isPackable(settings.bits);
  const other = format === 'both' && checkpoint ? '--format gptq to write the GPTQ checkpoint alone'
    : checkpoint ? '--format gptq to write the GPTQ checkpoint instead'
      : '--format report to write report.json alone (the run\'s measurements, no model file)';
  const s = plan.gguf.suggestion;
  const flags = s ? suggestionFlags(settings, s.settings) : '';
  const next = flags ? `give ${flags} for ${s!.type}, or ${other}` : `give ${other}`;
  return `no GGUF for ${s ? 'these settings' : 'this run'}: ${plan.gguf.refusal}. To go on, ${next} (nothing was run)`;
}
