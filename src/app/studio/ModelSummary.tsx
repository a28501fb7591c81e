import { useId } from 'react';
import { fmtBytes, fmtNumber, yesNo } from '../format';
import { useStudioStore } from '../store';
import { useModel, useRunStatus } from '../store/hooks';
import type { ModelInfo } from '../../worker/types';

/** What was recognised in the model's files, as soon as their headers are read. */
export function ModelSummary() {
  const model = useModel();
  const runStatus = useRunStatus();
  const nameId = useId();
  if (model.status === 'empty') return null;
  const locked = runStatus === 'running' || runStatus === 'cancelling';
  return (
    <section className="panel" data-testid="model-summary" data-status={model.status} aria-live="polite">
      <h2>{model.status === 'ready' ? `Recognised: ${model.name}` : model.name}</h2>
      {model.status === 'ready' && (
        <p className="field">
          <label htmlFor={nameId}>Name</label>{' '}
          <input id={nameId} type="text" value={model.name} disabled={locked} data-testid="model-name" spellCheck={false}
            onChange={(e) => useStudioStore.getState().renameModel(e.target.value)} />{' '}
          <span className="hint">
            {model.source === 'files' && !model.info.configName ? 'the files do not say; name the model (runs, the zip and report.json carry it)' : 'runs, the zip and report.json carry it'}
          </span>
        </p>
      )}
      {model.status === 'loading' && <p className="note">Reading the headers…</p>}
      {model.status === 'error' && <p className="note">Nothing usable was recognised (see the error above).</p>}
      {model.status === 'ready' && <ModelFacts info={model.info} />}
    </section>
  );
}

function ModelFacts({ info }: { info: ModelInfo }) {
  const s = info.summary;
  return (
    <table className="facts">
      <tbody>
        <tr><th scope="row">Architecture</th><td data-testid="model-arch">{s.arch}</td></tr>
        <tr><th scope="row">Blocks</th><td className="num" data-testid="model-blocks" data-value={s.blocks}>{s.blocks}</td></tr>
        <tr><th scope="row">Hidden size</th><td className="num" data-testid="model-hidden" data-value={s.hiddenSize}>{fmtNumber(s.hiddenSize)}</td></tr>
        <tr><th scope="row">Heads / KV heads</th><td className="num">{info.heads} / {info.kvHeads}</td></tr>
        {info.facts?.map((f) => (
          <tr key={f.key}><th scope="row">{f.label}</th><td data-testid={`model-fact-${f.key}`}>{f.value}</td></tr>
        ))}
        <tr><th scope="row">MLP width</th><td className="num" data-testid="model-mlp" data-value={info.intermediateSize}>{fmtNumber(info.intermediateSize)}</td></tr>
        <tr><th scope="row">Vocabulary / context</th><td className="num">{fmtNumber(info.vocabSize)} / {fmtNumber(info.maxPositions)}</td></tr>
        <tr><th scope="row">Parameters</th><td className="num" data-testid="model-parameters" data-value={s.parameters}>{fmtNumber(s.parameters)}</td></tr>
        <tr><th scope="row">Stored dtype</th><td data-testid="model-dtype">{s.dtype}</td></tr>
        <tr><th scope="row">Tokenizer</th><td data-testid="model-tokenizer" data-value={String(s.tokenizer)}>{yesNo(s.tokenizer)}</td></tr>
        <tr><th scope="row">Weight bytes</th><td className="num" data-testid="model-bytes" data-value={s.bytes}>{fmtBytes(s.bytes)}</td></tr>
        <tr><th scope="row">Files</th><td>{s.files.join(', ')}</td></tr>
      </tbody>
    </table>
  );
}
