/**
 * From the studio's settings and the loaded model to the engine's RunSettings; the defaults a
 * model gets (sized by the adapter's measured speed, src/core/time-model.ts); the rules each
 * settings field follows; and why the run cannot start now, if it cannot.
 */
import { dampingRefusal } from '../../core/damping';
import { isPlainInteger, looseNumber } from '../../core/number-text';
import type { RunSettings } from '../../core/run';
import { DEFAULT_SNIPPET_PROMPT } from '../../core/export/model-card';
import { staticGroupsRefusal } from '../../core/groups';
import type { ModelInfo, StudioPlan } from '../../worker/types';
import type { FieldErrors, ModelSource, PlanSlice, SettingsSlice, TextChoice } from '../store/studio-state';
import { DEMO_PROMPT } from './demo';

export function runSettingsOf(s: SettingsSlice, info: ModelInfo): RunSettings {
  return {
    bits: s.bits,
    groupSize: s.groupSize,
    sym: s.sym,
    actOrder: s.actOrder,
    staticGroups: s.staticGroups,
    percDamp: s.percDamp,
    trueSequential: s.trueSequential,
    mse: s.mse,
    blockSize: 128,
    nsamples: s.nsamples,
    seqlen: s.seqlen ?? info.defaultSeqlen,
    seed: s.seed,
  };
}

/**
 * Settings suited to a model on this adapter: the largest of groups 128/64/32 that divides the
 * hidden size (so every linear holds whole groups), and the calibration and evaluation sizes the
 * worker chose from the adapter's measured speed so that the run takes about a minute
 * (ModelInfo.suggested; the usual 32 windows of up to 512 tokens and whole texts when unmeasured).
 */
export function suggestedSettings(info: ModelInfo): Partial<SettingsSlice> {
  const hidden = info.summary.hiddenSize;
  const groupSize = [128, 64, 32].find((g) => hidden % g === 0) ?? -1;
  const s = info.suggested;
  return {
    groupSize,
    nsamples: s?.nsamples ?? 32,
    seqlen: s?.seqlen ?? Math.min(info.defaultSeqlen, 512),
    evalWindows: s ? s.evalWindows : null,
  };
}

/** The prompt the load snippets and generations start from: one the model can continue. */
export function samplePrompt(source: ModelSource | null): string {
  return source === 'demo' ? DEMO_PROMPT : DEFAULT_SNIPPET_PROMPT;
}

/** The texts left when a model other than the demo is loaded: the demo's are set aside. */
export function withoutDemoTexts(s: Pick<SettingsSlice, 'calibration' | 'evaluations'>): Pick<SettingsSlice, 'calibration' | 'evaluations'> {
  return {
    calibration: s.calibration?.demo ? null : s.calibration,
    evaluations: s.evaluations.filter((t: TextChoice) => !t.demo),
  };
}

// ---- Field rules: a reason when the text is not a valid value, else null ----

const whole = looseNumber;

/** A whole number ≥ min (empty allowed when `optional`). */
export function wholeRule(what: string, min: number, optional = false) {
  return (text: string): string | null => {
    if (optional && text.trim() === '') return null;
    const n = whole(text);
    if (!Number.isInteger(n)) return `${what} must be a whole number${optional ? ' (or empty)' : ''}`;
    // Digits only, as the CLI's flags take them: 1e3 or 0x10 is refused with its plain form.
    if (!isPlainInteger(text.trim())) return `${what} must be written in digits${Number.isSafeInteger(n) ? ` (write ${n})` : ''}`;
    if (!Number.isSafeInteger(n)) return `${what}: ${text.trim()} is too large`;
    if (n < min) return `${what} must be at least ${min}`;
    return null;
  };
}

/** Damping in percent of the mean of diag(H): more than 0, at most 100 (dampingRefusal, src/core/damping.ts). */
export function dampingRule(text: string): string | null {
  return dampingRefusal(whole(text) / 100, true);
}

/**
 * Static groups with one group per row: why they are refused (they would change nothing), or
 * null. The CLI's --static-groups rule (staticGroupsRefusal, src/core/groups.ts) in the studio's words.
 */
export function staticGroupsRule(s: Pick<SettingsSlice, 'groupSize' | 'staticGroups'>): string | null {
  return staticGroupsRefusal(s, {
    setting: 'static groups', perRow: 'one group per row (group size −1)', fix: 'choose a group size or untick static groups',
  });
}

/**
 * What keeps both a run (runBlockers) and a strategy comparison (compareBlockers,
 * ./compare-blockers.ts) from starting, in the settings themselves (empty: nothing there): no
 * model loaded (then nothing else is said), settings fields with invalid text, settings that do not
 * go together (staticGroupsRule), the calibration or evaluation texts missing. The one source of
 * these reasons; each panel adds its own. Pure.
 */
export function settingsBlockers(opts: { modelReady: boolean; settings: SettingsSlice; fieldErrors: FieldErrors }): string[] {
  if (!opts.modelReady) return ['load a model first'];
  const out = Object.values(opts.fieldErrors);
  const staticGroups = staticGroupsRule(opts.settings);
  if (staticGroups) out.push(staticGroups);
  if (!opts.settings.calibration) out.push('choose a calibration text in the settings');
  if (opts.settings.evaluations.length === 0) out.push('add at least one evaluation text in the settings');
  return out;
}

/**
 * Why the run cannot start (empty: it can): settingsBlockers, then a plan that failed or refuses
 * (memory, window length, texts too short). A plan not yet worked out for these settings (a field
 * was just edited: planPending) does not block: Run then asks for it at once and starts the run
 * unless it refuses (WorkerBridge.startRun).
 */
export function runBlockers(opts: {
  modelReady: boolean;
  settings: SettingsSlice;
  fieldErrors: FieldErrors;
  plan: PlanSlice;
}): string[] {
  if (!opts.modelReady) return settingsBlockers(opts);
  const out = settingsBlockers(opts);
  // While a field is invalid the settings are not those typed: the plan, made for the last valid
  // ones, would speak of a value no longer on screen.
  if (Object.values(opts.fieldErrors).some(Boolean)) return out;
  if (opts.plan.status === 'error') out.push(`the plan failed: ${opts.plan.error.message}`);
  if (opts.plan.status === 'ready' && opts.plan.forSettings === opts.settings) out.push(...planRefusals(opts.plan.plan));
  return out;
}

/** Whether the plan of these settings is not known yet (none asked, being worked out, or one for settings since changed). */
export function planPending(plan: PlanSlice, settings: SettingsSlice): boolean {
  return plan.status === 'idle' || plan.status === 'loading' || (plan.status === 'ready' && plan.forSettings !== settings);
}

/** What in a plan refuses the run (not the export: a run without a download still compares). */
export function planRefusals(plan: Pick<StudioPlan, 'fitError' | 'textError'>): string[] {
  return [plan.fitError, plan.textError].filter((x): x is string => x !== null);
}

