import { useMemo } from 'react';
import { CartesianGrid, ComposedChart, ErrorBar, Legend, Line, Scatter, Tooltip, XAxis, YAxis } from 'recharts';
import type { TooltipContentProps } from 'recharts';
import type { SeedSpread, SweepRunReport } from '../../../core/sweep';
import { SWEEP_METHODS } from '../../../core/sweep';
import { axisTitle, xAxisProps, yAxisProps } from '../../charts/axis';
import { useStudioStore } from '../../store';
import { fmtSci } from '../../format';
import {
  firstText, frontLine, METHOD_COLOUR, METRIC_TITLE, spreadText, sweepAxes, sweepPoints, sweepTableRows, type SweepMetric, type SweepPoint,
} from '../sweep-data';

function PointTooltip({ active, payload }: TooltipContentProps) {
  const p = active ? (payload?.[0]?.payload as SweepPoint | undefined) : undefined;
  if (!p || !('errorY' in p)) return null;
  return (
    <div className="chart-tooltip">
      <strong>{p.label}</strong>
      <div>{p.bpw.toFixed(3)} bits per weight</div>
      <div>mean {fmtSci(p.y)}{p.n > 1 ? ` · ${p.n} seeds from ${fmtSci(p.low)} to ${fmtSci(p.high)}` : ''}</div>
      {p.onFront && <div>on the Pareto front</div>}
    </div>
  );
}

/** A mean over seeds with the range below it (two or more seeds). */
function SpreadCell({ s }: { s: SeedSpread | null }) {
  if (!s) return <td className="num not-measured">not measured</td>;
  return (
    <td className="num" title={spreadText(s)}>
      {fmtSci(s.mean)}
      {s.n > 1 && <span className="hint range">{fmtSci(s.min)}–{fmtSci(s.max)}</span>}
    </td>
  );
}

/** A strategy's point: a circle (ringed when on the front), named for tests and screen readers. */
function PointShape(props: unknown) {
  const { cx, cy, payload, fill } = props as { cx?: number; cy?: number; fill?: string; payload: SweepPoint };
  if (cx === undefined || cy === undefined || !Number.isFinite(cx) || !Number.isFinite(cy)) return <g />;
  return (
    <circle cx={cx} cy={cy} r={payload.onFront ? 6 : 5} fill={fill} stroke={payload.onFront ? '#1d2127' : '#fff'} strokeWidth={payload.onFront ? 2 : 1}
      data-testid="sweep-point" data-label={payload.label} data-front={String(payload.onFront)}>
      <title>{`${payload.label}: ${payload.bpw.toFixed(3)} bits per weight, ${fmtSci(payload.y)}`}</title>
    </circle>
  );
}

/**
 * Every strategy as a point of (bits per weight, mean perplexity or KLD over seeds on the first
 * evaluation text), the min–max over seeds as its error bar, the Pareto front as a dashed line,
 * and the same numbers in a table beside it.
 */
