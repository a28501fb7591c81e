import { useEffect } from 'react';
import type { AdapterSummary } from '../../gpu/device';
import { describeAdapter } from '../../gpu/device';
import { bridge } from '../bridge';
import { fmtBytes, fmtNumber, yesNo } from '../format';
import { useAdapter } from '../store/hooks';
import { ErrorNotice } from './ErrorNotice';
import { SHOWN_LIMITS } from '../adapter-limits';

function orDash(s: string): string {
  return s === '' ? '—' : s;
}

function AdapterDetails({ summary: s }: { summary: AdapterSummary }) {
  const unnamed = !s.vendor && !s.architecture && !s.device && !s.description;
  return (
    <>
      <p className="adapter-name" data-testid="adapter-name">
        {describeAdapter(s)}
      </p>
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
 * Which WebGPU adapter the worker's engine got, and the limits that matter to it. The worker
 * chooses and measures; this panel only shows what the bridge put in the store.
 */
export function AdapterPanel() {
  const adapter = useAdapter();
  useEffect(() => {
    void bridge.loadAdapter();
  }, []);

  return (
    <section className="panel" data-testid="adapter" data-status={adapter.status} aria-busy={adapter.status === 'loading'}>
      <h2>WebGPU adapter</h2>
      <p className="note">Chosen inside the worker, where the quantization runs.</p>
      {(adapter.status === 'idle' || adapter.status === 'loading') && <p>Asking the worker for an adapter…</p>}
      {adapter.status === 'error' && <ErrorNotice error={adapter.error} />}
      {adapter.status === 'ready' && <AdapterDetails summary={adapter.summary} />}
    </section>
  );
}
