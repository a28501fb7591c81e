import type { UiError } from '../store';

const TITLES: Record<UiError['kind'], string> = {
  'no-webgpu': 'No WebGPU here',
  worker: 'The worker failed',
  reference: 'The f64 reference failed',
  input: 'This address asks for something invalid',
  model: 'This model cannot be used',
  run: 'The run stopped',
  'device-lost': 'The GPU device was lost',
};

/** An error in plain words, with what to do about it when there is something to do. */
export function ErrorNotice({ error }: { error: UiError }) {
  return (
    <div className="error" role="alert" data-testid="error" data-kind={error.kind}>
      <strong>{TITLES[error.kind]}.</strong> <span>{error.message}</span>
      {error.help && <p className="help">{error.help}</p>}
    </div>
  );
}
