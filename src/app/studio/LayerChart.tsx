import { memo, useDeferredValue, useMemo } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ReferenceArea, ReferenceLine, Tooltip, XAxis, YAxis } from 'recharts';
import type { TooltipContentProps } from 'recharts';
import { fmtSci } from '../format';
import { useStudioStore } from '../store';
import { useCompareEntry, useRunPick, useSelectedLayer } from '../store/hooks';
import { axisTitle, logAxis, sameArray, sameAxis, yAxisProps } from '../charts/axis';
import { useStable } from '../charts/useStable';
import { blockBands, comparedRows, dampingText, inspectedLayer, layerTicks, settingsSummary } from './chart-data';
import type { ComparedRow } from './chart-data';
import { RunLabel } from './RunLabel';
import { CHART_INTERVAL_MS, useHeld } from './useHeld';

const select = (key: string) => useStudioStore.getState().selectLayer(key);

function LayerTooltip({ active, payload }: TooltipContentProps) {
  const row = active ? (payload?.[0]?.payload as ComparedRow | undefined) : undefined;
  if (!row) return null;
  return (
    <div className="chart-tooltip">
      <strong>{row.label}</strong> <span>{row.shape}</span>
      {row.gptqPlot !== null && <div>GPTQ output MSE {fmtSci(row.gptq)} · RTN {fmtSci(row.rtn)}</div>}
      {row.gptqPlot !== null && <div>GPTQ loss {row.loss === null ? '—' : fmtSci(row.loss)}</div>}
      {row.gptqPlot !== null && <div>{dampingText(row)}</div>}
      {row.gptqPlot !== null && <div>{row.seconds.toFixed(2)} s</div>}
      {row.cmpGptqPlot !== null && <div>earlier run: GPTQ {fmtSci(row.cmpGptqPlot)} · RTN {fmtSci(row.cmpRtnPlot ?? NaN)}</div>}
    </div>
  );
}

const MARGIN = { top: 20, right: 16, bottom: 8, left: 8 };
const STYLE = { width: '100%', height: 320 };
const X_TICK = { fontSize: 11 };
const X_TITLE = { value: 'linear, block by block', position: 'insideBottom' as const, fontSize: 12, offset: 0 };
const Y_TITLE = axisTitle('output MSE', 'log scale');

/**
 * One block's shading, drawn again only when its span or the Y domain changes (recharts registers
 * a reference area again on every draw of its own; a finished block's band stays as it is).
 */
const BlockBand = memo(function BlockBand({ block, from, to, y1, y2 }: { block: number; from: string; to: string; y1: number; y2: number }) {
  return (
    <ReferenceArea x1={from} x2={to} y1={y1} y2={y2} fill={block % 2 === 0 ? '#c9d6ec' : '#ffffff'}
      fillOpacity={block % 2 === 0 ? 0.35 : 0} strokeOpacity={0} ifOverflow="hidden"
      label={{ value: `block ${block}`, position: 'insideTop', fontSize: 11, fill: '#555' }} />
  );
});

interface LayerLinesProps {
  rows: ComparedRow[];
  bands: ReturnType<typeof blockBands>;
  ticks: ReturnType<typeof layerTicks>;
  y: ReturnType<typeof logAxis>;
  currentLabel: string | undefined;
  own: boolean;
  compare: boolean;
  dots: boolean;
}

/**
 * The chart itself, drawn again only when its rows or the layer inspected change (recharts takes
 * tens of milliseconds a draw, which froze the page during runs). Its props keep their identity
 * while their content stays (constants, useStable axes): recharts registers an element again, with a
 * round of its store's updates, whenever one changes.
 */
