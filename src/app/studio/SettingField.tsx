import { useEffect, useId, useState } from 'react';
import { useStudioStore } from '../store';

interface SettingFieldProps {
  /** The key this field's error is kept under (the run is disabled while any field has one). */
  field: string;
  label: string;
  /** The value the settings hold; null = the default (the field is empty). */
  value: number | null;
  /** Why `text` is not a valid value, or null when it is. */
  rule(text: string): string | null;
  /** Called with each valid value typed (null for an empty optional field). */
  onCommit(value: number | null): void;
  /** Shows a value in the field (e.g. a fraction as a percentage). */
  show?: (value: number) => string;
  /** Reads a valid text back into the value (default Number). */
  parse?: (text: string) => number;
  placeholder?: string;
  hint?: string;
  testId?: string;
}

/**
 * A number field of the run settings. What is typed stays as typed: a valid value goes into the
 * settings, an invalid one is marked with its reason beside the field and keeps the run disabled
 * (it never falls back silently to the last valid value).
 */
export function SettingField({ field, label, value, rule, onCommit, show = String, parse = Number, placeholder, hint, testId }: SettingFieldProps) {
  const id = useId();
  const hintId = useId();
  const text = (v: number | null) => (v === null ? '' : show(v));
  const [draft, setDraft] = useState(text(value));
  useEffect(() => {
    // Follow the settings when they change from elsewhere (a model's defaults), unless the draft already says it.
    setDraft((d) => (rule(d) === null && (d.trim() === '' ? value === null : parse(d) === value) ? d : text(value)));
  }, [value]); // eslint-disable-line react-hooks/exhaustive-deps
  const error = rule(draft);
  useEffect(() => {
    useStudioStore.getState().setFieldError(field, error);
  }, [field, label, error]);
  useEffect(() => () => useStudioStore.getState().setFieldError(field, null), [field]);
  return (
    <span className="number-field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="text"
        inputMode="decimal"
        autoComplete="off"
        value={draft}
        placeholder={placeholder}
        aria-invalid={error !== null}
        aria-describedby={hintId}
        data-testid={testId}
        data-value={value ?? ''}
        onChange={(e) => {
          const t = e.target.value;
          setDraft(t);
          if (rule(t) === null) onCommit(t.trim() === '' ? null : parse(t));
        }}
      />
      <span id={hintId} className={error ? 'hint field-error' : 'hint'} data-testid={testId ? `${testId}-error` : undefined} role={error ? 'alert' : undefined}>
        {error ?? hint ?? ''}
      </span>
    </span>
  );
}
