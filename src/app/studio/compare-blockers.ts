/**
 * Why "Compare strategies" cannot start now: what keeps *Run* from starting in the settings
 * (settingsBlockers, ./run-settings.ts: no model, invalid fields, missing texts), then the panel's
 * own: the strategy list's error (it does not parse, or the worker's check against the model
 * refuses a pass of it: sweepRefusals, the rule the sweep itself applies before any work), a check
 * not worked out yet, seeds, a run in progress. Pure.
 */
import { parseStrategies, sweepRefusalText } from '../../core/sweep';
import type { FieldErrors, SettingsSlice, SweepPlanSlice } from '../store/studio-state';
import { settingsBlockers } from './run-settings';

export interface CompareInputs {
  modelReady: boolean;
  /** The loaded model's loadId (null when none is ready). */
  loadId: number | null;
  settings: SettingsSlice;
  fieldErrors: FieldErrors;
  /** The strategy list as typed. */
  strategies: string;
  seeds: number;
  sweepPlan: SweepPlanSlice;
  runActive: boolean;
}

export interface CompareCheck {
  /** Why the strategy list is invalid (shown beside the field), or null. */
  listError: string | null;
  /** Everything that keeps Compare disabled (listError included); empty when it can start. */
  blockers: string[];
}

/** The strategy list's error and everything else that keeps Compare disabled. */
export function compareBlockers(o: CompareInputs): CompareCheck {
  let listError: string | null = null;
  try {
    parseStrategies(o.strategies);
  } catch (e) {
    listError = (e as Error).message;
  }
  const p = o.sweepPlan;
  const current = p.status === 'ready' && p.forStrategies === o.strategies && p.forSettings === o.settings && p.forLoad === o.loadId;
  if (listError === null && current && p.refusals.length > 0) listError = p.refusals.map(sweepRefusalText).join('; ');
  const shared = settingsBlockers(o);
  if (!o.modelReady) return { listError, blockers: shared };
  const blockers: (string | null)[] = [
    ...shared,
    listError,
    listError === null && !current && p.status !== 'error' ? 'the strategies are being checked against the model' : null,
    listError === null && p.status === 'error' ? `the check of the strategies failed: ${p.error.message}` : null,
    Number.isInteger(o.seeds) && o.seeds >= 1 && o.seeds <= 16 ? null : 'seeds must be a whole number from 1 to 16',
    o.runActive ? 'a run is in progress' : null,
  ];
  return { listError, blockers: blockers.filter((b): b is string => b !== null) };
}
