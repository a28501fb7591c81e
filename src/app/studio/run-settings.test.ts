import { describe, expect, it } from 'vitest';
import { dampingRule, planPending, runBlockers, runSettingsOf, samplePrompt, staticGroupsRule, suggestedSettings, wholeRule, withoutDemoTexts } from './run-settings';
import { compareBlockers } from './compare-blockers';
import { defaultSettings, type SettingsSlice } from '../store/studio-state';
import type { ModelInfo, StudioPlan } from '../../worker/types';
import { modelNameOf } from './model-files';

const info = (hiddenSize: number, defaultSeqlen = 256, suggested: ModelInfo['suggested'] = null): ModelInfo => ({
  summary: { arch: 'llama', blocks: 4, hiddenSize, parameters: 1, dtype: 'F32', files: ['model.safetensors'], tokenizer: true, bytes: 4 },
  heads: 4, kvHeads: 2, intermediateSize: 256, vocabSize: 1024, maxPositions: defaultSeqlen, defaultSeqlen, configName: null, suggested,
});

const texts = { ...defaultSettings, calibration: { name: 'c', text: 'x' }, evaluations: [{ name: 'e', text: 'y' }] };
const plan = (over: Partial<StudioPlan> = {}, forSettings: SettingsSlice = texts) => ({ status: 'ready' as const, plan: { fitError: null, textError: null, ...over } as StudioPlan, forSettings });

