import { useEffect, useId, useState } from 'react';

interface NumberFieldProps {
  label: string;
  value: number;
  /** Called with every valid number typed; invalid text stays in the field, marked. */
  onCommit(value: number): void;
  min?: number;
  max?: number;
  step?: number;
  testId?: string;
  /** Hide the label visually (it stays for screen readers). */
  hideLabel?: boolean;
}

/** A labelled number input that keeps what is being typed until it is a valid number. */
export function NumberField({ label, value, onCommit, min, max, step = 0.01, testId, hideLabel }: NumberFieldProps) {
  const id = useId();
  const [draft, setDraft] = useState(String(value));
  useEffect(() => {
    setDraft((d) => (Number(d) === value && d.trim() !== '' ? d : String(value)));
  }, [value]);
  const parsed = draft.trim() === '' ? NaN : Number(draft);
  const valid = Number.isFinite(parsed) && (min === undefined || parsed >= min) && (max === undefined || parsed <= max);
  return (
    <span className="number-field">
      <label htmlFor={id} className={hideLabel ? 'visually-hidden' : undefined}>
        {label}
      </label>
      <input
        id={id}
        type="number"
        inputMode="decimal"
        value={draft}
        min={min}
        max={max}
        step={step}
        aria-invalid={!valid}
        data-testid={testId}
        data-value={value}
        onChange={(e) => {
          const text = e.target.value;
          setDraft(text);
          const v = text.trim() === '' ? NaN : Number(text);
          if (Number.isFinite(v) && (min === undefined || v >= min) && (max === undefined || v <= max)) onCommit(v);
        }}
        onBlur={() => {
          if (!valid) setDraft(String(value));
        }}
      />
    </span>
  );
}
