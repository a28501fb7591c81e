import { useMemo } from 'react';
import type { SensitivityMap } from '../../../core/sweep';
import { fmtSci } from '../../format';
import { rampGradient } from '../chart-data';
import { sensitivityGrid } from '../sweep-data';

/**
 * The layer-sensitivity map: every linear (rows, block by block) at each width (columns), GPTQ's
 * output MSE on the same captured inputs, coloured on a log scale; the cells hold the numbers, so
 * the heatmap is its own table.
 */
export function SensitivityHeatmap({ map }: { map: SensitivityMap }) {
  const grid = useMemo(() => sensitivityGrid(map), [map]);
  return (
    <figure className="sweep-figure" data-testid="sensitivity-heatmap" data-rows={grid.rows.length} data-widths={grid.widths.join(',')}>
      <figcaption><strong>Layer sensitivity</strong>: output MSE of each linear at {grid.widths.join(', ')} bits ({map.label}'s settings)</figcaption>
      <div className="ramp-legend" aria-hidden="true">
        <span>{grid.range ? fmtSci(grid.range.min) : '0'}</span>
        <span className="ramp" style={{ background: rampGradient() }} />
        <span>{grid.range ? fmtSci(grid.range.max) : '0'}</span>
      </div>
      <div className="table-scroll sensitivity-scroll">
        <table className="facts compact heat-table" data-testid="sensitivity-table">
          <caption className="visually-hidden">Output MSE per linear and width, log colour scale from dark (small) to yellow (large)</caption>
          <thead>
            <tr><th scope="col">linear</th>{grid.widths.map((w) => <th key={w} scope="col">{w} bits</th>)}</tr>
          </thead>
          <tbody>
            {grid.rows.map((r) => (
              <tr key={r.key} data-testid={`sensitivity-row-${r.key}`}>
                <th scope="row">{r.label}</th>
                {r.cells.map((c) => (
                  <td key={c.bits} className="num heat-cell" data-value={c.value} style={{ background: c.background, color: c.light ? '#fff' : '#1d2127' }}>
                    {c.text}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p className="note">
        Measured in one pass: each linear quantized at every width on the inputs its block received. Rows that stay bright
        at low widths are the linears that most need their bits; the mixed-precision plan below spends bits there first.
      </p>
    </figure>
  );
}
