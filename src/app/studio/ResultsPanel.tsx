import { useRunStatus } from '../store/hooks';
import { ExportSummary } from './ExportSummary';
import { PerplexityTable } from './PerplexityTable';
import { DivergenceTable } from './DivergenceTable';
import { RunLabel } from './RunLabel';

/** What the run measured at the end: perplexities, sizes, and what stayed unquantized. */
export function ResultsPanel() {
  const runStatus = useRunStatus();
  return (
    <section className="panel" data-testid="results" data-status={runStatus}>
      <h2>Results</h2>
      <RunLabel />
      <PerplexityTable />
      <DivergenceTable />
      {runStatus !== 'idle' && <ExportSummary />}
    </section>
  );
}
