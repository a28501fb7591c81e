import { useMemo } from 'react';
import { Area, AreaChart, CartesianGrid, Tooltip, XAxis, YAxis } from 'recharts';
import { fmtNumber, fmtSci } from '../format';
import { axisTitle, integerAxis, linearAxis, logAxis, xAxisProps, yAxisProps } from '../charts/axis';
import { diagSeries } from './chart-data';

const STYLE = { width: '100%', height: 190 };
const MARGIN = { top: 4, right: 16, bottom: 4, left: 8 };

/**
 * diag(H) along the columns (the largest per point when there are many), with its range in words;
 * in act-order (the order GPTQ quantized the columns) when `order` is given, as the heatmap above.
 */
export function DiagChart({ diag, order, label }: { diag: Float32Array; order: Int32Array | null; label: string }) {
  const s = useMemo(() => diagSeries(diag, 256, order), [diag, order]);
  const log = s.ratio !== null;
  const y = useMemo(() => (log ? logAxis(s.points.map((p) => p.plot)) : linearAxis(s.points.map((p) => p.value), { withZero: true })), [s, log]);
  const x = useMemo(() => integerAxis([0, Math.max(0, s.cols - 1)]), [s.cols]);
  return (
    <div className="diag" data-testid="diag-chart" data-order={s.actOrder ? 'act-order' : 'original'} data-first={s.points[0]?.value ?? ''}>
      <p data-testid="diag-summary" data-min={s.min} data-max={s.max} data-ratio={s.ratio ?? ''}>
        diag(H) of {label} over {fmtNumber(s.cols)} columns: min {fmtSci(s.min)}, max {fmtSci(s.max)}, mean {fmtSci(s.mean)}
        {s.ratio !== null ? `; max / min = ${fmtSci(s.ratio)}` : '; some columns are 0 (inputs that were zero on every calibration token)'}.
        {s.actOrder ? ' Columns in act-order, as GPTQ quantized them (decreasing diag(H)).' : ''}
        {s.bucket > 1 ? ` Each point is the largest of ${s.bucket} columns.` : ''}
      </p>
      <div className="chart">
        <AreaChart responsive style={STYLE} data={s.points} title={`diag(H) of ${label}`} margin={MARGIN}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="col" {...xAxisProps(x, s.actOrder ? 'position in act-order' : 'input column')} />
          <YAxis {...yAxisProps(y, axisTitle('diag(H)', log ? 'log scale' : undefined), log ? 'log' : 'linear')} />
          <Tooltip formatter={(v) => fmtSci(Number(v))} labelFormatter={(c) => (s.actOrder ? `position ${c} in act-order` : `column ${c}`)} />
          <Area dataKey="plot" name="diag(H)" stroke="#2563ab" fill="#cfdcef" isAnimationActive={false} baseValue={log ? y.domain[0] : 0} />
        </AreaChart>
      </div>
    </div>
  );
}
