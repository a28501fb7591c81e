import { useEffect, useId, useState } from 'react';
import type { ModelVariant } from '../../core/run';
import { bridge } from '../bridge';
import { ErrorNotice } from '../components/ErrorNotice';
import { useGeneration, useRunPick } from '../store/hooks';
import { RunLabel } from './RunLabel';
import { samplePrompt, wholeRule } from './run-settings';

const COLUMNS: { key: ModelVariant; title: string }[] = [
  { key: 'original', title: 'Original' },
  { key: 'rtn', title: 'RTN' },
  { key: 'gptq', title: 'GPTQ' },
];

const countRule = wholeRule('new tokens', 1);
const MAX_TOKENS = 256;

/**
 * Greedy continuations of one prompt by the original, RTN and GPTQ models, side by side, each
 * streamed token by token as the worker chooses it, with how many of how many have come.
 */
export function Generations() {
  const run = useRunPick((r) => ({ id: r.id, status: r.status, modelSource: r.modelSource }));
  const generation = useGeneration();
  const [prompt, setPrompt] = useState(() => samplePrompt(run.modelSource));
  const [count, setCount] = useState('32');
  // A new run's model may want another prompt (the demo's Bible, or any other model's).
  useEffect(() => setPrompt(samplePrompt(run.modelSource)), [run.modelSource]);
  const promptId = useId();
  const countId = useId();
  const ready = run.status === 'done';
  const busy = generation.status === 'running';
  const countError = countRule(count) ?? (Number(count) > MAX_TOKENS ? `at most ${MAX_TOKENS} new tokens` : null);
  const mine = generation.status !== 'idle' && generation.runId === run.id;

  return (
    <section className="panel" data-testid="generations" data-status={mine ? generation.status : 'idle'}>
      <h2>Generations</h2>
      <RunLabel />
      {!ready && <p className="note">Available once a run has finished.</p>}
      <form className="generate-form" onSubmit={(e) => { e.preventDefault(); if (prompt.trim() && !countError) void bridge.generate(prompt, Number(count)); }}>
        <label htmlFor={promptId}>Prompt</label>
        <input id={promptId} type="text" value={prompt} disabled={!ready || busy} data-testid="prompt" onChange={(e) => setPrompt(e.target.value)} />
        <label htmlFor={countId}>New tokens</label>
        <input id={countId} type="text" inputMode="numeric" className="short" value={count} disabled={!ready || busy} data-testid="generate-count"
          aria-invalid={countError !== null} onChange={(e) => setCount(e.target.value)} />
        <button type="submit" disabled={!ready || busy || prompt.trim() === '' || countError !== null} data-testid="generate">
          {busy ? 'Generating…' : 'Generate'}
        </button>
        {countError && <span className="hint field-error">{countError}</span>}
      </form>
      {mine && generation.status === 'error' && <ErrorNotice error={generation.error} />}
      <div className="generation-columns" aria-live="polite" aria-busy={busy}>
        {COLUMNS.map((c) => {
          const step = mine && generation.status === 'running' ? generation.steps[c.key] : undefined;
          const text = mine && generation.status === 'done' ? generation.outputs[c.key] : step?.text ?? '';
          const waiting = mine && generation.status === 'running' && !step;
          return (
            <div key={c.key} className="generation">
              <h3>{c.title}</h3>
              {step && (
                <progress className="generation-progress" value={step.tokens} max={step.count} data-testid={`generation-progress-${c.key}`}
                  aria-label={`${c.title}: ${step.tokens} of ${step.count} tokens`} />
              )}
              <p data-testid={`generation-${c.key}`} data-tokens={step?.tokens ?? (mine && generation.status === 'done' ? 'done' : '')}>
                {waiting ? <span className="hint">waiting for the models before it…</span> : text}
                {step && step.tokens < step.count && <span className="caret" aria-hidden="true">▍</span>}
              </p>
              {step && <p className="hint" data-testid={`generation-count-${c.key}`}>{step.tokens} of {step.count} tokens</p>}
            </div>
          );
        })}
      </div>
    </section>
  );
}
