/**
 * The bridge: the one owner of the worker, and the only code that writes worker results into the
 * store (components call its methods and read the store; they never touch the worker).
 *
 * - The worker starts on first use and lives on, because it holds the GPU device.
 * - Calls run one at a time, in order.
 * - Aborting a call terminates the worker (the only way to stop GPU work already submitted); the
 *   next call starts a fresh one.
 * - A worker that fails to load or crashes rejects the call in flight instead of leaving it hanging.
 * - Errors become UiErrors: "no WebGPU" with what to do, or the worker's own message.
 */
import * as Comlink from 'comlink';
import { NO_WEBGPU_HELP } from '../gpu/device';
import type { GptqWorkerApi } from '../worker/api';
import { compareLayer } from './layer-check/compare';
import type { LayerCheckSpec } from './layer-check/compare';
import { makeRandomLayer } from './layer-check/layer';
import { runReference } from './layer-check/reference';
import { ProgressBatcher } from './progress-batch';
import { useStudioStore } from './store';
import { holdRunLock } from './store/run-locks';
import type { HistoryEntry, ModelSlice, ModelSource, RunSlice, SettingsSlice, UiError } from './store';
import { idleRun, idleSweep, layerKey, sweepEnded, sweepHasFinishedStrategy } from './store/studio-state';
import type { SweepSlice } from './store/studio-state';
import { parseStrategies, strategyLabel, type SweepProgressEvent } from '../core/sweep';
import type { RunSettings } from '../core/run';
import type { RunReport } from '../core/report';
import type { ProgressEvent } from '../core/run';
import type { HubProgress } from '../core/model/hub';
import { planPending, planRefusals, runBlockers, runSettingsOf, samplePrompt, suggestedSettings, withoutDemoTexts } from './studio/run-settings';
import { compareBlockers } from './studio/compare-blockers';
import { DEMO_MODEL_NAME, fetchDemoModel, fetchDemoTexts } from './studio/demo';
import { modelFilesOf, modelNameOf } from './studio/model-files';
import { sweepReportName } from './studio/sweep-data';
import { reportJson } from '../core/report';
import type { GenerationStep, StudioPlan } from '../worker/types';

type Remote = Comlink.Remote<GptqWorkerApi>;

/** Least milliseconds between two updates of a run's progress in the store (a stage change or a perplexity comes at once). */
export const PROGRESS_INTERVAL_MS = 250;

function abortError(): DOMException {
  return new DOMException('The operation was aborted.', 'AbortError');
}

function isAbort(e: unknown): boolean {
  return e instanceof DOMException && e.name === 'AbortError';
}

/** Maps anything thrown by a call (Comlink rebuilds worker errors with their name) to a UiError. */
export function toUiError(e: unknown, kind: UiError['kind'] = 'worker'): UiError {
  const name = (e as { name?: unknown })?.name;
  const message = e instanceof Error ? e.message : String(e);
  if (name === 'NoWebGpuError') {
    return { kind: 'no-webgpu', message: message.replace(NO_WEBGPU_HELP, '').trim(), help: NO_WEBGPU_HELP };
  }
  if (name === 'DeviceLostError') {
    return {
      kind: 'device-lost',
      message,
      help: 'Finished layers and earlier runs are kept. Run again: the studio asks for a new device. If it happens again, use fewer or shorter calibration windows.',
    };
  }
  return { kind, message };
}

class WorkerBridge {
  #worker: Worker | null = null;
  #remote: Remote | null = null;
  /** Rejects when the current worker fails to load or throws outside a call; raced against calls. */
  #crashed: Promise<never> = new Promise<never>(() => {});
  /** The tail of the call queue. */
  #queue: Promise<unknown> = Promise.resolve();

