import { useMemo } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ReferenceLine, Tooltip, XAxis, YAxis } from 'recharts';
import { axisTitle, integerAxis, linearAxis, xAxisProps, yAxisProps } from '../../charts/axis';
import { sig } from '../fmt';
import type { ErrorPoint } from './view';

/** Output MSE of GPTQ's working W and of RTN after each step: a chart and the same numbers as a table. */
export function ErrorChart({ points, step }: { points: ErrorPoint[]; step: number }) {
  const now = points[step];
  const x = useMemo(() => integerAxis(points.map((p) => p.step)), [points]);
  const y = useMemo(() => linearAxis(points.flatMap((p) => [p.gptq, p.rtn]), { withZero: true }), [points]);
  return (
    <>
      <p className="note">
        After step {step}: GPTQ <strong data-testid="l3-mse-gptq" data-value={now.gptq}>{sig(now.gptq)}</strong>, RTN{' '}
        <strong data-testid="l3-mse-rtn" data-value={now.rtn}>{sig(now.rtn)}</strong>. Each is the mean squared
        difference between the layer’s outputs and the original ones on the calibration inputs; for GPTQ the columns
        not yet visited count as they stand after the corrections, for RTN as they were.
      </p>
      <div className="chart" aria-hidden="true">
        <LineChart responsive style={{ width: '100%', height: 240 }} data={points} margin={{ top: 8, right: 16, bottom: 8, left: 8 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="step" {...xAxisProps(x, 'columns quantized (step)')} />
          <YAxis {...yAxisProps(y, axisTitle('output MSE'))} />
          <Tooltip formatter={(v) => sig(Number(v))} labelFormatter={(s) => `after step ${s}`} />
          <Legend verticalAlign="top" height={24} />
          <ReferenceLine x={step} stroke="#888" />
          <Line dataKey="gptq" name="GPTQ" stroke="#2563ab" isAnimationActive={false} dot />
          <Line dataKey="rtn" name="RTN" stroke="#c0392b" isAnimationActive={false} dot />
        </LineChart>
      </div>
      <div className="table-scroll">
        <table className="facts compact" data-testid="l3-errors">
          <caption className="visually-hidden">Output MSE after each step</caption>
          <thead>
            <tr>
              <th scope="row">step</th>
              {points.map((p) => (
                <th key={p.step} scope="col" className={p.step === step ? 'now' : undefined}>{p.step}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            <tr>
              <th scope="row">GPTQ</th>
              {points.map((p) => <td key={p.step} className={p.step === step ? 'num now' : 'num'}>{sig(p.gptq)}</td>)}
            </tr>
            <tr>
              <th scope="row">RTN</th>
              {points.map((p) => <td key={p.step} className={p.step === step ? 'num now' : 'num'}>{sig(p.rtn)}</td>)}
            </tr>
          </tbody>
        </table>
      </div>
    </>
  );
}
