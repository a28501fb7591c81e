import { useDeferredValue, useId, useMemo } from 'react';
import { useStudioStore } from '../store';
import { useRunPick, useSelectedLayer } from '../store/hooks';
import { inspectedLayer, layerRows } from './chart-data';
import { ErrorHistogram } from './ErrorHistogram';
import { HessianHeatmap } from './HessianHeatmap';
import { RunLabel } from './RunLabel';
import { CHART_INTERVAL_MS, useHeld } from './useHeld';

/** One finished layer up close: its Hessian, diag(H) and the distribution of its weight error. */
export function LayerInspector() {
  // Held and deferred as LayerChart's: the latest layer changes once a second at most while the run goes.
  const live = useRunPick((r) => ({ layers: r.layers, details: r.details, active: r.status === 'running' || r.status === 'cancelling' }));
  const run = useDeferredValue(useHeld(live, live.active ? CHART_INTERVAL_MS : 0));
  const selected = useSelectedLayer();
  const selectId = useId();
  const rows = useMemo(() => layerRows(run.layers), [run.layers]);
  const key = inspectedLayer(selected, run.layers);
  const row = rows.find((r) => r.key === key);
  const detail = key ? run.details[key] : undefined;

  return (
    <section className="panel layer-inspector" data-testid="layer-inspector" data-layer={key ?? ''}>
      <h2>Inside one layer</h2>
      <RunLabel />
      <span className="field">
        <label htmlFor={selectId}>Layer</label>
        <select
          id={selectId}
          data-testid="layer-select"
          value={selected !== null && selected === key ? key : ''}
          disabled={rows.length === 0}
          onChange={(e) => useStudioStore.getState().selectLayer(e.target.value === '' ? null : e.target.value)}
        >
          <option value="">latest finished{row && selected !== key ? ` (${row.label})` : ''}</option>
          {rows.map((r) => <option key={r.key} value={r.key}>{r.label} ({r.shape})</option>)}
        </select>
      </span>
      {!row && <p>No layer has finished yet.</p>}
      {row && !detail && <p className="note">No Hessian or error detail was recorded for {row.label}.</p>}
      {row && detail && (
        <div className="inspector-body">
          <HessianHeatmap detail={detail} label={row.label} />
          <ErrorHistogram detail={detail} label={row.label} />
        </div>
      )}
    </section>
  );
}