const LayerLines = memo(function LayerLines({ rows, bands, ticks, y, currentLabel, own, compare, dots }: LayerLinesProps) {
  const yProps = useMemo(() => yAxisProps(y, Y_TITLE, 'log'), [y]);
  return (
    <div className="chart">
      <LineChart
        responsive
        style={STYLE}
        data={rows}
        title="Output MSE per layer, GPTQ and RTN, log scale"
        margin={MARGIN}
        onClick={(state) => {
          const i = Number(state.activeTooltipIndex ?? state.activeIndex);
          if (Number.isInteger(i) && rows[i] && own) select(rows[i].key);
        }}
      >
        {bands.map((b) => <BlockBand key={b.block} block={b.block} from={b.from} to={b.to} y1={y.domain[0]} y2={y.domain[1]} />)}
        <CartesianGrid strokeDasharray="3 3" vertical={false} />
        <XAxis dataKey="label" type="category" ticks={ticks.ticks} interval={0} tickFormatter={ticks.format}
          angle={ticks.ticks.length > 16 ? -45 : 0} textAnchor={ticks.ticks.length > 16 ? 'end' : 'middle'}
          height={ticks.ticks.length > 16 ? 56 : 40} tick={X_TICK} label={X_TITLE} />
        <YAxis {...yProps} />
        <Tooltip content={LayerTooltip} />
        <Legend verticalAlign="top" height={24} />
        {currentLabel && <ReferenceLine x={currentLabel} stroke="#888" strokeDasharray="4 3" />}
        {own && <Line dataKey="gptqPlot" name="GPTQ" stroke="#2563ab" dot={dots} isAnimationActive={false} connectNulls />}
        {own && <Line dataKey="rtnPlot" name="RTN" stroke="#c0392b" dot={dots} isAnimationActive={false} connectNulls />}
        {compare && <Line dataKey="cmpGptqPlot" name="GPTQ, earlier run" stroke="#2563ab" strokeDasharray="5 4" dot={false} isAnimationActive={false} connectNulls />}
        {compare && <Line dataKey="cmpRtnPlot" name="RTN, earlier run" stroke="#c0392b" strokeDasharray="5 4" dot={false} isAnimationActive={false} connectNulls />}
      </LineChart>
    </div>
  );
});

/**
 * Output MSE of every finished linear, GPTQ against RTN, on a log scale in run order; it fills in
 * as the run goes. Blocks are shaded in turn and named; each layer is labelled by its short name
 * (or each block, when there are many layers). An earlier run opened from the history is drawn
 * dashed beside it. Clicking a point (or a row of the table) inspects that layer.
 */
export function LayerChart() {
  // While the run goes the chart follows it once a second at most (a draw takes tens of
  // milliseconds, hundreds on a busy machine), as a deferred render: the progress and the clock
  // stay live meanwhile.
  const live = useRunPick((r) => ({ layers: r.layers, modelName: r.modelName, active: r.status === 'running' || r.status === 'cancelling' }));
  const run = useDeferredValue(useHeld(live, live.active ? CHART_INTERVAL_MS : 0));
  const selected = useSelectedLayer();
  const compare = useCompareEntry();
  const rows = useMemo(() => comparedRows(run.layers, compare?.layers ?? null), [run.layers, compare]);
  const current = inspectedLayer(selected, run.layers);
  const currentLabel = rows.find((r) => r.key === current)?.label;
  const bands = useMemo(() => blockBands(rows), [rows]);
  // The axes keep their identity while their ticks stay the same (a label names the same layer in every run).
  const ticks = useStable(useMemo(() => layerTicks(rows), [rows]), (a, b) => sameArray(a.ticks, b.ticks));
  const y = useStable(useMemo(
    () => logAxis(rows.flatMap((r) => [r.gptqPlot, r.rtnPlot, r.cmpGptqPlot, r.cmpRtnPlot]).filter((v): v is number => v !== null)),
    [rows],
  ), sameAxis);
  const own = run.layers.length > 0;
  const dots = rows.length <= 80;

  return (
    <section className="panel" data-testid="layer-chart" data-count={run.layers.length} data-compare={compare?.id ?? ''}
      data-y-min={y.domain[0]} data-y-max={y.domain[1]}>
      <h2>Output error per layer</h2>
      <RunLabel />
      {compare && (
        <p className="note" data-testid="layer-chart-compare">
          Dashed: the earlier run {compare.modelName} · {settingsSummary(compare.settings)} ({compare.settings.nsamples} × {compare.settings.seqlen} calibration tokens)
          {own && compare.modelName !== run.modelName ? ', of another model: only layers with the same names line up' : ''}.{' '}
          <button type="button" className="link" onClick={() => useStudioStore.getState().setCompare(null)}>Hide it</button>
        </p>
      )}
      <p className="note">
        Mean squared difference between each linear's outputs and the original ones on the calibration inputs, for GPTQ
        and for round-to-nearest. Blocks are shaded in turn. Click a point to look inside that layer.
      </p>
      {rows.length === 0 ? (
        <p>No layer has finished yet.</p>
      ) : (
        <LayerLines rows={rows} bands={bands} ticks={ticks} y={y} currentLabel={currentLabel} own={own} compare={compare !== null} dots={dots} />
      )}
      {own && (
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