  #start(): Remote {
    if (this.#remote) return this.#remote;
    const worker = new Worker(new URL('../worker/worker.ts', import.meta.url), { type: 'module', name: 'gptq-worker' });
    this.#crashed = new Promise<never>((_, reject) => {
      worker.addEventListener('error', (ev) => {
        ev.preventDefault();
        reject(new Error(`The worker failed: ${ev.message || 'it could not be loaded'}`));
        if (this.#worker === worker) this.terminate();
      });
    });
    this.#crashed.catch(() => {}); // observed by the calls that race it
    this.#worker = worker;
    this.#remote = Comlink.wrap<GptqWorkerApi>(worker);
    return this.#remote;
  }

  /** Stops the worker and whatever it was running; the next call starts a new one. */
  terminate(): void {
    this.#remote?.[Comlink.releaseProxy]();
    this.#worker?.terminate();
    this.#remote = null;
    this.#worker = null;
  }

  /** Runs `fn` against the worker after the calls before it, unless `signal` aborts first. */
  #call<T>(signal: AbortSignal | undefined, fn: (remote: Remote) => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      if (signal?.aborted) throw abortError();
      const remote = this.#start();
      let onAbort = () => {};
      const aborted = new Promise<never>((_, reject) => {
        onAbort = () => {
          this.terminate();
          reject(abortError());
        };
        signal?.addEventListener('abort', onAbort, { once: true });
      });
      try {
        return await Promise.race([fn(remote), this.#crashed, aborted]);
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
    };
    const result = this.#queue.then(run, run);
    this.#queue = result.catch(() => {});
    return result;
  }

  /** Asks the worker which adapter its engine uses; once per page unless it failed. */
  async loadAdapter(signal?: AbortSignal): Promise<void> {
    const { adapter, setAdapter } = useStudioStore.getState();
    if (adapter.status === 'loading' || adapter.status === 'ready') return;
    setAdapter({ status: 'loading' });
    try {
      const summary = await this.#call(signal, (r) => r.adapter());
      setAdapter({ status: 'ready', summary });
      void this.measureSpeed();
    } catch (e) {
      setAdapter(isAbort(e) ? { status: 'idle' } : { status: 'error', error: toUiError(e) });
    }
  }

  /**
   * Runs the layer check: the seeded layer through the worker's GPU GPTQ, the f64 reference on
   * this thread meanwhile, then the comparison. A second request for a check already running or
   * done with the same spec is ignored.
   */
  async runLayerCheck(spec: LayerCheckSpec, signal?: AbortSignal): Promise<void> {
    const { layerCheck, setLayerCheck } = useStudioStore.getState();
    if (layerCheck.status !== 'idle' && layerCheck.status !== 'error' && sameSpec(layerCheck.spec, spec)) return;
    setLayerCheck({ status: 'running', spec });
    const layer = makeRandomLayer(spec);
    try {
      // Inputs are copied to the worker (not transferred): the reference reads them here too.
      const gpuResult = this.#call(signal, (r) =>
        r.quantizeLayer({
          name: `layer-check.seed${spec.seed}`,
          W: layer.W,
          rows: spec.rows,
          cols: spec.cols,
          X: layer.X,
          tokens: spec.tokens,
          options: spec.options,
        }),
      );
      gpuResult.catch(() => {}); // awaited below; avoids an unhandled rejection if the reference throws
      let reference;
      try {
        reference = runReference(spec, layer);
      } catch (e) {
        setLayerCheck({ status: 'error', spec, error: toUiError(e, 'reference') });
        return;
      }
      const gpu = await gpuResult;
      setLayerCheck({ status: 'done', spec, report: compareLayer(spec, gpu, reference) });
    } catch (e) {
      setLayerCheck(isAbort(e) ? { status: 'idle' } : { status: 'error', spec, error: toUiError(e) });
    }
  }

  // ---- The studio: model in, run, results out ----

  /** Seconds a cancelled run may take to stop by itself before the worker is terminated. */
  static CANCEL_GRACE_MS = 4000;
  #runAbort: AbortController | null = null;
  #cancelTimer: ReturnType<typeof setTimeout> | null = null;
  #loads = 0;

  /** Measures the adapter's speed in the worker (once per worker; the defaults and estimates come from it). */
  async measureSpeed(): Promise<void> {
    const { speed, setSpeed } = useStudioStore.getState();
    if (speed.status === 'measuring' || speed.status === 'ready') return;
    setSpeed({ status: 'measuring' });
    try {
      setSpeed({ status: 'ready', speed: await this.#call(undefined, (r) => r.speed()) });
    } catch (e) {
      setSpeed({ status: 'error', error: toUiError(e) });
    }
  }

  /**
   * Opens a model from its files: reads the headers in the worker and shows what was recognised.
   * Loose files are named by config.json's `_name_or_path` (or "model"; the name can be edited).
   * Loading a model other than the demo sets the demo's texts aside.
   */
  async loadFiles(all: File[], source: ModelSource = 'files', name?: string): Promise<void> {
    const { setModel, run } = useStudioStore.getState();
    if (run.status === 'running' || run.status === 'cancelling') return;
    const files = modelFilesOf(all);
    const loadId = ++this.#loads;
    const shown = name ?? modelNameOf(all) ?? 'model';
    setModel({ status: 'loading', source, name: shown, loadId, progress: null });
    try {
      const texts = source === 'demo' ? useStudioStore.getState().settings : withoutDemoTexts(useStudioStore.getState().settings);
      const info = await this.#call(undefined, (r) => r.inspectModel(files, texts.evaluations.map((t) => t.text)));
      if (this.#loads !== loadId) return; // another load started meanwhile
      const state = useStudioStore.getState();
      state.updateSettings({ ...suggestedSettings(info), ...(source === 'demo' ? {} : withoutDemoTexts(state.settings)) });
      setModel({ status: 'ready', source, name: name ?? modelNameOf(all) ?? info.configName ?? 'model', loadId, files, info });
      await this.refreshPlan();
    } catch (e) {
      setModel({ status: 'error', source, name: shown, loadId, error: toUiError(e, 'model') });
    }
  }

  /** The demo model and its texts, from the studio's own public/demo folder. */
  async loadDemo(): Promise<void> {
    const { setModel, updateSettings, setDemoTexts, run } = useStudioStore.getState();
    if (run.status === 'running' || run.status === 'cancelling') return;
    setModel({ status: 'loading', source: 'demo', name: DEMO_MODEL_NAME, loadId: ++this.#loads, progress: null });
    try {
      const [files, texts] = await Promise.all([fetchDemoModel(), fetchDemoTexts()]);
      setDemoTexts(texts);
      updateSettings({ calibration: texts[0], evaluations: texts.slice(1) });
      await this.loadFiles(files, 'demo', DEMO_MODEL_NAME);
    } catch (e) {
      setModel({ status: 'error', source: 'demo', name: DEMO_MODEL_NAME, loadId: this.#loads, error: toUiError(e, 'model') });
    }
  }

  /** Downloads a checkpoint by Hub repo id (range requests, with progress), then opens it. */
  async loadHub(repo: string, baseUrl?: string): Promise<void> {
    const { setModel, run } = useStudioStore.getState();
    if (run.status === 'running' || run.status === 'cancelling') return;
    const loadId = ++this.#loads;
    setModel({ status: 'loading', source: 'hub', name: repo, loadId, progress: { done: 0, total: 0, file: null } });
    const onProgress = (p: HubProgress) => {
      const m = useStudioStore.getState().model;
      if (m.status === 'loading' && m.source === 'hub') setModel({ ...m, progress: { done: p.bytesDone, total: p.bytesTotal, file: p.file } });
    };
    try {
      const files = await this.#call(undefined, (r) => r.fetchHub(repo, baseUrl, Comlink.proxy(onProgress)));
      await this.loadFiles(files, 'hub', repo.split('/').pop() ?? repo);
    } catch (e) {
      setModel({ status: 'error', source: 'hub', name: repo, loadId, error: toUiError(e, 'model') });
    }
  }

  /** Stops a Hub download. */
  cancelHub(): void {
    void this.#remote?.cancelFetch();
  }

  /** The memory estimate, export plan, texts' windows and time estimate of the next run, for the model and settings now chosen. */
  async refreshPlan(): Promise<void> {
    const { model, settings, run } = useStudioStore.getState();
    if (model.status !== 'ready' || run.status === 'running' || run.status === 'cancelling') return;
    await this.#askPlan(model, settings);
  }

  /**
   * Asks the worker for the plan of `settings` on `model` and shows it (unless the settings changed
   * meanwhile: a newer request sets its own). Returns it, or null when it failed (the plan slice says why).
   */
  async #askPlan(model: Extract<ModelSlice, { status: 'ready' }>, settings: SettingsSlice): Promise<StudioPlan | null> {
    const { setPlan } = useStudioStore.getState();
    setPlan({ status: 'loading' });
    const texts = { calibration: settings.calibration?.text ?? null, evaluations: settings.evaluations.map((t) => t.text), evalWindows: settings.evalWindows };
    try {
      const plan = await this.#call(undefined, (r) => r.planRun(model.files, runSettingsOf(settings, model.info), texts));
      if (useStudioStore.getState().settings === settings) setPlan({ status: 'ready', plan, forSettings: settings });
      return plan;
    } catch (e) {
      setPlan({ status: 'error', error: toUiError(e, 'model') });
      return null;
    }
  }

  /**
   * Runs GPTQ on the loaded model with the settings chosen; progress fills the run slice. Does
   * nothing while runBlockers gives a reason. Clicked before the plan of these settings came (a
   * field was just edited: the plan waits for typing to stop), the run starts at once and asks for
   * the plan first; a plan that refuses ends it as failed, with why, before any work.
   */
  async startRun(): Promise<void> {
    const state = useStudioStore.getState();
    const { model, settings, plan } = state;
    if (model.status !== 'ready' || state.run.status === 'running' || state.run.status === 'cancelling') return;
    if (runBlockers({ modelReady: true, settings, fieldErrors: state.fieldErrors, plan }).length > 0) return;
    const runSettings = runSettingsOf(settings, model.info);
    const planned = async () => {
      const p = planPending(plan, settings) ? await this.#askPlan(model, settings) : plan.status === 'ready' ? plan.plan : null;
      if (!p) throw new Error('The plan for these settings could not be worked out (the plan above says why).');
      const refusals = planRefusals(p);
      if (refusals.length > 0) throw new Error(`The plan refuses these settings: ${refusals.join('; ')}`);
      return { evalWindows: p.evalWindows, estimate: p.time };
    };
    await this.#run(runSettings, planned, (r, modelName, onProgress) =>
      r.quantizeModel(model.files, modelName, settings.calibration!, settings.evaluations, runSettings, settings.evalWindows ?? undefined, onProgress));
  }

  /**
   * Runs the mixed-precision plan shown (the last sweep's sensitivity map planned for its target)
   * as the studio's run: the same progress, results, generations and download as startRun.
   */
  async startMixedRun(): Promise<void> {
    const state = useStudioStore.getState();
    const { model, settings, mixedPlan, sweep } = state;
    if (model.status !== 'ready' || state.run.status === 'running' || state.run.status === 'cancelling' || sweep.status === 'running' || sweep.status === 'cancelling') return;
    if (mixedPlan.status !== 'ready' || !sweep.report || mixedPlan.sweepId !== sweep.id || !settings.calibration) return;
    // The worker's map is of the model the sweep ran on.
    if (sweep.modelLoadId !== model.loadId) return;
    const evalWindows = sweep.report.evaluations.map((e) => e.windows);
    const { target } = mixedPlan;
    await this.#run(mixedPlan.settings, async () => ({ evalWindows, estimate: null }), (r, modelName, onProgress) =>
      r.quantizeMixed(model.files, modelName, settings.calibration!, settings.evaluations, target, settings.evalWindows ?? undefined, onProgress));
  }

  /**
   * A whole-model run in the run slice: progress, history, the outcome. `planned` gives the windows
   * per evaluation text and the estimate (it may wait for the plan); when it throws, nothing ran:
   * the run ends failed with its message, and is not kept in the history.
   */
  async #run(
    runSettings: RunSettings,
    planned: () => Promise<{ evalWindows: number[]; estimate: RunSlice['estimate'] }>,
    call: (r: Remote, modelName: string, onProgress: (e: ProgressEvent) => void) => Promise<RunReport>,
  ): Promise<void> {
    const state = useStudioStore.getState();
    const { model } = state;
    if (model.status !== 'ready') return;
    const id = `run-${Date.now().toString(36)}`;
    // A name for files meant to be shared: never a path.
    const modelName = (model.name.split(/[\\/]/).pop() ?? '').trim() || 'model';
    const started: RunSlice = {
      ...idleRun(), id, status: 'running', modelName, modelSource: model.source, modelLoadId: model.loadId,
      startedAt: new Date().toISOString(), settings: runSettings,
      blocks: model.info.summary.blocks, lastEventAt: Date.now(),
    };
    state.setRun(started);
    if (state.download.status === 'ready') URL.revokeObjectURL(state.download.url);
    state.setDownload({ status: 'idle' });
    for (const d of [state.ggufDownload.model, state.ggufDownload.imatrix]) if (d.status === 'ready') URL.revokeObjectURL(d.url);
    state.setGgufDownload({ model: { status: 'idle' }, imatrix: { status: 'idle' } });
    state.setGeneration({ status: 'idle' });
    state.selectLayer(null);
    this.#runAbort = new AbortController();
    let plan: Awaited<ReturnType<typeof planned>> | null = null;
    try {
      plan = await planned();
    } catch (e) {
      useStudioStore.getState().updateRun((r) => (r.id === id ? { status: 'failed', error: toUiError(e, 'run') } : {}));
    }
    // Cancelled while the plan was worked out: nothing ran either.
    useStudioStore.getState().updateRun((r) => (r.id === id && r.status === 'cancelling' ? { status: 'cancelled' } : {}));
    const current = useStudioStore.getState().run;
    if (plan === null || current.id !== id || current.status !== 'running') {
      if (this.#cancelTimer) clearTimeout(this.#cancelTimer);
      this.#cancelTimer = null;
      this.#runAbort = null;
      void this.refreshPlan();
      return;
    }
    const begun: RunSlice = { ...started, ...plan };
    useStudioStore.getState().updateRun(plan);
    // Held while the run goes (released at its end, or by the browser when the tab goes): another
    // tab loading the studio meanwhile sees the run as going, not interrupted (store/run-locks.ts).
    const releaseLock = await holdRunLock(id);
    const now = useStudioStore.getState();
    now.addHistory(historyEntry(now.run.id === id ? now.run : begun));
    // Progress reaches the store a few times a second (each store update re-renders the run's
    // panels and charts); a change of stage or a perplexity at once, and whatever is held before the end.
    const batch = new ProgressBatcher<ProgressEvent>((events) => {
      const { updateRun, addHistory } = useStudioStore.getState();
      updateRun((r) => (r.id === id ? { ...applyProgressBatch(r, events), lastEventAt: Date.now() } : {}));
      // The history keeps the run as it goes, so a reload mid-run leaves a trace.
      const run = useStudioStore.getState().run;
      if (run.id === id && events.some((e) => e.type === 'block' || e.type === 'stage' || e.type === 'perplexity')) addHistory(historyEntry(run));
    }, { intervalMs: PROGRESS_INTERVAL_MS, urgent: (e) => e.type === 'stage' || e.type === 'perplexity' });
    const onProgress = (e: ProgressEvent) => batch.push(e);
    try {
      const report = await this.#call(this.#runAbort.signal, (r) => call(r, modelName, Comlink.proxy(onProgress)));
      batch.flush();
      useStudioStore.getState().updateRun({ status: 'done', report, etaSeconds: 0, elapsed: report.seconds.total });
    } catch (e) {
      batch.flush();
      const cancelled = isAbort(e) || (e as { name?: string })?.name === 'RunCancelledError';
      useStudioStore.getState().updateRun(cancelled ? { status: 'cancelled' } : { status: 'failed', error: toUiError(e, 'run') });
    } finally {
      if (this.#cancelTimer) clearTimeout(this.#cancelTimer);
      this.#cancelTimer = null;
      this.#runAbort = null;
      const run = useStudioStore.getState().run;
      if (run.id === id) useStudioStore.getState().addHistory(historyEntry(run));
      releaseLock(); // after the entry's last write: a tab that then finds the lock free reads it finished
      void this.refreshPlan();
    }
  }

  // ---- Compare strategies: the sweep, its mixed-precision plan ----

  #sweepAbort: AbortController | null = null;

  /**
   * Runs the strategies of the "Compare strategies" panel over its seeds, with the studio's
   * calibration and evaluation settings; progress and results as they arrive fill the sweep slice.
   * Does nothing while compareBlockers gives a reason (the panel's Compare is disabled then).
   */
  async startSweep(): Promise<void> {
    const state = useStudioStore.getState();
    const { model, settings, sweepForm, run } = state;
    const busy = (s: { status: string }) => s.status === 'running' || s.status === 'cancelling';
    if (model.status !== 'ready' || busy(run) || busy(state.sweep) || !settings.calibration) return;
    const check = compareBlockers({
      modelReady: true, loadId: model.loadId, settings, fieldErrors: state.fieldErrors, strategies: sweepForm.strategies, seeds: sweepForm.seeds, sweepPlan: state.sweepPlan, runActive: false,
    });
    if (check.blockers.length > 0) return;
    const id = `sweep-${Date.now().toString(36)}`;
    const base = runSettingsOf(settings, model.info);
    const modelName = (model.name.split(/[\\/]/).pop() ?? '').trim() || 'model';
    let labels: string[];
    try {
      labels = parseStrategies(sweepForm.strategies).map(strategyLabel);
    } catch (e) {
      state.setSweep({ ...idleSweep(), id, status: 'failed', error: toUiError(e, 'input') });
      return;
    }
    state.setSweep({ ...idleSweep(), id, status: 'running', modelName, modelLoadId: model.loadId, labels, seeds: sweepForm.seeds, stageDetail: 'starting…' });
    state.setMixedPlan({ status: 'idle' });
    this.#sweepAbort = new AbortController();
    // As a run's: a few store updates a second, a new step or result at once.
    const batch = new ProgressBatcher<SweepProgressEvent>((events) => {
      useStudioStore.getState().updateSweep((s) => (s.id === id ? events.reduce((t, e) => ({ ...t, ...applySweepProgress(t, e) }), s) : {}));
    }, { intervalMs: PROGRESS_INTERVAL_MS, urgent: (e) => e.type !== 'linear' });
    const onProgress = (e: SweepProgressEvent) => batch.push(e);
    try {
      const report = await this.#call(this.#sweepAbort.signal, (r) => r.runSweep(model.files, modelName, settings.calibration!, settings.evaluations, base,
        sweepForm.strategies, sweepForm.seeds, sweepForm.sensitivity, settings.evalWindows ?? undefined, Comlink.proxy(onProgress)));
      batch.flush();
      // A cancel after some strategies finished every seed answers with their report (marked "cancelled").
      useStudioStore.getState().updateSweep((s) => (s.id === id ? sweepEnded(report) : {}));
      if (report.sensitivity) void this.refreshMixedPlan();
    } catch (e) {
      batch.flush();
      const cancelled = isAbort(e) || (e as { name?: string })?.name === 'RunCancelledError';
      useStudioStore.getState().updateSweep((s) => (s.id === id ? (cancelled ? { status: 'cancelled', phase: null } : { status: 'failed', phase: null, error: toUiError(e, 'run') }) : {}));
    } finally {
      if (this.#cancelTimer) clearTimeout(this.#cancelTimer);
      this.#cancelTimer = null;
      this.#sweepAbort = null;
    }
  }

  /**
   * Checks the Compare list against the loaded model and the settings in the worker: the passes a
   * sweep would refuse, and why (the rule the sweep applies before any work). Nothing is asked
   * while the list does not parse (the parse error says why) or while a run or sweep holds the worker.
   */
  async refreshSweepPlan(): Promise<void> {
    const { model, settings, sweepForm, setSweepPlan, run, sweep } = useStudioStore.getState();
    const busy = (s: { status: string }) => s.status === 'running' || s.status === 'cancelling';
    if (model.status !== 'ready') {
      setSweepPlan({ status: 'idle' });
      return;
    }
    if (busy(run) || busy(sweep)) return;
    const { strategies } = sweepForm;
    try {
      parseStrategies(strategies);
    } catch {
      setSweepPlan({ status: 'idle' });
      return;
    }
    setSweepPlan({ status: 'loading' });
    try {
      const refusals = await this.#call(undefined, (r) => r.planSweep(model.files, runSettingsOf(settings, model.info), strategies, settings.evaluations.length));
      // A newer request (list, settings or model changed meanwhile) will set its own.
      const now = useStudioStore.getState();
      if (now.sweepForm.strategies === strategies && now.settings === settings && now.model.status === 'ready' && now.model.loadId === model.loadId) {
        now.setSweepPlan({ status: 'ready', refusals, forStrategies: strategies, forSettings: settings, forLoad: model.loadId });
      }
    } catch (e) {
      setSweepPlan({ status: 'error', error: toUiError(e, 'model') });
    }
  }

  /**
   * Stops the sweep after the linear or pass in progress. Before any strategy has measured every
   * seed the worker is terminated if that takes too long (nothing would be kept anyway); after,
   * never, as that would lose the strategies the cancelled sweep keeps.
   */
  cancelSweep(): void {
    const { sweep, updateSweep } = useStudioStore.getState();
    if (sweep.status !== 'running') return;
    updateSweep({ status: 'cancelling' });
    void this.#remote?.cancel();
    if (sweepHasFinishedStrategy(sweep)) return;
    const abort = this.#sweepAbort;
    this.#cancelTimer = setTimeout(() => abort?.abort(), WorkerBridge.CANCEL_GRACE_MS);
  }

  /** Asks the worker for the mixed-precision plan of the target typed, from the last sweep's sensitivity map. */
  async refreshMixedPlan(): Promise<void> {
    const { sweep, sweepForm, setMixedPlan, model } = useStudioStore.getState();
    // A cancelled sweep's report keeps its map when the map's pass had finished.
    if ((sweep.status !== 'done' && sweep.status !== 'cancelled') || !sweep.report?.sensitivity || !sweep.id) return;
    if (model.status !== 'ready' || model.loadId !== sweep.modelLoadId) {
      setMixedPlan({ status: 'idle' });
      return;
    }
    const target = Number(sweepForm.targetBpw);
    if (!(target > 0 && Number.isFinite(target))) {
      setMixedPlan({ status: 'error', target, error: { kind: 'input', message: `"${sweepForm.targetBpw}" is not a number of bits per weight: type one such as 3.5` } });
      return;
    }
    const sweepId = sweep.id;
    setMixedPlan({ status: 'loading', target });
    try {
      const { plan, settings } = await this.#call(undefined, (r) => r.mixedPlan(target));
      const now = useStudioStore.getState();
      if (now.sweep.id === sweepId && Number(now.sweepForm.targetBpw) === target) setMixedPlan({ status: 'ready', target, plan, settings, sweepId });
    } catch (e) {
      if (useStudioStore.getState().sweep.id === sweepId) setMixedPlan({ status: 'error', target, error: toUiError(e, 'input') });
    }
  }

  /**
   * Asks the run to stop: during quantization after the linear in progress (the worker is
   * terminated if that takes too long); during evaluation after the pass in progress, keeping the
   * quantized model (the worker is never terminated then, as that would lose it).
   */
  cancelRun(): void {
    const { run, updateRun } = useStudioStore.getState();
    if (run.status !== 'running') return;
    updateRun({ status: 'cancelling' });
    void this.#remote?.cancel();
    if (run.stage === 'evaluation') return;
    const abort = this.#runAbort;
    this.#cancelTimer = setTimeout(() => {
      if (useStudioStore.getState().run.stage !== 'evaluation') abort?.abort();
    }, WorkerBridge.CANCEL_GRACE_MS);
  }

  /** Greedy continuations of the prompt by the original, RTN and GPTQ models of the last run, streamed token by token. */
  async generate(prompt: string, count = 32): Promise<void> {
    const { setGeneration, run } = useStudioStore.getState();
    const runId = run.id;
    setGeneration({ status: 'running', prompt, runId, steps: {} });
    const onStep = (step: GenerationStep) => {
      const g = useStudioStore.getState().generation;
      if (g.status === 'running' && g.runId === runId) setGeneration({ ...g, steps: { ...g.steps, [step.variant]: step } });
    };
    try {
      const outputs = await this.#call(undefined, (r) => r.generate(prompt, count, Comlink.proxy(onStep)));
      setGeneration({ status: 'done', prompt, runId, outputs });
    } catch (e) {
      setGeneration({ status: 'error', prompt, runId, error: toUiError(e, 'run') });
    }
  }

  /** Builds the last run's checkpoint zip (report.json inside) in the worker and saves it. */
  async download(): Promise<void> {
    const { run, download, setDownload } = useStudioStore.getState();
    if (download.status === 'ready') {
      saveUrl(download.url, download.fileName);
      return;
    }
    const name = checkpointName(run);
    setDownload({ status: 'building' });
    try {
      const blob = await this.#call(undefined, (r) => r.exportZip(name, samplePrompt(run.modelSource)));
      const url = URL.createObjectURL(blob);
      setDownload({ status: 'ready', url, fileName: `${name}.zip`, bytes: blob.size });
      saveUrl(url, `${name}.zip`);
    } catch (e) {
      setDownload({ status: 'error', error: toUiError(e, 'run') });
    }
  }

  /** Saves the last sweep's report.json (the CLI's --sweep shape; a cancelled sweep's says "cancelled"). */
  downloadSweepReport(): void {
    const { sweep } = useStudioStore.getState();
    if (!sweep.report) return;
    const name = sweepReportName(sweep.modelName);
    // As the CLI's: `files` names what was written, here the one file saved.
    const url = URL.createObjectURL(new Blob([`${JSON.stringify({ ...sweep.report, files: [name] }, null, 2)}\n`], { type: 'application/json' }));
    saveUrl(url, name);
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }

  /** Saves the last run's report.json (the CLI's shape: settings, windows, every layer, perplexities). */
  downloadReport(): void {
    const { run } = useStudioStore.getState();
    if (!run.report) return;
    const url = URL.createObjectURL(new Blob([reportJson(run.report)], { type: 'application/json' }));
    saveUrl(url, `${checkpointName(run)}-report.json`);
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }

  /**
   * Builds the last run's GGUF (`kind` 'model', with embeddings and float linears as `floatType`)
   * or its imatrix.gguf in the worker and saves it; a model file is rebuilt when the float type changes.
   */
  async downloadGguf(kind: 'model' | 'imatrix', floatType: 'F16' | 'F32' = 'F16'): Promise<void> {
    const { ggufDownload, setGgufDownload } = useStudioStore.getState();
    const current = ggufDownload[kind];
    const same = kind === 'imatrix' || ggufDownload.modelFloat === floatType;
    if (current.status === 'ready' && same) {
      saveUrl(current.url, current.fileName);
      return;
    }
    if (current.status === 'ready') URL.revokeObjectURL(current.url);
    setGgufDownload(kind === 'model' ? { model: { status: 'building' }, modelFloat: floatType } : { imatrix: { status: 'building' } });
    try {
      const { name, blob } = await this.#call(undefined, (r) => r.exportGguf(kind, floatType));
      const url = URL.createObjectURL(blob);
      setGgufDownload({ [kind]: { status: 'ready', url, fileName: name, bytes: blob.size } });
      saveUrl(url, name);
    } catch (e) {
      setGgufDownload({ [kind]: { status: 'error', error: toUiError(e, 'run') } });
    }
  }
}

function sameSpec(a: LayerCheckSpec, b: LayerCheckSpec): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The page's one bridge. */
export const bridge = new WorkerBridge();

/** The run slice after `events`, in order (a batch of ProgressBatcher's). */
export function applyProgressBatch(r: RunSlice, events: readonly ProgressEvent[]): RunSlice {
  let next = r;
  for (const e of events) next = { ...next, ...applyProgress(next, e) };
  return next;
}

/** The run slice after one progress event. */
export function applyProgress(r: RunSlice, e: ProgressEvent): Partial<RunSlice> {
  switch (e.type) {
    case 'stage':
      if (e.stage === 'evaluation' && !r.evaluation) {
        const total = 3 * r.evalWindows.reduce((s, n) => s + n, 0);
        return { stage: e.stage, stageDetail: e.detail, elapsed: e.elapsed, evaluation: { start: e.elapsed, text: '', variant: null, windowsDone: 0, windows: 0, done: 0, total } };
      }
      return { stage: e.stage, stageDetail: e.detail, elapsed: e.elapsed };
    case 'block':
      return { blocksDone: e.block + 1, blocks: e.blocks, elapsed: e.elapsed };
    case 'linear':
      return {
        layers: [...r.layers, e.report],
        details: e.detail ? { ...r.details, [layerKey(e.report)]: e.detail } : r.details,
        done: e.done,
        total: e.total,
        elapsed: e.elapsed,
        etaSeconds: e.etaSeconds,
      };
    case 'evaluation':
      return {
        elapsed: e.elapsed,
        evaluation: {
          start: r.evaluation?.start ?? e.elapsed,
          text: e.text, variant: e.variant, windowsDone: e.windowsDone, windows: e.windows, done: e.done, total: e.total, step: null,
        },
      };
    case 'evaluationStep':
      return {
        elapsed: e.elapsed,
        evaluation: {
          start: r.evaluation?.start ?? e.elapsed,
          // Windows done: those before this pass, whatever an earlier text's last event said.
          text: e.text, variant: r.evaluation?.variant ?? null, windowsDone: e.from, windows: e.windows, done: e.done, total: e.total,
          step: { from: e.from, to: e.to, step: e.step, steps: e.steps },
        },
      };
    case 'perplexity':
      return { perplexity: { ...r.perplexity, [e.text]: { ...r.perplexity[e.text], [e.variant]: e.value } }, elapsed: e.elapsed };
  }
}

/** The sweep slice after one progress event. */
export function applySweepProgress(s: SweepSlice, e: SweepProgressEvent): Partial<SweepSlice> {
  switch (e.type) {
    case 'stage':
      return { stageDetail: e.detail, elapsed: e.elapsed };
    case 'step':
      return {
        step: e.step, steps: e.steps, phase: e.phase, stepLabels: e.labels, elapsed: e.elapsed,
        stageDetail: `${e.phase === 'quantizing' ? 'Quantizing' : 'Evaluating'} ${e.labels.join(', ')} with seed ${e.seed}`,
        ...(e.phase === 'quantizing' ? { done: 0, total: 0 } : {}),
      };
    case 'linear':
      return { done: e.done, total: e.total, elapsed: e.elapsed };
    case 'result': {
      const [text, ppl] = Object.entries(e.result.perplexity)[0] ?? ['', null];
      const kld = e.result.divergence[text]?.kld_mean ?? null;
      return {
        elapsed: e.elapsed,
        labels: s.labels.includes(e.label) ? s.labels : [...s.labels, e.label],
        results: [...s.results, { label: e.label, seed: e.result.seed, perplexity: ppl ?? null, kld }],
      };
    }
  }
}

/** What is kept of a run for comparison and across reloads (while it runs too, as 'running'). */
export function historyEntry(run: RunSlice): HistoryEntry {
  const status: HistoryEntry['status'] = run.status === 'done' ? 'done'
    : run.status === 'failed' ? 'failed'
      : run.status === 'cancelled' ? 'cancelled'
        : 'running';
  const evaluations = run.report?.evaluations ?? [];
  const unmeasured = evaluations.some((p) => p.original === null || p.rtn === null || p.gptq === null);
  const reason = run.status === 'failed' ? run.error?.message
    : run.status === 'cancelled' ? `cancelled after ${run.layers.length} of ${run.total || '?'} linears`
      : run.status === 'done' && unmeasured ? 'evaluation cancelled: the perplexities marked "not measured" were not measured' : undefined;
  return {
    id: run.id!,
    finishedAt: new Date().toISOString(),
    startedAt: run.startedAt ?? undefined,
    modelName: run.modelName,
    status,
    reason,
    settings: run.settings!,
    evalWindows: run.report ? run.report.evaluations.map((p) => p.windows) : run.evalWindows,
    layers: run.layers,
    evaluations,
    size: run.report?.size ?? null,
    exportPlan: run.report?.export ?? null,
    seconds: run.elapsed,
    estimatedSeconds: run.estimate?.total ?? null,
  };
}

/** "demo-gptq-4bit-g128" ("demo-gptq-2bit-mixed-g32" for a mixed-precision run: 2 bits the base): the zip's name and the folder inside it. */
export function checkpointName(run: Pick<RunSlice, 'modelName' | 'settings'>): string {
  const s = run.settings;
  const base = (run.modelName || 'model').replace(/[^A-Za-z0-9._-]+/g, '-');
  const mixed = s?.moduleBits && Object.keys(s.moduleBits).length > 0 ? '-mixed' : '';
  return s ? `${base}-gptq-${s.bits}bit${mixed}-g${s.groupSize}${s.sym ? '' : '-asym'}${s.actOrder ? '-actorder' : ''}` : `${base}-gptq`;
}

function saveUrl(url: string, fileName: string): void {
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
}
