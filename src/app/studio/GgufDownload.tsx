import { useId, useState } from 'react';
import { bridge } from '../bridge';
import { ErrorNotice } from '../components/ErrorNotice';
import { fmtBytes } from '../format';
import { useGgufDownload, useRunPick } from '../store/hooks';
import type { DownloadSlice } from '../store/studio-state';

/** The last run's GGUF for llama.cpp and its imatrix.gguf, or why the run has none. */
export function GgufDownload() {
  const run = useRunPick((r) => ({ status: r.status, report: r.report }));
  const d = useGgufDownload();
  const floatId = useId();
  const [floatType, setFloatType] = useState<'F16' | 'F32'>('F16');
  const plan = run.report?.gguf ?? null;
  const done = run.status === 'done' && run.report !== null;
  const ready = done && plan !== null && plan.refusal === null;
  return (
    <div data-testid="gguf-download">
      <p>
        <button type="button" data-testid="download-gguf" disabled={!ready || d.model.status === 'building'} onClick={() => void bridge.downloadGguf('model', floatType)}>
          Download the GGUF{plan?.type ? ` (${plan.type})` : ''}
        </button>{' '}
        <button type="button" data-testid="download-imatrix" disabled={!ready || d.imatrix.status === 'building'} onClick={() => void bridge.downloadGguf('imatrix')}>
          Download imatrix.gguf
        </button>{' '}
        <label htmlFor={floatId}>embeddings</label>{' '}
        <select id={floatId} value={floatType} data-testid="gguf-float" onChange={(e) => setFloatType(e.target.value as 'F16' | 'F32')}>
          <option value="F16">F16</option>
          <option value="F32">F32</option>
        </select>
      </p>
      {done && plan?.refusal && <p className="warning" data-testid="gguf-refusal">No GGUF: {plan.refusal}.</p>}
      <p className="note">
        For llama.cpp, Ollama or LM Studio: the run&apos;s own codes in {plan?.type ?? 'Q4_0, Q4_1 or Q8_0'} blocks. imatrix.gguf holds the
        run&apos;s calibration statistics for <code>llama-quantize --imatrix</code>.
      </p>
      <Status testId="gguf-status" what="the GGUF" d={d.model} />
      <Status testId="imatrix-status" what="imatrix.gguf" d={d.imatrix} />
    </div>
  );
}

function Status({ testId, what, d }: { testId: string; what: string; d: DownloadSlice }) {
  return (
    <>
      <p role="status" data-testid={testId}>
        {d.status === 'building' && `Building ${what}…`}
        {d.status === 'ready' && <>Saved <code>{d.fileName}</code> ({fmtBytes(d.bytes)}).</>}
      </p>
      {d.status === 'error' && <ErrorNotice error={d.error} />}
    </>
  );
}
