import { lazy, Suspense, useEffect, useId, useMemo } from 'react';
import { bridge } from '../../bridge';
import { ErrorNotice } from '../../components/ErrorNotice';
import { useStudioStore } from '../../store';
import { useFieldErrors, useModel, useRunStatus, useSettings, useSweep, useSweepForm, useSweepPlan } from '../../store/hooks';
import { parseStrategies, parseStrategy, strategyLabel } from '../../../core/sweep';
import { counted } from '../../../core/plural';
import { fmtDuration } from '../chart-data';
import { strategyPresets, sweepCancelledLine, sweepSizeText } from '../sweep-data';
import { compareBlockers } from '../compare-blockers';

// The charts (and recharts with them) load once a sweep has something to show.
const SweepResults = lazy(() => import('./SweepResults').then((m) => ({ default: m.SweepResults })));

const update = (patch: Parameters<ReturnType<typeof useStudioStore.getState>['updateSweepForm']>[0]) => useStudioStore.getState().updateSweepForm(patch);

/** Milliseconds of quiet after the list or the settings change before the list is checked against the model again. */
const CHECK_DEBOUNCE_MS = 300;

/** The canonical label of a typed strategy, or the text as typed when it does not parse. */
function canonical(text: string): string {
  try {
    return strategyLabel(parseStrategy(text));
  } catch {
    return text.trim();
  }
}

/** The list with `label` added (at the end) or removed (every entry that means it). */
function toggled(list: string, label: string, on: boolean): string {
  const items = list.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const kept = items.filter((s) => canonical(s) !== label);
  return (on ? [...kept, label] : kept).join(',');
}

/**
 * "Compare strategies": several rounding strategies (the compact syntax, or the presets' boxes)
 * on the studio's calibration and evaluation settings, over N calibration seeds; start and cancel,
 * progress, then the results (the chart against bits per weight with its table, the per-layer
 * curves, the sensitivity heatmap and a mixed-precision plan), of every strategy, or after a
 * cancel of those whose every seed had finished.
 */
