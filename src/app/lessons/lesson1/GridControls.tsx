import type { Dispatch } from 'react';
import { useId } from 'react';
import type { LessonGrid } from '../../../core/lessons/grid';
import { num } from '../fmt';
import { NumberField } from '../NumberField';
import { BITS_CHOICES, STEP_RANGE, type ToyAction } from './state';

/** Bits, step and zero code of the grid, and the values it allows. */
export function GridControls({ grid, levels, dispatch }: { grid: LessonGrid; levels: number[]; dispatch: Dispatch<ToyAction> }) {
  const bitsId = useId();
  const zeroId = useId();
  return (
    <fieldset className="control-group">
      <legend>Grid</legend>
      <span className="number-field">
        <label htmlFor={bitsId}>bits</label>
        <select
          id={bitsId}
          value={grid.bits}
          data-testid="l1-bits"
          onChange={(e) => dispatch({ type: 'set-bits', bits: Number(e.target.value) })}
        >
          {BITS_CHOICES.map((b) => (
            <option key={b} value={b}>
              {b} ({2 ** b} values)
            </option>
          ))}
        </select>
      </span>
      <NumberField
        label="step"
        value={grid.step}
        min={STEP_RANGE.min}
        max={STEP_RANGE.max}
        step={STEP_RANGE.step}
        testId="l1-step"
        onCommit={(step) => dispatch({ type: 'set-step', step })}
      />
      <span className="number-field">
        <label htmlFor={zeroId}>lowest value</label>
        <select id={zeroId} value={grid.zero} data-testid="l1-zero" onChange={(e) => dispatch({ type: 'set-zero', zero: Number(e.target.value) })}>
          {levels.map((_, code) => (
            <option key={code} value={code}>
              {num(-code * grid.step)}
            </option>
          ))}
        </select>
      </span>
      <p className="note" data-testid="l1-levels" data-value={levels.join(',')}>
        Allowed values: {levels.map(num).join(', ')}. Like the reference quantizer, a value is step·(code − zero)
        for an integer code from 0 to {levels.length - 1}; here zero is code {grid.zero}.
      </p>
    </fieldset>
  );
}
