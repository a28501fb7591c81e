import { useId } from 'react';
import type { WalkOptions } from '../../../core/lessons/layer-walk';
import { NumberField } from '../NumberField';

const BITS = [2, 3, 4] as const;
/** Seeds a re-roll draws from. */
const SEED_MAX = 100_000;

/** Seed (typed or re-rolled), bits, symmetric grid and act-order. */
export function WalkControls({ options: o, onChange }: { options: WalkOptions; onChange(o: WalkOptions): void }) {
  const bitsId = useId();
  return (
    <fieldset className="control-group">
      <legend>The layer and the grid</legend>
      <NumberField label="seed" value={o.seed} step={1} min={0} max={SEED_MAX} testId="l3-seed" onCommit={(seed) => Number.isInteger(seed) && onChange({ ...o, seed })} />
      <button type="button" data-testid="l3-reroll" onClick={() => onChange({ ...o, seed: Math.floor(Math.random() * SEED_MAX) })}>
        Re-roll the layer
      </button>
      <span className="number-field">
        <label htmlFor={bitsId}>bits</label>
        <select id={bitsId} value={o.bits} data-testid="l3-bits" onChange={(e) => onChange({ ...o, bits: Number(e.target.value) })}>
          {BITS.map((b) => (
            <option key={b} value={b}>{b}</option>
          ))}
        </select>
      </span>
      <label className="check">
        <input type="checkbox" checked={o.sym} data-testid="l3-sym" onChange={(e) => onChange({ ...o, sym: e.target.checked })} /> symmetric grid
      </label>
      <label className="check">
        <input type="checkbox" checked={o.actOrder} data-testid="l3-actorder" onChange={(e) => onChange({ ...o, actOrder: e.target.checked })} /> act-order
      </label>
    </fieldset>
  );
}
