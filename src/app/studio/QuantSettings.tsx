import { useId, useState } from 'react';
import { useStudioStore } from '../store';
import type { SettingsSlice } from '../store';
import { useSettings } from '../store/hooks';
import { SettingField } from './SettingField';
import { dampingRule, staticGroupsRule, wholeRule } from './run-settings';

const BITS = [2, 3, 4, 5, 6, 7, 8];
const GROUP_SIZES = [-1, 32, 64, 128, 256];
const CUSTOM = 'custom';

const update = (patch: Partial<SettingsSlice>) => useStudioStore.getState().updateSettings(patch);

/** Damping is kept as a fraction and shown in percent, without float noise (0.07 → 7, not 7.000000000000001). */
const percent = (fraction: number) => String(Number((fraction * 100).toPrecision(10)));
const groupRule = wholeRule('group size', 1);

/** How each weight is rounded: bits, groups, grid, column order, damping, sequencing, clipping search. */
export function QuantSettings() {
  const s = useSettings();
  const bitsId = useId();
  const groupId = useId();
  const gridName = useId();
  const staticErrorId = useId();
  // Refused with one group per row, the way the CLI refuses --static-groups with --group-size -1;
  // the box stays ticked and enabled (untick it, or choose a group size), and Run says why it waits.
  const staticError = staticGroupsRule(s);
  const [customGroup, setCustomGroup] = useState(false);
  const custom = customGroup || !GROUP_SIZES.includes(s.groupSize);
  return (
    <fieldset className="control-group">
      <legend>Quantization</legend>
      <span className="field">
        <label htmlFor={bitsId}>Bits</label>
        <select id={bitsId} value={s.bits} data-testid="bits" onChange={(e) => update({ bits: Number(e.target.value) })}>
          {BITS.map((b) => <option key={b} value={b}>{b}</option>)}
        </select>
      </span>
      <span className="field">
        <label htmlFor={groupId}>Group size</label>
        <select
          id={groupId}
          value={custom ? CUSTOM : s.groupSize}
          data-testid="group-size"
          onChange={(e) => {
            if (e.target.value === CUSTOM) {
              setCustomGroup(true);
              return;
            }
            setCustomGroup(false);
            update({ groupSize: Number(e.target.value) });
          }}
        >
          {GROUP_SIZES.map((g) => <option key={g} value={g}>{g === -1 ? 'per row (−1)' : g}</option>)}
          <option value={CUSTOM}>custom…</option>
        </select>
      </span>
      {custom && (
        <SettingField field="groupSize" label="Custom group size" value={s.groupSize} rule={groupRule} testId="group-size-custom"
          onCommit={(v) => update({ groupSize: v! })} />
      )}
      <span className="field" role="radiogroup" aria-label="Grid">
        <label className="check">
          <input type="radio" name={gridName} checked={s.sym} data-testid="sym" onChange={() => update({ sym: true })} /> symmetric
        </label>
        <label className="check">
          <input type="radio" name={gridName} checked={!s.sym} data-testid="asym" onChange={() => update({ sym: false })} /> asymmetric
        </label>
      </span>
      <label className="check">
        <input type="checkbox" checked={s.actOrder} data-testid="act-order" onChange={(e) => update({ actOrder: e.target.checked })} /> act-order
      </label>
      <label className="check">
        <input type="checkbox" checked={s.staticGroups} data-testid="static-groups" aria-invalid={staticError !== null}
          aria-describedby={staticError ? staticErrorId : undefined} onChange={(e) => update({ staticGroups: e.target.checked })} /> static groups
      </label>
      {staticError && (
        <span id={staticErrorId} className="hint field-error" data-testid="static-groups-error" role="alert">{staticError}</span>
      )}
      <label className="check">
        <input type="checkbox" checked={s.trueSequential} data-testid="true-sequential" onChange={(e) => update({ trueSequential: e.target.checked })} /> true-sequential
      </label>
      <label className="check">
        <input type="checkbox" checked={s.mse} data-testid="mse" onChange={(e) => update({ mse: e.target.checked })} /> MSE clipping search
      </label>
      <SettingField field="percDamp" label="Damping (% of mean diag(H))" value={s.percDamp} rule={dampingRule} testId="damping"
        show={percent} parse={(t) => Number(t) / 100} onCommit={(v) => update({ percDamp: v! })} />
      <p className="note">
        Group size −1 uses one scale per output row. Act-order quantizes columns by decreasing diag(H); static groups
        fixes the group scales up front. True-sequential quantizes each block's linears in forward order, each on the
        inputs left by those before it.
      </p>
    </fieldset>
  );
}
