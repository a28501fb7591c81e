/** What the CLI warns about before a run, from the run's plan (the same warnings the studio's plan shows). */
import type { RunPlan } from '../engine/run-plan';
import { writesGptq, type OutputFormat } from '../core/report';

/**
 * The plan's warnings that concern this run and the files this --format writes: the run's own
 * (RunPlan.warnings: what config.json says two ways, a calibration too small for the widest
 * linear), for every format; then what the common loaders (vLLM, transformers, GPTQModel,
 * AutoGPTQ) will do with the GPTQ checkpoint (src/core/export/plan.ts, loaderWarnings), for gptq
 * and both only: a GGUF alone or report.json alone holds no GPTQ checkpoint. The checkpoint opener
 * and config reader refuse what they cannot use rather than warn, so the plan is where every
 * warning of a run comes from.
 */
export function planWarnings(plan: Pick<RunPlan, 'export' | 'warnings'>, format: OutputFormat): string[] {
  return [...plan.warnings, ...(writesGptq(format) ? plan.export.warnings : [])];
}
