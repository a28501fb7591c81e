import { useMemo } from 'react';
import { Area, AreaChart, CartesianGrid, Tooltip, XAxis, YAxis } from 'recharts';
import { fmtNumber, fmtSci } from '../format';
import { diagSeries } from './chart-data';

/** diag(H) along the columns (the largest per point when there are many), with its range in words. */
export function DiagChart({ diag, label }: { diag: Float32Array; label: string }) {
  const s = useMemo(() => diagSeries(diag), [diag]);
  const log = s.ratio !== null;
  return (
    <div className="diag">
      <p data-testid="diag-summary" data-min={s.min} data-max={s.max} data-ratio={s.ratio ?? ''}>
        diag(H) of {label} over {fmtNumber(s.cols)} columns: min {fmtSci(s.min)}, max {fmtSci(s.max)}, mean {fmtSci(s.mean)}
        {s.ratio !== null ? `; max / min = ${fmtSci(s.ratio)}` : '; some columns are 0 (inputs that never fire)'}.
        {s.bucket > 1 ? ` Each point is the largest of ${s.bucket} columns.` : ''}
      </p>
      <div className="chart">
        <AreaChart responsive style={{ width: '100%', height: 160 }} data={s.points} title={`diag(H) of ${label}`} margin={{ top: 4, right: 16, bottom: 4, left: 8 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="col" tick={{ fontSize: 11 }} />
          <YAxis scale={log ? 'log' : 'linear'} domain={['auto', 'auto']} allowDataOverflow tickFormatter={(v: number) => fmtSci(v)} width={64} />
          <Tooltip formatter={(v) => fmtSci(Number(v))} labelFormatter={(c) => `column ${c}`} />
          <Area dataKey="plot" name="diag(H)" stroke="#2563ab" fill="#cfdcef" isAnimationActive={false} baseValue={log ? 'dataMin' : 0} />
        </AreaChart>
      </div>
    </div>
  );
}
