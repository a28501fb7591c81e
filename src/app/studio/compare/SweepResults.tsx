import { bridge } from '../../bridge';
import { useModel, useSweep, useSweepForm } from '../../store/hooks';
import { MixedPlanPanel } from './MixedPlanPanel';
import { SensitivityHeatmap } from './SensitivityHeatmap';
import { StrategyLayerChart } from './StrategyLayerChart';
import { SweepChart } from './SweepChart';
import { sweepRunText } from '../sweep-data';

/** The last sweep's results: the strategies against bits per weight, their per-layer errors, the sensitivity map and a mixed-precision plan. */
export function SweepResults() {
  const sweep = useSweep();
  const form = useSweepForm();
  const model = useModel();
  const report = sweep.report;
  if (!report) return null;
  const stale = !(model.status === 'ready' && model.loadId === sweep.modelLoadId);
  return (
    <div className={stale ? 'sweep-results stale' : 'sweep-results'} data-testid="sweep-results" data-stale={String(stale)}>
      <p className={stale ? 'run-label stale' : 'run-label'} data-testid="sweep-label">
        {sweep.modelName}{stale ? ' (a previous model)' : ''}: {sweepRunText(report)}.
      </p>
      <p>
        <button type="button" data-testid="sweep-download-report" onClick={() => bridge.downloadSweepReport()}>
          Download report.json
        </button>{' '}
        <span className="note">
          what the CLI’s <code>--sweep</code> writes: every seed’s measures, the front{report.sensitivity ? ', the sensitivity map' : ''}
          {report.cancelled ? ', and under "cancelled" the strategies not measured' : ''}.
        </span>
      </p>
      <SweepChart report={report} metric={form.metric} />
      <StrategyLayerChart report={report} />
      {report.sensitivity && <SensitivityHeatmap map={report.sensitivity} />}
      {report.sensitivity && <MixedPlanPanel map={report.sensitivity} />}
    </div>
  );
}
