import { useMemo } from 'react';
import type { ModelVariant } from '../../core/run';
import { useRun, useSettings } from '../store/hooks';
import { increaseText, perplexityRows, pplText } from './chart-data';
import type { PerplexityRow } from './chart-data';

const VARIANTS: { key: ModelVariant; title: string }[] = [
  { key: 'original', title: 'original' },
  { key: 'rtn', title: 'RTN' },
  { key: 'gptq', title: 'GPTQ' },
];

function increaseOf(row: PerplexityRow, v: ModelVariant): string {
  return v === 'rtn' ? increaseText(row.rtnIncrease) : v === 'gptq' ? increaseText(row.gptqIncrease) : '';
}

/** Perplexity of the original, RTN and GPTQ models on each evaluation text, live while evaluating. */
export function PerplexityTable() {
  const run = useRun();
  const settings = useSettings();
  const expected = useMemo(
    () => (run.status === 'running' || run.status === 'cancelling' ? settings.evaluations.map((t) => t.name) : []),
    [run.status, settings.evaluations],
  );
  const rows = useMemo(() => perplexityRows(run.perplexity, run.report?.evaluations, expected), [run.perplexity, run.report, expected]);
  const final = rows.length > 0 && rows.every((r) => r.final);

  return (
    <>
      <h3>Perplexity</h3>
      {rows.length === 0 ? (
        <p className="note" data-testid="perplexity" data-status="none" data-count={0}>
          {run.status === 'running' ? 'Measured after quantization.' : 'No perplexity was measured.'}
        </p>
      ) : (
        <div className="table-scroll">
          <table className="facts perplexity" data-testid="perplexity" data-status={final ? 'final' : 'live'} data-count={rows.length}>
            <caption className="visually-hidden">Perplexity per evaluation text (lower is better)</caption>
            <thead>
              <tr>
                <th scope="col">text</th>
                {VARIANTS.map((v) => <th key={v.key} scope="col">{v.title}</th>)}
                <th scope="col">windows × tokens</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.text}>
                  <th scope="row">{r.text}</th>
                  {VARIANTS.map((v) => (
                    <td key={v.key} className="num" data-testid={`ppl-${r.index}-${v.key}`} data-value={r[v.key] ?? undefined}>
                      {pplText(r[v.key])} <span className="hint">{increaseOf(r, v.key)}</span>
                    </td>
                  ))}
                  <td className="num">{r.windows !== null && r.seqlen !== null ? `${r.windows} × ${r.seqlen}` : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <p className="note">Lower is better; the percentages are the increase over the original model.</p>
    </>
  );
}
