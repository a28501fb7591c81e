import { useId, useState } from 'react';
import { fmtNumber } from '../format';
import { useStudioStore } from '../store';
import type { SettingsSlice } from '../store';
import { useDemoTexts, useModel, usePlan, useSettings } from '../store/hooks';
import { SettingField } from './SettingField';
import { wholeRule } from './run-settings';

const update = (patch: Partial<SettingsSlice>) => useStudioStore.getState().updateSettings(patch);
const nsamplesRule = wholeRule('calibration windows', 1);
const seqlenRule = wholeRule('window length', 1, true);
const seedRule = wholeRule('the seed', 0);

/** The text GPTQ calibrates on (the demo's, pasted, or a .txt file) and how it is cut into windows. */
export function CalibrationSettings() {
  const s = useSettings();
  const model = useModel();
  const pasteId = useId();
  const fileId = useId();
  const [pasted, setPasted] = useState('');
  // The demo's calibration text, kept so it can be chosen again after another was used.
  const demo = useDemoTexts()?.[0] ?? null;
  const plan = usePlan();
  const tokens = plan.status === 'ready' ? plan.plan.tokens.calibration : null;
  const foreign = s.calibration?.demo && model.status === 'ready' && model.source !== 'demo';

  const fromFile = async (file: File | undefined) => {
    if (file) update({ calibration: { name: file.name, text: await file.text() } });
  };
  const defaultSeqlen = model.status === 'ready' ? model.info.defaultSeqlen : null;

  return (
    <fieldset className="control-group calibration">
      <legend>Calibration</legend>
      <p className="current-text" data-testid="calibration-current" data-value={s.calibration?.name ?? ''}>
        {s.calibration
          ? <>Calibrating on <strong>{s.calibration.name}</strong> ({fmtNumber(s.calibration.text.length)} characters{tokens !== null ? `, ${fmtNumber(tokens)} tokens` : ''}).</>
          : 'No calibration text chosen yet: load the demo model, paste a text or pick a .txt file.'}
      </p>
      {foreign && <p className="warning" data-testid="calibration-demo-warning">This is the demo’s text, written for the demo model.</p>}
      {demo && s.calibration?.text !== demo.text && (
        <button type="button" data-testid="calibration-demo" onClick={() => update({ calibration: demo })}>
          Use the demo’s text{model.status === 'ready' && model.source !== 'demo' ? ' (written for the demo model)' : ''}
        </button>
      )}
      <span className="file-field">
        <label htmlFor={fileId}>Calibration .txt file</label>
        <input id={fileId} type="file" accept=".txt,text/plain" data-testid="calibration-file"
          onChange={(e) => { void fromFile(e.target.files?.[0]); e.target.value = ''; }} />
      </span>
      <div className="paste">
        <label htmlFor={pasteId}>Or paste a calibration text</label>
        <textarea id={pasteId} rows={3} value={pasted} data-testid="calibration-paste" onChange={(e) => setPasted(e.target.value)} />
        <button type="button" disabled={pasted.trim() === ''} data-testid="calibration-use-paste"
          onClick={() => update({ calibration: { name: 'pasted text', text: pasted } })}>
          Use the pasted text
        </button>
      </div>
      <SettingField field="nsamples" label="Calibration windows" value={s.nsamples} rule={nsamplesRule} testId="nsamples"
        onCommit={(v) => update({ nsamples: v! })} />
      <SettingField
        field="seqlen"
        label="Window length (tokens)"
        value={s.seqlen}
        rule={seqlenRule}
        onCommit={(v) => update({ seqlen: v })}
        placeholder={defaultSeqlen !== null ? String(defaultSeqlen) : 'default'}
        hint={`empty = the model's context${defaultSeqlen !== null ? ` (${fmtNumber(defaultSeqlen)})` : ''}`}
        testId="seqlen"
      />
      <SettingField field="seed" label="Seed" value={s.seed} rule={seedRule} testId="seed" onCommit={(v) => update({ seed: v! })} />
    </fieldset>
  );
}
