import { useEffect, useMemo, useState } from 'react';
import { CartesianGrid, Legend, Line, LineChart, Tooltip, XAxis, YAxis } from 'recharts';
import { costInTopColumns, studyPain, type CapturedLayer } from '../../../core/lessons/real-layer';
import { sig } from '../fmt';
import { axisTitle, integerAxis, logAxis, xAxisProps, yAxisProps } from '../../charts/axis';
import { demoLayer, LESSON_WINDOWS, loadDemoForLesson, type DemoForLesson } from './demo-layer';
import { painRows, type PainRow } from './view';

/** Per-column series against sensitivity rank, on a log axis that spans whole decades around them, the card's full width. */
function RankChart({ rows, height, title, lines }: { rows: PainRow[]; height: number; title: string; lines: { key: keyof PainRow; name: string; colour: string }[] }) {
  const y = useMemo(() => logAxis(rows.flatMap((r) => lines.map((l) => r[l.key] as number | null)).filter((v): v is number => v !== null)), [rows, lines]);
  const x = useMemo(() => integerAxis(rows.map((r) => r.rank)), [rows]);
  return (
    <div className="chart" aria-hidden="true" data-testid="l4-chart" data-y-min={y.domain[0]} data-y-max={y.domain[1]}>
      <LineChart responsive style={{ width: '100%', height }} data={rows} margin={{ top: 8, right: 16, bottom: 8, left: 8 }}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis dataKey="rank" {...xAxisProps(x, 'column rank (busiest first)')} />
        <YAxis {...yAxisProps(y, axisTitle(title, 'log scale'), 'log')} />
        <Tooltip formatter={(v) => sig(Number(v))} labelFormatter={(r) => `rank ${r}`} />
        <Legend verticalAlign="top" height={24} />
        {lines.map((l) => <Line key={l.key} dataKey={l.key} name={l.name} stroke={l.colour} dot={false} isAnimationActive={false} />)}
      </LineChart>
    </div>
  );
}

const DIAG_LINES: { key: keyof PainRow; name: string; colour: string }[] = [{ key: 'diag', name: 'diag(H)', colour: '#555' }];
const COST_LINES: { key: keyof PainRow; name: string; colour: string }[] = [
  { key: 'rtnCost', name: 'RTN: diag(H)·error²', colour: '#c0392b' },
  { key: 'gptqCost', name: 'GPTQ: diag(H)·error²', colour: '#2563ab' },
];

type Load = { status: 'loading' } | { status: 'ready'; demo: DemoForLesson } | { status: 'error'; message: string };

