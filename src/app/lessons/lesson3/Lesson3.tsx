import { useEffect, useMemo, useState } from 'react';
import { DEFAULT_WALK, walkLayer, type WalkOptions } from '../../../core/lessons/layer-walk';
import { Heatmap } from '../Heatmap';
import { ErrorChart } from './ErrorChart';
import { OrderStrip } from './OrderStrip';
import { Player } from './Player';
import { StepSummary } from './StepSummary';
import { walkView } from './view';
import { WalkControls } from './WalkControls';

/** Time between steps while playing, ms. */
const PLAY_INTERVAL_MS = 900;

/** Lesson 3: GPTQ on a small seeded layer, one column per step, beside RTN. */
export function Lesson3() {
  const [options, setOptions] = useState<WalkOptions>(DEFAULT_WALK);
  const [step, setStep] = useState(0);
  const [playing, setPlaying] = useState(false);
  const walk = useMemo(() => walkLayer(options), [options]);
  const view = useMemo(() => walkView(walk, step), [walk, step]);
  const cols = view.cols;

  useEffect(() => {
    if (!playing) return;
    if (step >= cols) {
      setPlaying(false);
      return;
    }
    const timer = setTimeout(() => setStep((s) => Math.min(cols, s + 1)), PLAY_INTERVAL_MS);
    return () => clearTimeout(timer);
  }, [playing, step, cols]);

  const { rows, tokens } = walk.layer;
  return (
    <>
      <section className="panel">
        <p>
          A whole layer now: {rows} output rows, {cols} input columns, and {tokens} calibration inputs drawn from a
          seed. GPTQ visits one column at a time. It rounds that column to the grid, measures how far each weight moved,
          and pushes a correction into every column it has not visited yet, in the proportions the Cholesky factor U
          of H⁻¹ sets. Columns already visited never change again. RTN rounds every column on the same grid, with no
          corrections.
        </p>
        <WalkControls options={options} onChange={setOptions} />
        <Player
          step={step}
          last={cols}
          playing={playing}
          onStep={(s) => {
            setPlaying(false);
            setStep(Math.max(0, Math.min(cols, s)));
          }}
          onPlay={() => {
            if (step >= cols) setStep(0);
            setPlaying(true);
          }}
          onPause={() => setPlaying(false)}
        />
      </section>
      <section className="panel">
        <StepSummary view={view} />
        <OrderStrip items={view.order} actOrder={options.actOrder} />
        <div className="heatmaps">
          <Heatmap data={view.W} testId="l3-W" />
          {view.update && <Heatmap data={view.update} testId="l3-update" />}
        </div>
      </section>
      <section className="panel">
        <h3>Output error so far</h3>
        <ErrorChart points={view.errors} step={view.step} />
      </section>
      <section className="panel">
        <h3>What GPTQ steers by</h3>
        <p className="note">
          H says how strongly the inputs excite each pair of columns; its diagonal is what act-order sorts by. U holds
          the proportions: step j divides the column’s error by U[j, j] and subtracts that times row j of U from the
          later columns. Both are shown in the order GPTQ visits the columns.
        </p>
        <div className="heatmaps">
          <Heatmap data={view.H} testId="l3-H" />
          <Heatmap data={view.U} testId="l3-U" />
        </div>
      </section>
    </>
  );
}
