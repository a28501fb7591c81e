import { lazy, Suspense, useMemo } from 'react';
import { AdapterPanel } from './components/AdapterPanel';
import { ErrorNotice } from './components/ErrorNotice';
import { LayerCheckPanel } from './components/LayerCheckPanel';
import { parseRoute } from './route';

// Lessons load on their own page only (recharts and the lesson code stay out of the front page).
const LessonPage = lazy(() => import('./lessons/LessonPage'));
// The studio (charts included) loads after the first paint of the front page.
const Studio = lazy(() => import('./studio/Studio').then((m) => ({ default: m.Studio })));

export function App() {
  const route = useMemo(() => parseRoute(window.location.search), []);
  return (
    <main>
      <header>
        <h1>
          <a href="./">GPTQ Studio</a>
        </h1>
        <p className="tagline">GPTQ quantization in the browser, on this machine's GPU through WebGPU. Nothing leaves the page.</p>
        {route.page !== 'lesson' && <AdapterPanel />}
      </header>
      {route.page === 'studio' && (
        <Suspense fallback={<p>Loading the studio…</p>}>
          <Studio />
        </Suspense>
      )}
      {route.page === 'lesson' && 'lesson' in route && (
        <Suspense fallback={<p>Loading the lesson…</p>}>
          <LessonPage n={route.lesson} />
        </Suspense>
      )}
      {route.page === 'lesson' && 'invalid' in route && (
        <section className="panel" data-testid="lesson" data-status="error">
          <h2>Lessons</h2>
          <ErrorNotice error={{ kind: 'input', message: route.invalid }} />
          <p><a href="./#lessons">All lessons</a></p>
        </section>
      )}
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
