import { useMemo } from 'react';
import { AdapterPanel } from './components/AdapterPanel';
import { ErrorNotice } from './components/ErrorNotice';
import { LayerCheckPanel } from './components/LayerCheckPanel';
import { NotYet } from './components/NotYet';
import { parseRoute } from './route';

export function App() {
  const route = useMemo(() => parseRoute(window.location.search), []);
  return (
    <main>
      <header>
        <h1>
          <a href="./">GPTQ Studio</a>
        </h1>
        <p className="tagline">GPTQ quantization in the browser, on this machine's GPU through WebGPU. Nothing leaves the page.</p>
      </header>
      <AdapterPanel />
      {route.page === 'studio' && <NotYet />}
      {route.page === 'layer-check' && 'spec' in route && <LayerCheckPanel spec={route.spec} />}
      {route.page === 'layer-check' && 'invalid' in route && (
        <section className="panel" data-testid="layer-check" data-status="error">
          <h2>Layer check</h2>
          <ErrorNotice error={{ kind: 'input', message: route.invalid }} />
        </section>
      )}
    </main>
  );
}
