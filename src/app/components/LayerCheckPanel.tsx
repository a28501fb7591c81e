import { useEffect } from 'react';
import { bridge } from '../bridge';
import { fmtSci, yesNo } from '../format';
import { SAME_SCALE, THRESHOLDS, fmtPct } from '../layer-check/compare';
import type { LayerCheckReport, LayerCheckSpec } from '../layer-check/compare';
import { useLayerCheck } from '../store/hooks';
import { ErrorNotice } from './ErrorNotice';

function SpecLine({ spec }: { spec: LayerCheckSpec }) {
  const o = spec.options;
  const group = o.groupSize === -1 ? 'one group per row' : `groups of ${o.groupSize}`;
  return (
    <p className="note" data-testid="layer-check-spec">
      Seed {spec.seed}: W {spec.rows}×{spec.cols}, X {spec.tokens}×{spec.cols}; {o.bits} bits, {group},{' '}
      {o.sym ? 'symmetric' : 'asymmetric'}, act-order {o.actOrder ? 'on' : 'off'}
      {o.actOrder && o.staticGroups ? ' (static groups)' : ''}, MSE clipping {o.mse ? 'on' : 'off'}, damping{' '}
      {o.percDamp}, blocks of {o.blockSize}.
    </p>
  );
}

/** One measured row: the number is also in `data-value` at full precision, for tests. */
function Metric({ id, label, value, text, need }: { id: string; label: string; value: number | string; text: string; need?: string }) {
  return (
    <tr data-testid={`lc-${id}`} data-value={value}>
      <th>{label}</th>
      <td className="num">{text}</td>
      <td className="why">{need ?? ''}</td>
    </tr>
  );
}

function Report({ report: r }: { report: LayerCheckReport }) {
  const t = THRESHOLDS;
  const stages = Object.entries(r.seconds.gpu);
  return (
    <>
      <p className={r.pass ? 'verdict pass' : 'verdict fail'} data-testid="layer-check-verdict">
        {r.pass ? 'PASS: the GPU result agrees with the f64 reference.' : 'FAIL: the GPU result does not agree with the f64 reference.'}
      </p>
      {r.failures.length > 0 && (
        <ul className="failures" data-testid="layer-check-failures">
          {r.failures.map((f) => (
            <li key={f}>{f}</li>
          ))}
        </ul>
      )}
      <table className="facts">
        <thead>
          <tr><th>Measure</th><th>Value</th><th>Needed</th></tr>
        </thead>
        <tbody>
          <Metric id="code-agreement" label="Codes equal to the reference's" value={r.codeAgreement}
            text={`${fmtPct(r.codeAgreement)} (${r.entries - r.codesDiffering} of ${r.entries})`} need={`≥ ${fmtPct(t.minCodeAgreement)}`} />
          <Metric id="max-code-step" label="Largest code difference (grid steps)" value={r.maxCodeStep} text={String(r.maxCodeStep)} />
          <Metric id="max-same-grid-dq-over-scale" label="max |ΔQ| / scale on the same grid point" value={r.maxSameGridDqOverScale}
            text={`${fmtSci(r.maxSameGridDqOverScale)} (${r.sameGridEntries} entries)`} need={`≤ ${t.maxSameGridDqOverScale}`} />
          <Metric id="scale-agreement" label={`Scales within ${SAME_SCALE} of the reference's`} value={r.scaleAgreement}
            text={`${fmtPct(r.scaleAgreement)} (largest difference ${fmtSci(r.maxScaleRelDiff)})`} />
          <Metric id="max-abs-dq" label="max |ΔQ|" value={r.maxAbsDq} text={fmtSci(r.maxAbsDq)} />
          <Metric id="max-dq-over-scale" label="max |ΔQ| / scale, all entries" value={r.maxDqOverScale} text={fmtSci(r.maxDqOverScale)} />
          <Metric id="loss-gpu" label="GPTQ loss, GPU (f32)" value={r.loss.gpu} text={fmtSci(r.loss.gpu)} />
          <Metric id="loss-reference" label="GPTQ loss, reference (f64)" value={r.loss.reference} text={fmtSci(r.loss.reference)}
            need={`within ${fmtPct(t.maxLossRelDiff)} of each other`} />
          <Metric id="mse-gptq" label="Output MSE, GPTQ (GPU)" value={r.mse.gptq} text={fmtSci(r.mse.gptq)} need="below RTN's" />
          <Metric id="mse-rtn" label="Output MSE, RTN (GPU)" value={r.mse.rtn} text={fmtSci(r.mse.rtn)} />
          <Metric id="mse-gptq-reference" label="Output MSE, GPTQ (reference)" value={r.mse.gptqReference} text={fmtSci(r.mse.gptqReference)}
            need={`within ${fmtPct(t.maxMseRelDiff)} of the GPU's`} />
          <Metric id="fell-back" label="Fell back to RTN (GPU / reference)" value={`${r.fellBackToRtn.gpu}/${r.fellBackToRtn.reference}`}
            text={`${yesNo(r.fellBackToRtn.gpu)} / ${yesNo(r.fellBackToRtn.reference)}`} need="the same" />
          <Metric id="damp-used" label="Damping used (GPU / reference)" value={`${r.percDampUsed.gpu}/${r.percDampUsed.reference}`}
            text={`${r.percDampUsed.gpu} / ${r.percDampUsed.reference}`} />
          {r.permAgrees !== null && (
            <Metric id="perm-agrees" label="Act-order permutation equal" value={String(r.permAgrees)} text={yesNo(r.permAgrees)} need="yes" />
          )}
        </tbody>
      </table>
      {r.codesDiffering > 0 && (
        <p className="note">
          Where codes differ, one value sat on (or within rounding of) a tie between two grid points and the two
          implementations rounded it apart; GPTQ then carries a different error along the rest of that row. Symmetric
          grids with groups have such a tie wherever a group's largest-magnitude weight is negative and sits in the
          group's first column.
        </p>
      )}
      <h3>Time</h3>
      <table className="facts" data-testid="layer-check-times">
        <tbody>
          {stages.map(([stage, s]) => (
            <tr key={stage}><th>GPU: {stage}</th><td className="num">{(1000 * s).toFixed(1)} ms</td></tr>
          ))}
          <tr><th>f64 reference on the page</th><td className="num">{(1000 * r.seconds.reference).toFixed(1)} ms</td></tr>
        </tbody>
      </table>
    </>
  );
}

/**
 * The layer check: a seeded random layer quantized by the worker's GPU engine and by the f64
 * reference on this page, and how closely they agree. `data-status` is running, pass, fail or error.
 */
export function LayerCheckPanel({ spec }: { spec: LayerCheckSpec }) {
  const check = useLayerCheck();
  useEffect(() => {
    void bridge.runLayerCheck(spec);
  }, [spec]);

  const status = check.status === 'done' ? (check.report.pass ? 'pass' : 'fail') : check.status;
  return (
    <section className="panel" data-testid="layer-check" data-status={status} aria-busy={check.status === 'running'}>
      <h2>Layer check: GPU GPTQ against the f64 reference</h2>
      <SpecLine spec={spec} />
      {(check.status === 'idle' || check.status === 'running') && <p>Quantizing on the GPU and in the reference…</p>}
      {check.status === 'error' && <ErrorNotice error={check.error} />}
      {check.status === 'done' && <Report report={check.report} />}
    </section>
  );
}
