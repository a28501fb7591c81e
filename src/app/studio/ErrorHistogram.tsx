import { memo, useMemo } from 'react';
import { Bar, BarChart, CartesianGrid, Legend, Tooltip, XAxis, YAxis } from 'recharts';
import type { LayerDetail } from '../../core/layer-detail';
import { fmtNumber, fmtSci } from '../format';
import { axisTitle, countAxis, linearAxis, xAxisProps, yAxisProps } from '../charts/axis';
import { histogramRows, histogramSummary } from './chart-data';

const STYLE = { width: '100%', height: 240 };
const MARGIN = { top: 4, right: 16, bottom: 4, left: 8 };

/** How W − Q is spread for GPTQ and for RTN on the same bins, as bars and as a table; padding the export added is not counted. */
function ErrorHistogramView({ detail, label }: { detail: LayerDetail; label: string }) {
  const errors = detail.errors;
  const rows = useMemo(() => histogramRows(errors), [errors]);
  const s = useMemo(() => histogramSummary(errors), [errors]);
  const x = useMemo(() => linearAxis([errors.edges[0], errors.edges[errors.edges.length - 1]], { withZero: true }), [errors]);
  const y = useMemo(() => countAxis(rows.flatMap((r) => [r.gptq, r.rtn])), [rows]);
  const padded = detail.paddedRows > 0 ? `${detail.paddedRows} padded rows` : detail.paddedCols > 0 ? `${detail.paddedCols} padded columns` : null;
  return (
    <figure className="error-histogram" data-testid="error-histogram" data-bins={rows.length} data-total={s.total}>
      <figcaption><strong>Weight error W − Q of {label}</strong></figcaption>
      <p className="note" data-testid="error-histogram-summary">
        {fmtNumber(s.total)} weights{padded ? ` (the ${padded} the export added are not counted)` : ''}. RMS of W − Q ≈ {fmtSci(s.gptqRms)} for
        GPTQ and {fmtSci(s.rtnRms)} for RTN (from the bins). GPTQ moves weights further than rounding does, to cancel
        their effect on the outputs.
      </p>
      <div className="chart">
        <BarChart responsive style={STYLE} data={rows} title={`Histogram of W − Q for ${label}`} barGap={0} barCategoryGap={0} margin={MARGIN}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="center" {...xAxisProps(x, 'W − Q')} />
          <YAxis {...yAxisProps(y, axisTitle('weights', 'count'))} />
          <Tooltip labelFormatter={(c) => `W − Q ≈ ${x.format(Number(c))}`} />
          <Legend verticalAlign="top" height={24} />
          <Bar dataKey="gptq" name="GPTQ" fill="#2563ab" isAnimationActive={false} />
          <Bar dataKey="rtn" name="RTN" fill="#c0392b" isAnimationActive={false} />
        </BarChart>
      </div>
      <details>
        <summary>Table</summary>
        <div className="table-scroll">
          <table className="facts compact" data-testid="error-histogram-table">
            <caption className="visually-hidden">Weights per bin of W − Q</caption>
            <thead>
              <tr><th scope="col">from</th><th scope="col">to</th><th scope="col">GPTQ</th><th scope="col">RTN</th></tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.from}>
                  <td className="num">{fmtSci(r.from)}</td>
                  <td className="num">{fmtSci(r.to)}</td>
                  <td className="num">{fmtNumber(r.gptq)}</td>
                  <td className="num">{fmtNumber(r.rtn)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}

/** Drawn again only when its layer changes, not on every progress event of a run (see LayerChart's LayerLines). */
export const ErrorHistogram = memo(ErrorHistogramView);
