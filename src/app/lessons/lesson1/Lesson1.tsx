import { useMemo, useReducer, useState } from 'react';
import { analyzeToyRow } from '../../../core/lessons/toy-row';
import { fromPx, planeScene, toyRowView, type PlaneView, type Point } from '../../../core/lessons/plane';
import { AllPointsTable } from './AllPointsTable';
import { CandidateTable } from './CandidateTable';
import { GptqPathTable } from './GptqPathTable';
import { GridControls } from './GridControls';
import { InputsEditor } from './InputsEditor';
import { PlanePicture } from './PlanePicture';
import { initialToyRow, toyReducer } from './state';
import { WeightControls } from './WeightControls';

/**
 * Lesson 1: a row on a 2-bit grid, opening at W = [0.70, −0.30] where GPTQ visibly beats rounding
 * (the notes' W = [0.80, −0.40], where they coincide, is a button away), every number recomputed by
 * src/core/lessons from the state on each change. While W is dragged the picture's view is
 * frozen, so the plane does not slide under the pointer.
 */
export function Lesson1() {
  const [row, dispatch] = useReducer(toyReducer, undefined, initialToyRow);
  const analysis = useMemo(() => analyzeToyRow(row), [row]);
  const [frozenView, setFrozenView] = useState<PlaneView | null>(null);
  const fittedView = useMemo(() => toyRowView(row, analysis), [row, analysis]);
  const view = frozenView ?? fittedView;
  const scene = useMemo(() => planeScene(row, analysis, view), [row, analysis, view]);

  return (
    <>
      <section className="panel">
        <p>
          Rounding every weight to its nearest grid point treats each weight as if it mattered on its own. A layer is
          not judged that way: it is judged by what comes out once its weights meet real inputs. Below is one row of a
          layer, a few calibration inputs and a grid of allowed values. Every candidate row is scored by how far its
          outputs land from the original outputs, summed as squared errors. Change anything; every number follows.
        </p>
        <p className="note" data-testid="l1-opening-note">
          This row starts at W = [0.70, −0.30]: rounding each weight alone lands on [0.5, −0.5], GPTQ on [0.5, 0] with
          half the output error, and the best grid point is another still. In the notes’ example, W = [0.80, −0.40], all
          three coincide; the button under the weights takes you there.
        </p>
        <div className="l1-controls">
          <WeightControls w={row.w} dispatch={dispatch} />
          <GridControls grid={row.grid} levels={analysis.levels} dispatch={dispatch} />
        </div>
        <InputsEditor inputs={row.inputs} target={analysis.target} dispatch={dispatch} />
      </section>
      <section className="panel">
        <h3>The (w1, w2) plane</h3>
        <div className="l1-figure-row">
          <PlanePicture
            scene={scene}
            onDragStart={() => setFrozenView(view)}
            onDrag={(p: Point) => dispatch({ type: 'set-w', w: fromPx(view, p) })}
            onDragEnd={() => setFrozenView(null)}
            onNudge={(dw1, dw2) => dispatch({ type: 'nudge', dw1, dw2 })}
            onPick={(w) => dispatch({ type: 'pick', candidate: [...w] })}
          />
          <GptqPathTable analysis={analysis} />
        </div>
      </section>
      <section className="panel">
        <h3>The candidates, judged by their outputs</h3>
        <CandidateTable row={row} analysis={analysis} dispatch={dispatch} />
        <AllPointsTable analysis={analysis} inputs={row.inputs.length} />
      </section>
    </>
  );
}
