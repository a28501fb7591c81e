import { useId } from 'react';

interface PlayerProps {
  step: number;
  last: number;
  playing: boolean;
  onStep(step: number): void;
  onPlay(): void;
  onPause(): void;
}

/** Start, back, play or pause, forward, and a slider over the steps. */
export function Player({ step, last, playing, onStep, onPlay, onPause }: PlayerProps) {
  const sliderId = useId();
  return (
    <div className="player" role="group" aria-label="Step through GPTQ">
      <button type="button" onClick={() => onStep(0)} disabled={step === 0}>
        Start
      </button>
      <button type="button" onClick={() => onStep(step - 1)} disabled={step === 0}>
        ◀ Step back
      </button>
      {playing ? (
        <button type="button" onClick={onPause}>Pause</button>
      ) : (
        <button type="button" onClick={onPlay}>▶ Play</button>
      )}
      <button type="button" onClick={() => onStep(step + 1)} disabled={step === last}>
        Step forward ▶
      </button>
      <label htmlFor={sliderId} className="visually-hidden">Step</label>
      <input id={sliderId} type="range" min={0} max={last} value={step} onChange={(e) => onStep(Number(e.target.value))} />
      <span data-testid="l3-step" data-value={step} aria-live="polite">
        step {step} of {last}
      </span>
    </div>
  );
}
