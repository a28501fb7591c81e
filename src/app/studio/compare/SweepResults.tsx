import { useSweep, useSweepForm } from '../../store/hooks';
import { MixedPlanPanel } from './MixedPlanPanel';
import { SensitivityHeatmap } from './SensitivityHeatmap';
import { StrategyLayerChart } from './StrategyLayerChart';
import { SweepChart } from './SweepChart';

/** The last sweep's results: the strategies against bits per weight, their per-layer errors, the sensitivity map and a mixed-precision plan. */
export function SweepResults() {
  const sweep = useSweep();
  const form = useSweepForm();
  const report = sweep.report;
  if (!report) return null;
  return (
    <div className="sweep-results" data-testid="sweep-results">
      <SweepChart report={report} metric={form.metric} />
      <StrategyLayerChart report={report} />
      {report.sensitivity && <SensitivityHeatmap map={report.sensitivity} />}
      {report.sensitivity && <MixedPlanPanel map={report.sensitivity} />}
    </div>
  );
}
