import { useEffect, useState } from 'react';

/** Copies `text` to the clipboard and says whether it worked (no clipboard: says so). */
export function CopyButton({ text, label, testId }: { text: string; label: string; testId?: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  useEffect(() => {
    if (state === 'idle') return;
    const t = setTimeout(() => setState('idle'), 2000);
    return () => clearTimeout(t);
  }, [state]);
  const copy = async () => {
    try {
      if (!navigator.clipboard?.writeText) throw new Error('no clipboard');
      await navigator.clipboard.writeText(text);
      setState('copied');
    } catch {
      setState('failed');
    }
  };
  return (
    <span className="copy">
      <button type="button" data-testid={testId} aria-label={label} onClick={() => void copy()}>Copy</button>
      <span role="status" className="hint">
        {state === 'copied' ? 'Copied.' : state === 'failed' ? 'The clipboard is not available here; select the text instead.' : ''}
      </span>
    </span>
  );
}
