import { bridge, checkpointName } from '../bridge';
import { ErrorNotice } from '../components/ErrorNotice';
import { loadSnippets } from '../../core/export/model-card';
import { fmtBytes } from '../format';
import { useDownload, useRunPick } from '../store/hooks';
import { CopyButton } from './CopyButton';
import { RunLabel } from './RunLabel';
import { samplePrompt } from './run-settings';
import { GgufDownload } from './GgufDownload';

/** The quantized checkpoint as a zip (and the GGUF for llama.cpp), and the Python that loads the zip with transformers or vLLM. */
export function DownloadPanel() {
  const run = useRunPick((r) => ({ status: r.status, report: r.report, modelSource: r.modelSource, modelName: r.modelName, settings: r.settings }));
  const download = useDownload();
  const refusal = run.report?.export.refusal ?? null;
  const building = download.status === 'building';
  const enabled = run.status === 'done' && run.report !== null && refusal === null && !building;
  const folder = checkpointName(run);
  const snippets = loadSnippets(folder, samplePrompt(run.modelSource));

  return (
    <section className="panel" data-testid="download-panel" data-status={download.status}>
      <h2>Download</h2>
      <RunLabel />
      <p>
        <button type="button" className="primary" data-testid="download" disabled={!enabled} onClick={() => void bridge.download()}>
          Download the checkpoint (.zip)
        </button>{' '}
        <button type="button" data-testid="download-report" disabled={run.status !== 'done' || run.report === null} onClick={() => bridge.downloadReport()}>
          Download report.json
        </button>
      </p>
      <p className="note">
        report.json holds what the command line writes: the settings, the calibration windows, every layer’s errors, the
        perplexities and timings. The zip holds it too, beside the checkpoint.
      </p>
      {run.status !== 'done' && <p className="note">Available once a run has finished.</p>}
      {run.status === 'done' && refusal && <p className="warning" data-testid="download-refusal">No download: {refusal}.</p>}
      <p role="status" data-testid="download-status">
        {building && 'Building the zip (packing every linear)…'}
        {download.status === 'ready' && <>Saved <code>{download.fileName}</code> ({fmtBytes(download.bytes)}). Click again to save it again.</>}
      </p>
      {download.status === 'error' && <ErrorNotice error={download.error} />}
      <GgufDownload />
      <h3>Load it</h3>
      <p className="note">Unzip it; the folder <code>{folder}</code> loads with either of these.</p>
      <div className="snippet">
        <div className="snippet-head"><strong>transformers</strong> <CopyButton text={snippets.transformers} label="Copy the transformers snippet" testId="copy-transformers" /></div>
        <pre data-testid="snippet-transformers"><code>{snippets.transformers}</code></pre>
      </div>
      <div className="snippet">
        <div className="snippet-head"><strong>vLLM</strong> <CopyButton text={snippets.vllm} label="Copy the vLLM snippet" testId="copy-vllm" /></div>
        <pre data-testid="snippet-vllm"><code>{snippets.vllm}</code></pre>
      </div>
    </section>
  );
}
