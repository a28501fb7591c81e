import { useMemo } from 'react';
import { CartesianGrid, Legend, Line, LineChart, Tooltip, XAxis, YAxis } from 'recharts';
import type { SweepRunReport } from '../../../core/sweep';
import { axisTitle, yAxisProps } from '../../charts/axis';
import { fmtSci } from '../../format';
import { layerTicks } from '../chart-data';
import { layerCurves } from '../sweep-data';

/** Every strategy's output MSE per linear (the mean over its seeds), overlaid on one log axis in run order. */
export function StrategyLayerChart({ report }: { report: SweepRunReport }) {
  const curves = useMemo(() => layerCurves(report), [report]);
  const ticks = useMemo(() => layerTicks(curves.rows), [curves]);
  const dots = curves.rows.length <= 80;
  return (
    <figure className="sweep-figure" data-testid="sweep-layer-chart" data-series={curves.series.length} data-layers={curves.rows.length}>
      <figcaption><strong>Output error per layer, every strategy</strong></figcaption>
      <div className="chart">
        <LineChart responsive style={{ width: '100%', height: 320 }} data={curves.rows} margin={{ top: 20, right: 16, bottom: 8, left: 8 }}
          title="Output MSE per layer of every strategy, log scale">
          <CartesianGrid strokeDasharray="3 3" vertical={false} />
          <XAxis dataKey="label" type="category" ticks={ticks.ticks} interval={0} tickFormatter={ticks.format}
            angle={ticks.ticks.length > 16 ? -45 : 0} textAnchor={ticks.ticks.length > 16 ? 'end' : 'middle'}
            height={ticks.ticks.length > 16 ? 56 : 40} tick={{ fontSize: 11 }}
            label={{ value: 'linear, block by block', position: 'insideBottom', fontSize: 12, offset: 0 }} />
          <YAxis {...yAxisProps(curves.y, axisTitle('output MSE', 'log scale'), 'log')} />
          <Tooltip formatter={(v) => fmtSci(Number(v))} />
          <Legend verticalAlign="top" height={24} />
          {curves.series.map((s) => (
            <Line key={s.key} dataKey={s.key} name={s.label} stroke={s.colour} dot={dots} isAnimationActive={false} connectNulls />
          ))}
        </LineChart>
      </div>
      <p className="note">
        Mean squared difference between each linear's outputs and the original ones on the calibration inputs that
        linear saw, for each strategy (the mean over seeds). AWQ's error is that of its scaled grid, unscaled.
      </p>
    </figure>
  );
}
