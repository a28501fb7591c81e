import { useEffect, useId, useState } from 'react';
import { fmtNumber } from '../format';
import { NumberField } from '../lessons/NumberField';
import { useStudioStore } from '../store';
import type { SettingsSlice, TextChoice } from '../store';
import { useModel, useSettings } from '../store/hooks';
import { DEMO_TEXTS } from './demo';
import { OptionalNumberField } from './OptionalNumberField';

const update = (patch: Partial<SettingsSlice>) => useStudioStore.getState().updateSettings(patch);

/** The text GPTQ calibrates on (the demo's, pasted, or a .txt file) and how it is cut into windows. */
export function CalibrationSettings() {
  const s = useSettings();
  const model = useModel();
  const pasteId = useId();
  const fileId = useId();
  const [pasted, setPasted] = useState('');
  // The demo's calibration text, remembered so it can be chosen again after another was used.
  const [demo, setDemo] = useState<TextChoice | null>(null);
  useEffect(() => {
    if (s.calibration?.name === DEMO_TEXTS[0].name) setDemo(s.calibration);
  }, [s.calibration]);

  const fromFile = async (file: File | undefined) => {
    if (file) update({ calibration: { name: file.name, text: await file.text() } });
  };
  const defaultSeqlen = model.status === 'ready' ? model.info.defaultSeqlen : null;

  return (
    <fieldset className="control-group calibration">
      <legend>Calibration</legend>
      <p className="current-text" data-testid="calibration-current" data-value={s.calibration?.name ?? ''}>
        {s.calibration
          ? <>Calibrating on <strong>{s.calibration.name}</strong> ({fmtNumber(s.calibration.text.length)} characters).</>
          : 'No calibration text chosen yet: load the demo model, paste a text or pick a .txt file.'}
      </p>
      {demo && s.calibration !== demo && (
        <button type="button" data-testid="calibration-demo" onClick={() => update({ calibration: demo })}>Use the demo text</button>
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
      <NumberField label="Calibration windows" value={s.nsamples} min={1} step={1} testId="nsamples"
        onCommit={(v) => Number.isInteger(v) && update({ nsamples: v })} />
      <OptionalNumberField
        label="Window length (tokens)"
        value={s.seqlen}
        onCommit={(v) => update({ seqlen: v })}
        placeholder={defaultSeqlen !== null ? String(defaultSeqlen) : 'default'}
        hint={`empty = the model's default${defaultSeqlen !== null ? ` (${fmtNumber(defaultSeqlen)})` : ''}`}
        testId="seqlen"
      />
      <NumberField label="Seed" value={s.seed} min={0} step={1} testId="seed"
        onCommit={(v) => Number.isInteger(v) && update({ seed: v })} />
    </fieldset>
  );
}