export function SweepChart({ report, metric }: { report: SweepRunReport; metric: SweepMetric }) {
  const points = useMemo(() => sweepPoints(report, metric), [report, metric]);
  const front = useMemo(() => frontLine(points), [points]);
  const axes = useMemo(() => sweepAxes(points), [points]);
  const rows = useMemo(() => sweepTableRows(report, metric), [report, metric]);
  const text = firstText(report);
  const original = report.sweep.original[text];
  const setMetric = (m: SweepMetric) => useStudioStore.getState().updateSweepForm({ metric: m });

  return (
    <div className="sweep-chart-row">
      <figure className="sweep-figure" data-testid="sweep-chart" data-metric={metric} data-points={points.length} data-front={front.length}
        data-y-scale={axes.yScale}>
        <figcaption>
          <strong>{metric === 'perplexity' ? 'Perplexity' : 'KL divergence'} against bits per weight</strong> on {text}
          {' '}
          <span className="metric-toggle" role="group" aria-label="Measure">
            <label className="check"><input type="radio" name="sweep-metric" checked={metric === 'perplexity'} data-testid="sweep-metric-perplexity"
              onChange={() => setMetric('perplexity')} />perplexity</label>
            <label className="check"><input type="radio" name="sweep-metric" checked={metric === 'kld'} data-testid="sweep-metric-kld"
              onChange={() => setMetric('kld')} />KLD</label>
          </span>
        </figcaption>
        {points.length === 0 ? (
          <p>No strategy was measured.</p>
        ) : (
          <div className="chart">
            <ComposedChart responsive style={{ width: '100%', height: 340 }} margin={{ top: 20, right: 16, bottom: 8, left: 8 }}
              title={`${METRIC_TITLE[metric]} against bits per weight, one point per strategy, Pareto front dashed`}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="bpw" {...xAxisProps(axes.x, axisTitle('bits per weight', 'qweight, qzeros, scales, g_idx'))} />
              <YAxis dataKey="y" {...yAxisProps(axes.y, axisTitle(METRIC_TITLE[metric], axes.yScale === 'log' ? 'log scale' : undefined), axes.yScale)} />
              <Tooltip content={PointTooltip} />
              <Legend verticalAlign="top" height={24} />
              <Line data={front} dataKey="y" name="Pareto front" stroke="#1d2127" strokeDasharray="6 4" dot={false} isAnimationActive={false}
                legendType="plainline" className="sweep-front" />
              {SWEEP_METHODS.filter((m) => points.some((p) => p.method === m)).map((m) => (
                <Scatter key={m} name={m.toUpperCase()} data={points.filter((p) => p.method === m)} dataKey="y" fill={METHOD_COLOUR[m]}
                  shape={PointShape} isAnimationActive={false}>
                  <ErrorBar dataKey="errorY" direction="y" width={8} stroke={METHOD_COLOUR[m]} strokeWidth={1.5} />
                </Scatter>
              ))}
            </ComposedChart>
          </div>
        )}
        <p className="note">
          Each point is a strategy's mean over {report.sweep.seeds.length} {report.sweep.seeds.length === 1 ? 'seed' : 'seeds'}
          {report.sweep.seeds.length > 1 ? '; its bar runs from the lowest to the highest seed' : ''}. The dashed line joins
          the Pareto front: no other strategy is both smaller and better. The original model's perplexity is {fmtSci(original)}.
          Bits per weight count everything the file stores for the quantized linears ({report.sweep.bpwCovers}).
        </p>
      </figure>
      <div className="table-scroll sweep-table">
        <table className="facts compact" data-testid="sweep-table">
          <caption className="visually-hidden">Strategies: bits per weight, perplexity and divergence on {text}</caption>
          <thead>
            <tr>
              <th scope="col">strategy</th><th scope="col" title="bits per weight">bits/w</th><th scope="col">perplexity</th><th scope="col">KLD</th>
              <th scope="col" title="tokens whose top-1 prediction is the original's">top-1</th>
              <th scope="col" title="RMS change in the probability of the correct token">Δp</th><th scope="col" title="on the Pareto front">front</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => {
              const m = metric === 'perplexity' ? r.perplexity : r.kld;
              return (
                <tr key={r.label} data-testid={`sweep-row-${r.label}`} data-bpw={r.bpw} data-y={m?.mean ?? ''} data-front={String(r.onFront)}>
                  <th scope="row" title={r.notExportable ?? undefined}>
                    <span className="swatch" style={{ background: METHOD_COLOUR[r.method] }} aria-hidden="true" />{r.label}
                  </th>
                  <td className="num">{r.bpw.toFixed(3)}</td>
                  <SpreadCell s={r.perplexity} />
                  <SpreadCell s={r.kld} />
                  <td className="num">{r.top1 === null ? '—' : `${(100 * r.top1).toFixed(1)}%`}</td>
                  <td className="num">{r.dpRms === null ? '—' : `${(100 * r.dpRms).toFixed(2)}%`}</td>
                  <td>{r.onFront ? 'yes' : ''}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </div>
  );
}
