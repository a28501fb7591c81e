import { useRun } from '../store/hooks';
import { ExportSummary } from './ExportSummary';
import { PerplexityTable } from './PerplexityTable';
import { DivergenceTable } from './DivergenceTable';
import { RunLabel } from './RunLabel';

/** What the run measured at the end: perplexities, sizes, and what stayed unquantized. */
export function ResultsPanel() {
  const run = useRun();
  return (
    <section className="panel" data-testid="results" data-status={run.status}>
      <h2>Results</h2>
      <RunLabel />
      <PerplexityTable />
      <DivergenceTable />
      {run.status !== 'idle' && <ExportSummary />}
    </section>
  );
}