describe('studio settings', () => {
  it('takes the sizes the worker chose from the measured speed, and the largest group that divides the hidden size', () => {
    // No name check any more: whatever the adapter is called, the sizes are those measured for it.
    const suggested = { nsamples: 8, seqlen: 128, evalWindows: 16, estimate: { quantization: 30, evaluation: 25, total: 55 } };
    expect(suggestedSettings(info(64, 512, suggested))).toEqual({ groupSize: 64, nsamples: 8, seqlen: 128, evalWindows: 16 });
    expect(suggestedSettings(info(128))).toEqual({ groupSize: 128, nsamples: 32, seqlen: 256, evalWindows: null });
    expect(suggestedSettings(info(48)).groupSize).toBe(-1);
  });

  it('fills the window length from the model unless set', () => {
    expect(runSettingsOf(defaultSettings, info(128, 300)).seqlen).toBe(300);
    expect(runSettingsOf({ ...defaultSettings, seqlen: 64 }, info(128)).seqlen).toBe(64);
  });

  it('says why a field is invalid: 0 or negative windows, window length 0, group size 0, damping 0 or 500', () => {
    const windows = wholeRule('calibration windows', 1);
    expect(windows('0')).toMatch(/at least 1/);
    expect(windows('-3')).toMatch(/at least 1/);
    expect(windows('2.5')).toMatch(/whole number/);
    expect(windows('')).toMatch(/whole number/);
    expect(windows('8')).toBeNull();
    expect(windows(' 8 ')).toBeNull();
    expect(windows('1e3')).toBe('calibration windows must be written in digits (write 1000)');
    expect(windows('0x10')).toBe('calibration windows must be written in digits (write 16)');
    expect(windows('99999999999999999999')).toBe('calibration windows: 99999999999999999999 is too large');
    const seqlen = wholeRule('window length', 1, true);
    expect(seqlen('0')).toMatch(/at least 1/);
    expect(seqlen('')).toBeNull();
    expect(wholeRule('group size', 1)('0')).toMatch(/at least 1/);
    expect(dampingRule('0')).toMatch(/more than 0/);
    expect(dampingRule('500')).toMatch(/at most 100/);
    expect(dampingRule('abc')).toMatch(/number/);
    expect(dampingRule('1')).toBeNull();
  });

  it('blocks the run while a field is invalid, a text is missing or the plan refuses, saying why', () => {
    expect(runBlockers({ modelReady: true, settings: texts, fieldErrors: {}, plan: plan() })).toEqual([]);
    expect(runBlockers({ modelReady: false, settings: texts, fieldErrors: {}, plan: plan() })).toEqual(['load a model first']);
    expect(runBlockers({ modelReady: true, settings: texts, fieldErrors: { damping: 'damping must be more than 0 %' }, plan: plan() }))
      .toEqual(['damping must be more than 0 %']);
    const refused = runBlockers({ modelReady: true, settings: texts, fieldErrors: {}, plan: plan({ fitError: 'needs 1430.5 TiB of a 2 GiB budget' }) });
    expect(refused).toEqual(['needs 1430.5 TiB of a 2 GiB budget']);
    // A field emptied after the plan refused its last valid value: the field's reason alone.
    expect(runBlockers({ modelReady: true, settings: texts, fieldErrors: { nsamples: 'calibration windows must be a whole number' }, plan: plan({ fitError: 'use fewer calibration windows (now 65536)' }) }))
      .toEqual(['calibration windows must be a whole number']);
    expect(runBlockers({ modelReady: true, settings: texts, fieldErrors: {}, plan: plan({ textError: 'the calibration text gives 10 tokens' }) }))
      .toEqual(['the calibration text gives 10 tokens']);
    expect(runBlockers({ modelReady: true, settings: defaultSettings, fieldErrors: {}, plan: { status: 'loading' } }))
      .toEqual(['choose a calibration text in the settings', 'add at least one evaluation text in the settings']);
    expect(runBlockers({ modelReady: true, settings: texts, fieldErrors: {}, plan: { status: 'error', error: { kind: 'model', message: 'no' } } }))
      .toEqual(['the plan failed: no']);
    // A plan worked out for other settings (just changed) does not count, refusal or not: it is
    // pending, which does not block (Run asks for the plan at once and starts when it comes).
    const edited = { ...texts, nsamples: 4 };
    expect(runBlockers({ modelReady: true, settings: edited, fieldErrors: {}, plan: plan({ fitError: 'too big' }) })).toEqual([]);
    expect(planPending(plan({ fitError: 'too big' }), edited)).toBe(true);
    expect(planPending(plan(), texts)).toBe(false);
    expect(planPending({ status: 'loading' }, texts)).toBe(true);
    expect(planPending({ status: 'idle' }, texts)).toBe(true);
    expect(planPending({ status: 'error', error: { kind: 'model', message: 'no' } }, texts)).toBe(false);
  });

  it('refuses static groups with one group per row as the CLI does (they would change nothing), blocking Run and Compare with why', () => {
    const perRow = { ...texts, groupSize: -1, staticGroups: true };
    const why = staticGroupsRule(perRow);
    expect(why).toBe('static groups fixes each group\'s grid before GPTQ updates the weights, but with one group per row (group size −1) '
      + 'there are no groups, so it would change nothing: choose a group size or untick static groups');
    expect(staticGroupsRule({ groupSize: 128, staticGroups: true })).toBeNull();
    expect(staticGroupsRule({ groupSize: -1, staticGroups: false })).toBeNull();
    expect(runBlockers({ modelReady: true, settings: perRow, fieldErrors: {}, plan: plan({}, perRow) })).toEqual([why]);
    const grouped = { ...perRow, groupSize: 32 };
    expect(runBlockers({ modelReady: true, settings: grouped, fieldErrors: {}, plan: plan({}, grouped) })).toEqual([]);
    const sweepPlan = { status: 'ready' as const, refusals: [], forStrategies: '4g32', forSettings: perRow, forLoad: 1 };
    expect(compareBlockers({ modelReady: true, loadId: 1, settings: perRow, fieldErrors: {}, strategies: '4g32', seeds: 1, sweepPlan, runActive: false }).blockers)
      .toEqual([why]);
  });

  it('sets the demo texts aside for another model, and prompts each model with text it can continue', () => {
    const demo = { name: 'kjv', text: 'a', demo: true };
    const mine = { name: 'mine', text: 'b' };
    expect(withoutDemoTexts({ calibration: demo, evaluations: [demo, mine] })).toEqual({ calibration: null, evaluations: [mine] });
    expect(withoutDemoTexts({ calibration: mine, evaluations: [] })).toEqual({ calibration: mine, evaluations: [] });
    expect(samplePrompt('demo')).toMatch(/^In the beginning/);
    expect(samplePrompt('files')).toBe('Once upon a time');
  });

  it('names a picked folder by its name and leaves loose files to the config or the user', () => {
    const inFolder = new File(['{}'], 'config.json');
    Object.defineProperty(inFolder, 'webkitRelativePath', { value: 'stories260K/config.json' });
    expect(modelNameOf([inFolder])).toBe('stories260K');
    expect(modelNameOf([new File(['{}'], 'config.json')])).toBeNull();
  });
});
