import { useId, useState } from 'react';
import type { ModelVariant } from '../../core/run';
import { bridge } from '../bridge';
import { ErrorNotice } from '../components/ErrorNotice';
import { useGeneration, useRun } from '../store/hooks';

const COLUMNS: { key: ModelVariant; title: string }[] = [
  { key: 'original', title: 'Original' },
  { key: 'rtn', title: 'RTN' },
  { key: 'gptq', title: 'GPTQ' },
];

/** Greedy continuations of one prompt by the original, RTN and GPTQ models, side by side. */
export function Generations() {
  const run = useRun();
  const generation = useGeneration();
  const [prompt, setPrompt] = useState('In the beginning');
  const promptId = useId();
  const ready = run.status === 'done';
  const busy = generation.status === 'running';

  return (
    <section className="panel" data-testid="generations" data-status={generation.status}>
      <h2>Generations</h2>
      {!ready && <p className="note">Available once a run has finished.</p>}
      <form className="generate-form" onSubmit={(e) => { e.preventDefault(); if (prompt.trim()) void bridge.generate(prompt); }}>
        <label htmlFor={promptId}>Prompt</label>
        <input id={promptId} type="text" value={prompt} disabled={!ready || busy} data-testid="prompt" onChange={(e) => setPrompt(e.target.value)} />
        <button type="submit" disabled={!ready || busy || prompt.trim() === ''} data-testid="generate">
          {busy ? 'Generating…' : 'Generate'}
        </button>
      </form>
      {generation.status === 'error' && <ErrorNotice error={generation.error} />}
      <div className="generation-columns" aria-live="polite" aria-busy={busy}>
        {COLUMNS.map((c) => (
          <div key={c.key} className="generation">
            <h3>{c.title}</h3>
            <p data-testid={`generation-${c.key}`}>
              {generation.status === 'done' ? generation.outputs[c.key] : generation.status === 'running' ? '…' : ''}
            </p>
          </div>
        ))}
      </div>
    </section>
  );
}
