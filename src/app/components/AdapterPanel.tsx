import { useEffect } from 'react';
import type { AdapterSummary } from '../../gpu/device';
import { describeAdapter } from '../../gpu/device';
import { bridge } from '../bridge';
import { fmtBytes, fmtNumber, yesNo } from '../format';
import { useAdapter, useSpeed } from '../store/hooks';
import { ErrorNotice } from './ErrorNotice';
import { SHOWN_LIMITS } from '../adapter-limits';
import { describeAttentionChoice } from '../../core/kernel-choice';
import { INVERSE_STEP } from '../../core/time-model';

function orDash(s: string): string {
  return s === '' ? '—' : s;
}

function AdapterDetails({ summary: s }: { summary: AdapterSummary }) {
  const unnamed = !s.vendor && !s.architecture && !s.device && !s.description;
  return (
    <>
      {unnamed && <p className="note">The browser gives no name for this adapter (Chrome's OpenGL ES adapters give none).</p>}
      <table className="facts">
        <tbody>
          <tr><th>Vendor</th><td data-testid="adapter-vendor">{orDash(s.vendor)}</td></tr>
          <tr><th>Architecture</th><td data-testid="adapter-architecture">{orDash(s.architecture)}</td></tr>
          <tr><th>Device</th><td data-testid="adapter-device">{orDash(s.device)}</td></tr>
          <tr><th>Description</th><td data-testid="adapter-description">{orDash(s.description)}</td></tr>
          <tr>
            <th>Software fallback</th>
            <td data-testid="adapter-fallback" data-value={String(s.isFallbackAdapter)}>{yesNo(s.isFallbackAdapter)}</td>
          </tr>
          <tr>
            <th>Feature level</th>
            <td data-testid="adapter-feature-level" data-value={s.featureLevel}>{s.featureLevel}</td>
          </tr>
          <tr><th>shader-f16</th><td data-testid="adapter-f16" data-value={String(s.shaderF16)}>{yesNo(s.shaderF16)}</td></tr>
          <tr><th>Subgroups</th><td data-testid="adapter-subgroups" data-value={String(s.subgroups)}>{yesNo(s.subgroups)}</td></tr>
          <tr>
            <th>Timestamp queries</th>
            <td data-testid="adapter-timestamps" data-value={String(s.timestampQuery)}>{yesNo(s.timestampQuery)}</td>
          </tr>
        </tbody>
      </table>
      <h3>Limits</h3>
      <table className="facts limits">
        <tbody>
          {SHOWN_LIMITS.map(({ name, bytes, why }) => {
            const v = s.limits[name];
            return (
              <tr key={name} data-testid={`limit-${name}`} data-value={v}>
                <th><code>{name}</code></th>
                <td className="num">{bytes ? `${fmtBytes(v)} (${fmtNumber(v)})` : fmtNumber(v)}</td>
                <td className="why">{why}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </>
  );
}

/**
 * Which WebGPU adapter the worker's engine got, in one line (its name and measured speed) that
 * opens onto the details and the limits that matter to the engine. The worker chooses and
 * measures; this only shows what the bridge put in the store. Without WebGPU the message shows in full.
 */
export function AdapterPanel() {
  const adapter = useAdapter();
  const speed = useSpeed();
  useEffect(() => {
    void bridge.loadAdapter();
  }, []);
  const measured = speed.status === 'ready'
    ? `${speed.speed.gflops.toPrecision(3)} GFLOP/s measured`
    : speed.status === 'measuring' ? 'measuring its speed…' : speed.status === 'error' ? 'speed not measured' : '';

  if (adapter.status === 'error') {
    return (
      <section className="panel" data-testid="adapter" data-status="error">
        <h2>WebGPU adapter</h2>
        <ErrorNotice error={adapter.error} />
      </section>
    );
  }
  return (
    <details className="adapter-line" data-testid="adapter" data-status={adapter.status} aria-busy={adapter.status === 'loading'}>
      <summary data-testid="adapter-summary">
        <span className="adapter-label">WebGPU:</span>{' '}
        {adapter.status === 'ready' ? (
          <>
            <span data-testid="adapter-name">{describeAdapter(adapter.summary)}</span>
            {measured && <span data-testid="adapter-speed" data-value={speed.status === 'ready' ? speed.speed.gflops : ''}> · {measured}</span>}
          </>
        ) : 'asking the worker for an adapter…'}
        <span className="hint"> · details</span>
      </summary>
      {adapter.status === 'ready' && (
        <div className="adapter-details">
          <p className="note">Chosen inside the worker, where the quantization runs.</p>
          {speed.status === 'ready' && (
            <p className="note" data-testid="adapter-speed-detail">
              Measured when the worker started: a {speed.speed.probe?.n ?? '?'}×{speed.speed.probe?.n ?? '?'} matrix product at{' '}
              {speed.speed.gflops.toPrecision(3)} GFLOP/s, a GPU round trip in {(speed.speed.syncSeconds * 1000).toPrecision(2)} ms
              {speed.speed.linear && (
                <>
                  , and a quantized linear&apos;s fixed cost of {(speed.speed.linear.seconds * 1000).toPrecision(2)} ms (
                  {(speed.speed.linear.stepSeconds * 1000).toPrecision(2)} ms more for each further {INVERSE_STEP} columns)
                </>
              )}
              . The default run sizes and the time estimates come from these.
            </p>
          )}
          {speed.status === 'ready' && speed.speed.kernels && (
            <p className="note" data-testid="adapter-kernels" data-attention={speed.speed.kernels.attention.kernel}>
              Kernels timed here: the matrix product on {speed.speed.kernels.gemm}; the forward pass&apos;s attention on the{' '}
              {describeAttentionChoice(speed.speed.kernels.attention)}.
            </p>
          )}
          <AdapterDetails summary={adapter.summary} />
        </div>
      )}
    </details>
  );
}
