import { useId, useState } from 'react';
import { fmtNumber } from '../format';
import { useStudioStore } from '../store';
import type { TextChoice } from '../store';
import { useDemoTexts, useModel, usePlan, useSettings } from '../store/hooks';
import { SettingField } from './SettingField';
import { wholeRule } from './run-settings';

const windowsRule = wholeRule('windows per text', 1, true);

/** `name`, or `name (2)`, `name (3)`… so that perplexities (kept by text name) never collide. */
function uniqueName(name: string, taken: readonly TextChoice[]): string {
  const names = new Set(taken.map((t) => t.name));
  if (!names.has(name)) return name;
  let k = 2;
  while (names.has(`${name} (${k})`)) k++;
  return `${name} (${k})`;
}

function add(texts: TextChoice[]) {
  const current = useStudioStore.getState().settings.evaluations;
  const next = [...current];
  for (const t of texts) next.push({ ...t, name: uniqueName(t.name, next) });
  useStudioStore.getState().updateSettings({ evaluations: next });
}

/** The texts perplexity is measured on after the run (original, RTN and GPTQ models). */
export function EvaluationTexts() {
  const s = useSettings();
  const fileId = useId();
  const nameId = useId();
  const pasteId = useId();
  const [name, setName] = useState('');
  const [pasted, setPasted] = useState('');
  const model = useModel();
  const plan = usePlan();
  const demoTexts = useDemoTexts();
  const windows = plan.status === 'ready' ? plan.plan.evalWindows : null;
  const otherModel = model.status === 'ready' && model.source !== 'demo';
  const demoMissing = (demoTexts ?? []).slice(1).filter((d) => !s.evaluations.some((t) => t.text === d.text));

  const fromFiles = async (list: FileList | null) => {
    const files = Array.from(list ?? []);
    add(await Promise.all(files.map(async (f) => ({ name: f.name, text: await f.text() }))));
  };
  const remove = (i: number) =>
    useStudioStore.getState().updateSettings({ evaluations: s.evaluations.filter((_, k) => k !== i) });

  return (
    <fieldset className="control-group evaluation">
      <legend>Evaluation texts</legend>
      {s.evaluations.length === 0 ? (
        <p className="current-text" data-testid="evaluation-texts" data-count={0}>No evaluation text yet: add at least one.</p>
      ) : (
        <ul className="text-list" data-testid="evaluation-texts" data-count={s.evaluations.length}>
          {s.evaluations.map((t, i) => (
            <li key={`${t.name}-${i}`} data-demo={String(!!t.demo)}>
              <span>
                {t.name} <span className="hint">({fmtNumber(t.text.length)} characters{windows && windows[i] !== undefined ? `; ${windows[i]} window${windows[i] === 1 ? '' : 's'}` : ''})</span>
                {t.demo && otherModel && <span className="warning-inline"> the demo’s text, written for the demo model</span>}
              </span>{' '}
              <button type="button" data-testid={`evaluation-remove-${i}`} aria-label={`Remove ${t.name}`} onClick={() => remove(i)}>
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      {demoMissing.length > 0 && (
        <button type="button" data-testid="evaluation-demo" onClick={() => add(demoMissing)}>
          Add the demo’s evaluation texts{otherModel ? ' (written for the demo model)' : ''}
        </button>
      )}
      <SettingField
        field="evalWindows"
        label="Windows per text"
        value={s.evalWindows}
        rule={windowsRule}
        onCommit={(v) => useStudioStore.getState().updateSettings({ evalWindows: v })}
        placeholder="all"
        hint="empty = all; a number measures only the first ones (faster)"
        testId="eval-windows"
      />
      <span className="file-field">
        <label htmlFor={fileId}>Add .txt files</label>
        <input id={fileId} type="file" multiple accept=".txt,text/plain" data-testid="evaluation-file"
          onChange={(e) => { void fromFiles(e.target.files); e.target.value = ''; }} />
      </span>
      <div className="paste">
        <label htmlFor={nameId}>Or paste one, named</label>
        <input id={nameId} type="text" value={name} placeholder="pasted text" data-testid="evaluation-paste-name"
          onChange={(e) => setName(e.target.value)} />
        <label htmlFor={pasteId} className="visually-hidden">Evaluation text</label>
        <textarea id={pasteId} rows={3} value={pasted} data-testid="evaluation-paste" onChange={(e) => setPasted(e.target.value)} />
        <button
          type="button"
          disabled={pasted.trim() === ''}
          data-testid="evaluation-add-paste"
          onClick={() => {
            add([{ name: name.trim() || 'pasted text', text: pasted }]);
            setName('');
            setPasted('');
          }}
        >
          Add the pasted text
        </button>
      </div>
    </fieldset>
  );
}
