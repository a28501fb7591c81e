import type { Dispatch } from 'react';
import { NumberField } from '../NumberField';
import type { ToyAction } from './state';

/** The row's two weights as number fields, and ways back to the opening row and to the notes' example. */
export function WeightControls({ w, dispatch }: { w: number[]; dispatch: Dispatch<ToyAction> }) {
  return (
    <fieldset className="control-group">
      <legend>Weights W</legend>
      {w.map((v, i) => (
        <NumberField
          key={i}
          label={`w${i + 1}`}
          value={v}
          step={0.01}
          min={-10}
          max={10}
          testId={`l1-w${i + 1}`}
          onCommit={(value) => dispatch({ type: 'set-weight', index: i, value })}
        />
      ))}
      <button type="button" data-testid="l1-notes-example" onClick={() => dispatch({ type: 'reset' })}>
        Back to the notes’ example
      </button>
      <button type="button" data-testid="l1-opening" onClick={() => dispatch({ type: 'opening' })}>
        Back to the opening row
      </button>
    </fieldset>
  );
}
