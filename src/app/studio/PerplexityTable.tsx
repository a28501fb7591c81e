import { useMemo } from 'react';
import type { ModelVariant } from '../../core/run';
import { useCompareEntry, useRunPick, useSettings } from '../store/hooks';
import { increaseText, perplexityRows, pplText, settingsSummary } from './chart-data';
import type { PerplexityRow } from './chart-data';

const VARIANTS: { key: ModelVariant; title: string }[] = [
  { key: 'original', title: 'original' },
  { key: 'rtn', title: 'RTN' },
  { key: 'gptq', title: 'GPTQ' },
];

function increaseOf(row: PerplexityRow, v: ModelVariant): string {
  return v === 'rtn' ? increaseText(row.rtnIncrease) : v === 'gptq' ? increaseText(row.gptqIncrease) : '';
}

/**
 * Perplexity of the original, RTN and GPTQ models on each evaluation text, live while evaluating;
 * "not measured" where a cancelled evaluation did not get; an earlier run opened from the history
 * in a row under each text it measured too.
 */
export function PerplexityTable() {
  const run = useRunPick((r) => ({ status: r.status, perplexity: r.perplexity, report: r.report }));
  const compare = useCompareEntry();
  const active = run.status === 'running' || run.status === 'cancelling';
  const settings = useSettings();
  // While the run goes, the texts still to be measured have rows too (the settings are locked meanwhile).
  const expected = useMemo(() => (active ? settings.evaluations.map((t) => t.name) : []), [active, settings.evaluations]);
  const rows = useMemo(() => perplexityRows(run.perplexity, run.report?.evaluations, expected), [run.perplexity, run.report, expected]);
  const earlier = useMemo(() => (compare ? perplexityRows(null, compare.evaluations) : []), [compare]);
  const final = rows.length > 0 && rows.every((r) => r.final);
  const shown = rows.length > 0 ? rows : earlier.map((r) => ({ ...r, original: null, rtn: null, gptq: null, rtnIncrease: null, gptqIncrease: null, final: true, windows: null }));

  return (
    <>
      <h3>Perplexity</h3>
      {shown.length === 0 ? (
        <p className="note" data-testid="perplexity" data-status="none" data-count={0}>
          {active ? 'Measured after quantization.' : 'No perplexity was measured.'}
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
              {shown.map((r) => {
                const e = earlier.find((x) => x.text === r.text);
                return [
                  rows.length > 0 && (
                    <tr key={r.text}>
                      <th scope="row">{r.text}</th>
                      {VARIANTS.map((v) => (
                        <td key={v.key} className={r[v.key] === null && r.final ? 'num not-measured' : 'num'} data-testid={`ppl-${r.index}-${v.key}`}
                          data-value={r[v.key] ?? undefined} data-measured={String(r[v.key] !== null)}>
                          {pplText(r[v.key], r.final)} <span className="hint">{increaseOf(r, v.key)}</span>
                        </td>
                      ))}
                      <td className="num">{r.windows !== null && r.seqlen !== null ? `${r.windows} × ${r.seqlen}` : '—'}</td>
                    </tr>
                  ),
                  e && compare && (
                    <tr key={`${r.text}-earlier`} className="earlier" data-testid={`ppl-compare-${r.index}`}>
                      <th scope="row"><span className="hint">earlier run ({settingsSummary(compare.settings)}) on {rows.length > 0 ? 'the same text' : r.text}</span></th>
                      {VARIANTS.map((v) => (
                        <td key={v.key} className="num hint" data-testid={`ppl-compare-${r.index}-${v.key}`} data-value={e[v.key] ?? undefined}>{pplText(e[v.key], true)}</td>
                      ))}
                      <td className="num hint">{e.windows !== null && e.seqlen !== null ? `${e.windows} × ${e.seqlen}` : '—'}</td>
                    </tr>
                  ),
                ];
              })}
            </tbody>
          </table>
        </div>
      )}
      <p className="note">Lower is better; the percentages are the increase over the original model. Compare runs only on the same windows (the counts are beside each).</p>
    </>
  );
}
