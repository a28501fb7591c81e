import { useEffect, useId, useState } from 'react';

interface OptionalNumberFieldProps {
  label: string;
  /** null = the default (the field is empty). */
  value: number | null;
  onCommit(value: number | null): void;
  /** Shown in the empty field, and in the hint: what empty means. */
  placeholder: string;
  hint: string;
  min?: number;
  testId?: string;
}

/** A labelled whole-number input where empty means "the default" (null); invalid text stays, marked. */
export function OptionalNumberField({ label, value, onCommit, placeholder, hint, min = 1, testId }: OptionalNumberFieldProps) {
  const id = useId();
  const hintId = useId();
  const text = (v: number | null) => (v === null ? '' : String(v));
  const [draft, setDraft] = useState(text(value));
  useEffect(() => {
    setDraft((d) => ((d.trim() === '' ? value === null : Number(d) === value) ? d : text(value)));
  }, [value]);
  const accepts = (t: string) => {
    const n = Number(t);
    return t.trim() === '' || (Number.isInteger(n) && n >= min);
  };
  return (
    <span className="number-field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="number"
        min={min}
        step={1}
        value={draft}
        placeholder={placeholder}
        aria-describedby={hintId}
        aria-invalid={!accepts(draft)}
        data-testid={testId}
        data-value={value ?? ''}
        onChange={(e) => {
          const t = e.target.value;
          setDraft(t);
          if (accepts(t)) onCommit(t.trim() === '' ? null : Number(t));
        }}
        onBlur={() => { if (!accepts(draft)) setDraft(text(value)); }}
      />
      <span id={hintId} className="hint">{hint}</span>
    </span>
  );
}
