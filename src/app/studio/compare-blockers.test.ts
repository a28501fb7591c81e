import { describe, expect, it } from 'vitest';
import { compareBlockers, type CompareInputs } from './compare-blockers';
import { defaultSettings, type SettingsSlice, type SweepPlanSlice } from '../store/studio-state';
import { runBlockers, settingsBlockers } from './run-settings';

const settings: SettingsSlice = { ...defaultSettings, calibration: { name: 'c', text: 'x' }, evaluations: [{ name: 'e', text: 'y' }] };
const refusal = { labels: ['gptq:4g999', 'rtn:4g999'], reason: 'with group size 999 no linear of this model can be exported quantized (…); group sizes that quantize every linear of this model: -1 (one group per row), 16, 32, 64' };
const checked = (refusals: typeof refusal[], forStrategies: string, forSettings = settings, forLoad = 3): SweepPlanSlice => ({ status: 'ready', refusals, forStrategies, forSettings, forLoad });
const inputs = (over: Partial<CompareInputs> = {}): CompareInputs => ({
  modelReady: true, loadId: 3, settings, fieldErrors: {}, strategies: '4g32,4g999,rtn:4g999', seeds: 1,
  sweepPlan: checked([refusal], '4g32,4g999,rtn:4g999'), runActive: false, ...over,
});

describe('Compare blockers', () => {
  it('a strategy the model refuses (the worker\'s check) makes the list invalid with the reason, and blocks Compare', () => {
    const c = compareBlockers(inputs());
    expect(c.listError).toBe(`gptq:4g999, rtn:4g999: ${refusal.reason}`);
    expect(c.blockers).toEqual([c.listError]);
  });

  it('a list that fits the model, checked for this list, these settings and this model, lets Compare start', () => {
    expect(compareBlockers(inputs({ strategies: '4g32', sweepPlan: checked([], '4g32') }))).toEqual({ listError: null, blockers: [] });
  });

  it('a check of another list, other settings or another model is not trusted: Compare waits for the new one', () => {
    const waiting = ['the strategies are being checked against the model'];
    expect(compareBlockers(inputs({ strategies: '4g32', sweepPlan: checked([refusal], '4g32,4g999,rtn:4g999') }))).toEqual({ listError: null, blockers: waiting });
    expect(compareBlockers(inputs({ strategies: '4g32', sweepPlan: checked([], '4g32', { ...settings }) })).blockers).toEqual(waiting);
    expect(compareBlockers(inputs({ strategies: '4g32', sweepPlan: checked([], '4g32', settings, 2) })).blockers).toEqual(waiting);
    expect(compareBlockers(inputs({ strategies: '4g32', sweepPlan: { status: 'loading' } })).blockers).toEqual(waiting);
    expect(compareBlockers(inputs({ strategies: '4g32', sweepPlan: { status: 'error', error: { kind: 'model', message: 'boom' } } })).blockers)
      .toEqual(['the check of the strategies failed: boom']);
  });

  it('a list that does not parse says why without a check; invalid settings, texts, seeds and a run block as they block Run', () => {
    const bad = compareBlockers(inputs({ strategies: '4g32, q4', sweepPlan: { status: 'idle' } }));
    expect(bad.listError).toMatch(/^strategy "q4": write \[gptq:\|rtn:\|awq:\]BITS/);
    expect(bad.blockers).toEqual([bad.listError]);
    const ok = { strategies: '4g32', sweepPlan: checked([], '4g32') };
    expect(compareBlockers(inputs({ ...ok, fieldErrors: { nsamples: 'calibration windows must be at least 1' } })).blockers).toEqual(['calibration windows must be at least 1']);
    expect(compareBlockers(inputs({ ...ok, seeds: 0 })).blockers).toEqual(['seeds must be a whole number from 1 to 16']);
    expect(compareBlockers(inputs({ ...ok, runActive: true })).blockers).toEqual(['a run is in progress']);
    const noTexts: SettingsSlice = { ...settings, calibration: null, evaluations: [] };
    expect(compareBlockers(inputs({ strategies: '4g32', settings: noTexts, sweepPlan: checked([], '4g32', noTexts) })).blockers)
      .toEqual(['choose a calibration text in the settings', 'add at least one evaluation text in the settings']);
    expect(compareBlockers(inputs({ modelReady: false, loadId: null })).blockers).toEqual(['load a model first']);
  });

  it('says what the settings lack in the same words as Run: one source (settingsBlockers), then its own reasons', () => {
    const noTexts: SettingsSlice = { ...settings, calibration: null, evaluations: [] };
    const fieldErrors = { percDamp: 'damping must be more than 0 % (H needs it to be invertible)' };
    const shared = settingsBlockers({ modelReady: true, settings: noTexts, fieldErrors });
    expect(shared).toEqual([fieldErrors.percDamp, 'choose a calibration text in the settings', 'add at least one evaluation text in the settings']);
    const compare = compareBlockers(inputs({ strategies: '4g32', settings: noTexts, fieldErrors, sweepPlan: checked([], '4g32', noTexts), seeds: 0, runActive: true })).blockers;
    const run = runBlockers({ modelReady: true, settings: noTexts, fieldErrors, plan: { status: 'loading' } });
    expect(compare).toEqual([...shared, 'seeds must be a whole number from 1 to 16', 'a run is in progress']);
    expect(run).toEqual(shared);
    expect(compareBlockers(inputs({ modelReady: false, loadId: null })).blockers).toEqual(settingsBlockers({ modelReady: false, settings, fieldErrors: {} }));
  });
});
