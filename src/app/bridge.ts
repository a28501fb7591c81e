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
import { useStudioStore } from './store';
import type { UiError } from './store';

type Remote = Comlink.Remote<GptqWorkerApi>;

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
}

function sameSpec(a: LayerCheckSpec, b: LayerCheckSpec): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The page's one bridge. */
export const bridge = new WorkerBridge();