export function ComparePanel() {
  const model = useModel();
  const runStatus = useRunStatus();
  const settings = useSettings();
  const form = useSweepForm();
  const sweep = useSweep();
  const sweepPlan = useSweepPlan();
  const fieldErrors = useFieldErrors();
  const ids = { list: useId(), seeds: useId(), sens: useId() };
  const parsed = useMemo(() => {
    try {
      return { labels: parseStrategies(form.strategies).map(strategyLabel), error: null };
    } catch (e) {
      return { labels: [], error: (e as Error).message };
    }
  }, [form.strategies]);
  const chosen = new Set(parsed.labels);
  const presets = strategyPresets(settings.groupSize);
  const active = sweep.status === 'running' || sweep.status === 'cancelling';
  const runActive = runStatus === 'running' || runStatus === 'cancelling';
  const seedsOk = Number.isInteger(form.seeds) && form.seeds >= 1 && form.seeds <= 16;
  const loadId = model.status === 'ready' ? model.loadId : null;
  // The list checked against the model (a group size it cannot use, …) a moment after it, the settings or the model change.
  useEffect(() => {
    const timer = setTimeout(() => void bridge.refreshSweepPlan(), CHECK_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [form.strategies, settings, loadId, runStatus, sweep.status]);
  const { listError, blockers } = compareBlockers({
    modelReady: model.status === 'ready', loadId, settings, fieldErrors, strategies: form.strategies, seeds: form.seeds, sweepPlan, runActive,
  });
  const passes = sweep.steps;
  const hasResults = sweep.report !== null;

  return (
    <section className="panel compare-panel" data-testid="compare-panel">
      <h2>Compare strategies</h2>
      <p className="note">
        Runs several rounding strategies on the same calibration windows (the settings above: windows, length, seed,
        evaluation texts) and measures each against the original: perplexity, KL divergence and top-1 agreement, against
        the bits per weight its file stores (scales, zeros and g_idx included). With more than one seed, each point
        gets the range over seeds: two strategies whose ranges overlap differ by less than the calibration draw does.
      </p>
      <div className="control-group" role="group" aria-label="Strategies">
        {presets.map((p) => (
          <label key={p} className="check">
            <input type="checkbox" checked={chosen.has(p)} disabled={active} data-testid={`preset-${p}`}
              onChange={(e) => update({ strategies: toggled(form.strategies, p, e.target.checked) })} />
            {p}
          </label>
        ))}
      </div>
      <div className="compare-form">
        <label htmlFor={ids.list}>Strategies</label>
        <input id={ids.list} type="text" className="strategy-list" value={form.strategies} disabled={active} data-testid="sweep-strategies"
          spellCheck={false} aria-invalid={listError !== null} aria-describedby={`${ids.list}-help`}
          onChange={(e) => update({ strategies: e.target.value })} />
        <label htmlFor={ids.seeds}>Seeds</label>
        <input id={ids.seeds} type="number" min={1} max={16} step={1} value={Number.isFinite(form.seeds) ? form.seeds : ''} disabled={active} data-testid="sweep-seeds"
          onChange={(e) => update({ seeds: e.target.value === '' ? Number.NaN : Number(e.target.value) })} />
        <label className="check" htmlFor={ids.sens}>
          <input id={ids.sens} type="checkbox" checked={form.sensitivity} disabled={active} data-testid="sweep-sensitivity"
            onChange={(e) => update({ sensitivity: e.target.checked })} />
          measure layer sensitivity (every linear at 2, 3, 4 and 8 bits, for a mixed-precision plan)
        </label>
      </div>
      <p id={`${ids.list}-help`} className="note">
        Comma-separated, each <code>[gptq:|rtn:|awq:]BITS[gGROUP][+asym][+act][+static][+mse][+dampF]</code>, e.g.{' '}
        <code>4g128, rtn:4g128, awq:4g128, 3g128+asym</code>. RTN and AWQ share the GPTQ pass of their grid. AWQ is
        measured for comparison only (no download).
        {parsed.error === null && ` ${counted(parsed.labels.length, 'strategy', 'strategies')} × ${seedsOk ? counted(form.seeds, 'seed') : '? seeds'}.`}
      </p>
      {listError !== null && <p className="field-error" data-testid="sweep-strategies-error">{listError}</p>}
      <div className="run-buttons">
        <button type="button" className="primary" data-testid="sweep-start" disabled={active || blockers.length > 0} onClick={() => void bridge.startSweep()}>
          Compare
        </button>
        <button type="button" data-testid="sweep-cancel" disabled={sweep.status !== 'running'} onClick={() => bridge.cancelSweep()}>
          Cancel
        </button>
        {!active && blockers.length > 0 && (
          <span className="note" data-testid="sweep-blocked">Cannot start: {blockers.join('; ')}.</span>
        )}
      </div>
      <div className="progress" data-testid="sweep-progress" data-status={sweep.status} data-step={sweep.step} data-steps={sweep.steps}
        data-results={sweep.results.length} aria-live="polite">
        {active && (
          <>
            <p className="stage" data-testid="sweep-stage">{sweep.stageDetail}</p>
            <div className="progress-bar">
              <label>
                <span>Step {Math.min(sweep.step + 1, Math.max(1, passes))} of {passes || '?'} (a pass quantizes once, then evaluates its strategies)</span>
                <progress value={sweep.step + (sweep.phase === 'evaluating' ? 1 : sweep.total > 0 ? sweep.done / sweep.total : 0)} max={Math.max(1, passes)} />
              </label>
            </div>
            <p className="times">
              Elapsed {fmtDuration(sweep.elapsed)} · {sweep.results.length} of {sweep.labels.length * sweep.seeds} results
            </p>
          </>
        )}
        {sweep.status === 'cancelling' && <p data-testid="sweep-cancelling">Cancelling: stopping after the linear or pass in progress…</p>}
        {sweep.status === 'cancelled' && <p data-testid="sweep-cancelled" data-kept={sweep.report?.sweep.strategies.length ?? 0}>{sweepCancelledLine(sweep.report, sweep.results, sweep.seeds)}</p>}
        {sweep.status === 'done' && sweep.report && (
          <p data-testid="sweep-done">Done in {fmtDuration(sweep.report.seconds)}: {sweepSizeText(sweep.report)}.</p>
        )}
        {sweep.status === 'failed' && sweep.error && <ErrorNotice error={sweep.error} />}
      </div>
      {hasResults && (
        <Suspense fallback={<p className="note">Loading the charts…</p>}>
          <SweepResults />
        </Suspense>
      )}
    </section>
  );
}