/** Lesson 4: diag(H) and where RTN's and GPTQ's error lands, on a real layer of the demo model. */
export function Lesson4() {
  const [load, setLoad] = useState<Load>({ status: 'loading' });
  const [block, setBlock] = useState(0);
  const [linear, setLinear] = useState('mlp.down_proj');
  const [bits, setBits] = useState(3);
  const [actOrder, setActOrder] = useState(false);
  const [layer, setLayer] = useState<CapturedLayer | null>(null);

  useEffect(() => {
    loadDemoForLesson().then((demo) => setLoad({ status: 'ready', demo }), (e: Error) => setLoad({ status: 'error', message: e.message }));
  }, []);
  useEffect(() => {
    if (load.status !== 'ready') return;
    let live = true;
    demoLayer(load.demo, block, linear).then((l) => live && setLayer(l));
    return () => {
      live = false;
    };
  }, [load, block, linear]);
  const study = useMemo(() => (layer ? studyPain(layer, { bits, groupSize: -1, sym: true, actOrder }) : null), [layer, bits, actOrder]);
  const rows = useMemo(() => (study ? painRows(study) : []), [study]);

  if (load.status === 'loading') return <section className="panel" data-testid="l4-status" data-status="loading"><p>Loading the demo model…</p></section>;
  if (load.status === 'error') {
    return <section className="panel" data-testid="l4-status" data-status="error"><p role="alert">The demo model did not load: {load.message}. Reload the page.</p></section>;
  }
  const { ckpt } = load.demo;
  const top = study && { rtn: costInTopColumns(study, 'rtn'), gptq: costInTopColumns(study, 'gptq') };
  return (
    <>
      <section className="panel">
        <p>
          The toy layers of the first lessons were made up. This one is real: a linear layer of the studio’s demo model,
          with its inputs captured on {LESSON_WINDOWS.count} calibration windows of {LESSON_WINDOWS.length} tokens. The
          diagonal of H = (2/N)·XᵀX says how strongly each input column is driven: an error in a weight of a busy column
          costs much more in the output than the same error in a quiet one.
        </p>
        <div className="controls" data-testid="l4-controls">
          <label>Block <select value={block} onChange={(e) => setBlock(Number(e.target.value))}>
            {Array.from({ length: ckpt.config.numLayers }, (_, b) => <option key={b} value={b}>{b}</option>)}
          </select></label>{' '}
          <label>Layer <select value={linear} onChange={(e) => setLinear(e.target.value)}>
            {ckpt.layout.block.linears.map((l) => <option key={l.name} value={l.name}>{l.name}</option>)}
          </select></label>{' '}
          <label>Bits <select value={bits} onChange={(e) => setBits(Number(e.target.value))} data-testid="l4-bits">
            {[2, 3, 4].map((b) => <option key={b} value={b}>{b}</option>)}
          </select></label>{' '}
          <label><input type="checkbox" checked={actOrder} onChange={(e) => setActOrder(e.target.checked)} /> act-order</label>
        </div>
      </section>
      {!study || !top ? <section className="panel"><p>Capturing the layer’s inputs…</p></section> : (
        <>
          <section className="panel" data-testid="l4-summary" data-layer={`${block}.${linear}`}>
            <h3>The output error</h3>
            <table className="facts">
              <thead><tr><th /><th>RTN</th><th>GPTQ</th></tr></thead>
              <tbody>
                <tr><th>Output MSE on the captured inputs</th>
                  <td className="num" data-testid="l4-mse-rtn" data-value={study.rtn.outputMse}>{sig(study.rtn.outputMse)}</td>
                  <td className="num" data-testid="l4-mse-gptq" data-value={study.gptq.outputMse}>{sig(study.gptq.outputMse)}</td></tr>
                <tr><th>Σ diag(H)·(weight error)², all columns</th>
                  <td className="num">{sig(top.rtn.total)}</td><td className="num">{sig(top.gptq.total)}</td></tr>
                <tr><th>… on the busiest tenth of the columns</th>
                  <td className="num">{sig(top.rtn.top)}</td><td className="num" data-testid="l4-top-gptq" data-value={top.gptq.top}>{sig(top.gptq.top)}</td></tr>
              </tbody>
            </table>
            <p className="note">
              {study.layer.rows}×{study.layer.cols} weights, {study.layer.tokens} input tokens, {bits}-bit symmetric grid per
              row. RTN puts every weight at its nearest grid point, so its weighted weight error (second row) is the least
              any rounding on this grid can have. GPTQ’s is larger, yet its output error is smaller: it places errors
              where the correlations between inputs (the off-diagonal of H) cancel them. With act-order the busiest columns
              are quantized first, before any correction lands on them, and their share of the cost drops.
            </p>
          </section>
          <section className="panel">
            <h3>Column by column, busiest first</h3>
            <RankChart rows={rows} height={220} title="diag(H)" lines={DIAG_LINES} />
            <RankChart rows={rows} height={240} title="diag(H)·error²" lines={COST_LINES} />
            <details>
              <summary>The same as a table</summary>
              <div className="table-scroll">
                <table className="facts compact" data-testid="l4-columns">
                  <thead><tr><th>rank</th><th>column</th><th>diag(H)</th><th>RTN error²</th><th>GPTQ error²</th></tr></thead>
                  <tbody>
                    {rows.map((r) => (
                      <tr key={r.column}><td>{r.rank}</td><td>{r.column}</td><td className="num">{sig(r.diag ?? 0)}</td>
                        <td className="num">{sig(r.rtnError)}</td><td className="num">{sig(r.gptqError)}</td></tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </details>
          </section>
        </>
      )}
    </>
  );
}
