import { useEffect, useId, useState } from 'react';
import { bridge } from '../bridge';
import { ErrorNotice } from '../components/ErrorNotice';
import { useModel, useRunStatus } from '../store/hooks';
import { hubProgressText } from './chart-data';
import { useWindowDrop } from './useWindowDrop';

/** The Hub base URL tests point at a local server (`?hub=http://127.0.0.1:…`), else the real Hub. */
function hubBaseUrl(): string | undefined {
  return new URLSearchParams(window.location.search).get('hub') ?? undefined;
}

/** Sets the non-standard `webkitdirectory` attribute (React has no prop for it). */
function folderPicker(el: HTMLInputElement | null) {
  el?.setAttribute('webkitdirectory', '');
}

/**
 * Where a model comes from: a checkpoint folder or its files dropped anywhere on the page or
 * picked, the demo model, or a Hugging Face Hub repo (downloaded with progress, cancellable).
 */
export function ModelLoader() {
  const model = useModel();
  const runStatus = useRunStatus();
  const [repo, setRepo] = useState('');
  const filesId = useId();
  const folderId = useId();
  const repoId = useId();
  const busy = model.status === 'loading' || runStatus === 'running' || runStatus === 'cancelling';
  const dragging = useWindowDrop(!busy, (files, name) => void bridge.loadFiles(files, 'files', name));

  useEffect(() => {
    if (model.status === 'ready' && model.source === 'hub') setRepo('');
  }, [model]);

  const pick = (list: FileList | null) => {
    const files = Array.from(list ?? []);
    if (files.length > 0) void bridge.loadFiles(files, 'files');
  };
  const fetchHub = () => {
    const id = repo.trim();
    if (id) void bridge.loadHub(id, hubBaseUrl());
  };
  const hub = model.status === 'loading' && model.source === 'hub' ? model.progress : null;

  return (
    <section className="panel model-loader" data-testid="model-loader" aria-busy={model.status === 'loading'}>
      <h2>Quantize a model</h2>
      <p className="lead">
        Start with the small demo model, or drop a Hugging Face checkpoint folder (config.json, *.safetensors,
        tokenizer.json) anywhere on this page. The files stay on this machine.
      </p>
      <p>
        <button type="button" className="primary" disabled={busy} data-testid="demo-model" onClick={() => void bridge.loadDemo()}>
          Load the demo model
        </button>{' '}
        <span className="hint">a 722K-parameter Llama trained on the King James Bible, with its texts</span>
      </p>
      <div className="loader-options">
        <span className="file-field">
          <label htmlFor={folderId}>Checkpoint folder</label>
          <input id={folderId} ref={folderPicker} type="file" multiple disabled={busy} data-testid="model-folder-input"
            onChange={(e) => { pick(e.target.files); e.target.value = ''; }} />
        </span>
        <span className="file-field">
          <label htmlFor={filesId}>Or its files</label>
          <input id={filesId} type="file" multiple disabled={busy} data-testid="model-input"
            onChange={(e) => { pick(e.target.files); e.target.value = ''; }} />
        </span>
      </div>
      <form className="hub-form" onSubmit={(e) => { e.preventDefault(); fetchHub(); }}>
        <label htmlFor={repoId}>Hugging Face Hub repo</label>
        <input id={repoId} type="text" value={repo} placeholder="HuggingFaceTB/SmolLM2-135M" spellCheck={false}
          autoComplete="off" disabled={busy} data-testid="hub-repo" onChange={(e) => setRepo(e.target.value)} />
        <button type="submit" disabled={busy || repo.trim() === ''} data-testid="hub-fetch">Fetch</button>
      </form>
      {model.status === 'loading' && (
        <div className="loading-status" data-testid="model-loading" role="status">
          {model.source === 'hub' ? (
            <>
              <span>Downloading {model.name}: {hubProgressText(hub)}</span>
              {hub && hub.total > 0 && <progress value={hub.done} max={hub.total} aria-label="Download progress" />}
              <button type="button" data-testid="hub-cancel" onClick={() => bridge.cancelHub()}>Cancel</button>
            </>
          ) : (
            <span>Reading {model.source === 'demo' ? 'the demo model' : model.name}…</span>
          )}
        </div>
      )}
      {model.status === 'error' && <ErrorNotice error={model.error} />}
      {dragging && (
        <div className="drop-overlay" aria-hidden="true">
          <p>Drop the checkpoint folder or its files to load them</p>
        </div>
      )}
    </section>
  );
}
