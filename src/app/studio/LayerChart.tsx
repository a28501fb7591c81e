import { useMemo } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ReferenceLine, Tooltip, XAxis, YAxis } from 'recharts';
import type { TooltipContentProps } from 'recharts';
import { fmtSci } from '../format';
import { useStudioStore } from '../store';
import { useRun, useSelectedLayer } from '../store/hooks';
import { dampingText, inspectedLayer, layerRows } from './chart-data';
import type { LayerRow } from './chart-data';

const select = (key: string) => useStudioStore.getState().selectLayer(key);

function LayerTooltip({ active, payload }: TooltipContentProps) {
  const row = active ? (payload?.[0]?.payload as LayerRow | undefined) : undefined;
  if (!row) return null;
  return (
    <div className="chart-tooltip">
      <strong>{row.label}</strong> <span>{row.shape}</span>
      <div>GPTQ output MSE {fmtSci(row.gptq)} · RTN {fmtSci(row.rtn)}</div>
      <div>GPTQ loss {row.loss === null ? '—' : fmtSci(row.loss)}</div>
      <div>{dampingText(row)}</div>
      <div>{row.seconds.toFixed(2)} s</div>
    </div>
  );
}

/**
 * Output MSE of every finished linear, GPTQ against RTN, on a log scale in run order; it fills in
 * as the run goes. Clicking a point (or a row of the table) inspects that layer.
 */
export function LayerChart() {
  const run = useRun();
  const selected = useSelectedLayer();
  const rows = useMemo(() => layerRows(run.layers), [run.layers]);
  const current = inspectedLayer(selected, run.layers);
  const currentLabel = rows.find((r) => r.key === current)?.label;

  return (
    <section className="panel" data-testid="layer-chart" data-count={rows.length}>
      <h2>Output error per layer</h2>
      <p className="note">
        Mean squared difference between each linear's outputs and the original ones on the calibration inputs, for GPTQ
        and for round-to-nearest (log scale). Click a point to look inside that layer.
      </p>
      {rows.length === 0 ? (
        <p>No layer has finished yet.</p>
      ) : (
        <div className="chart">
          <LineChart
            responsive
            style={{ width: '100%', height: 280 }}
            data={rows}
            title="Output MSE per layer, GPTQ and RTN, log scale"
            margin={{ top: 8, right: 16, bottom: 8, left: 8 }}
            onClick={(state) => {
              const i = Number(state.activeTooltipIndex ?? state.activeIndex);
              if (Number.isInteger(i) && rows[i]) select(rows[i].key);
            }}
          >
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="label" interval="preserveStartEnd" tick={{ fontSize: 11 }} />
            <YAxis scale="log" domain={['auto', 'auto']} allowDataOverflow tickFormatter={(v: number) => fmtSci(v)} width={64} />
            <Tooltip content={LayerTooltip} />
            <Legend />
            {currentLabel && <ReferenceLine x={currentLabel} stroke="#888" strokeDasharray="4 3" />}
            <Line dataKey="gptqPlot" name="GPTQ" stroke="#2563ab" dot={rows.length <= 80} isAnimationActive={false} />
            <Line dataKey="rtnPlot" name="RTN" stroke="#c0392b" dot={rows.length <= 80} isAnimationActive={false} />
          </LineChart>
        </div>
      )}
      {rows.length > 0 && (
        <details>
          <summary>Table</summary>
          <div className="table-scroll">
            <table className="facts compact" data-testid="layer-table">
              <caption className="visually-hidden">Output MSE per layer</caption>
              <thead>
                <tr>
                  <th scope="col">layer</th><th scope="col">shape</th><th scope="col">GPTQ MSE</th><th scope="col">RTN MSE</th>
                  <th scope="col">GPTQ / RTN</th><th scope="col">GPTQ loss</th><th scope="col">damping</th><th scope="col">seconds</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <tr key={r.key} className={r.key === current ? 'now' : undefined} data-testid={`layer-row-${r.key}`}>
                    <th scope="row">
                      <button type="button" className="link" aria-pressed={r.key === current} onClick={() => select(r.key)}>{r.label}</button>
                    </th>
                    <td className="num">{r.shape}</td>
                    <td className="num" data-value={r.gptq}>{fmtSci(r.gptq)}</td>
                    <td className="num" data-value={r.rtn}>{fmtSci(r.rtn)}</td>
                    <td className="num">{r.ratio === null ? '—' : fmtSci(r.ratio)}</td>
                    <td className="num">{r.loss === null ? '—' : fmtSci(r.loss)}</td>
                    <td>{dampingText(r)}</td>
                    <td className="num">{r.seconds.toFixed(2)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </details>
      )}
    </section>
  );
}
