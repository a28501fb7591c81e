import type { Dispatch } from 'react';
import { num } from '../fmt';
import { NumberField } from '../NumberField';
import { MAX_INPUTS, type ToyAction } from './state';

/** The calibration inputs x_t, editable, with the original output W·x_t of each. */
export function InputsEditor({ inputs, target, dispatch }: { inputs: number[][]; target: number[]; dispatch: Dispatch<ToyAction> }) {
  return (
    <div className="l1-inputs">
      <table className="facts">
        <caption>Calibration inputs and the original outputs</caption>
        <thead>
          <tr>
            <th scope="col">Input</th>
            <th scope="col">first entry</th>
            <th scope="col">second entry</th>
            <th scope="col">W·x</th>
            <th scope="col"><span className="visually-hidden">Remove</span></th>
          </tr>
        </thead>
        <tbody>
          {inputs.map((x, t) => (
            <tr key={t}>
              <th scope="row">x{t + 1}</th>
              {x.map((v, i) => (
                <td key={i}>
                  <NumberField
                    hideLabel
                    label={`x${t + 1}, entry ${i + 1}`}
                    value={v}
                    step={0.5}
                    min={-20}
                    max={20}
                    testId={`l1-x${t + 1}-${i + 1}`}
                    onCommit={(value) => dispatch({ type: 'set-input', input: t, index: i, value })}
                  />
                </td>
              ))}
              <td className="num" data-testid={`l1-target-${t + 1}`} data-value={target[t]}>
                {num(target[t])}
              </td>
              <td>
                <button
                  type="button"
                  disabled={inputs.length <= 1}
                  aria-label={`Remove input x${t + 1}`}
                  onClick={() => dispatch({ type: 'remove-input', input: t })}
                >
                  Remove
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <button type="button" disabled={inputs.length >= MAX_INPUTS} onClick={() => dispatch({ type: 'add-input' })}>
        Add an input
      </button>
    </div>
  );
}
