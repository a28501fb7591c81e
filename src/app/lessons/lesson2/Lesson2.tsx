import { useMemo, useState } from 'react';
import { checkExercise, NOTES_EXERCISE, parseAnswer, solveExercise, type ExerciseVerdict } from '../../../core/lessons/exercise';
import { vec, vecShort } from '../fmt';
import { ExerciseForm, type ExerciseDraft } from './ExerciseForm';
import { ExerciseFeedback } from './ExerciseFeedback';
import { ExerciseWorking } from './ExerciseWorking';

const EMPTY: ExerciseDraft = { sums: ['', ''], pick: null };

/** Lesson 2: the notes' exercise, answered by the learner and checked by src/core/lessons. */
export function Lesson2() {
  const ex = NOTES_EXERCISE;
  const solution = useMemo(() => solveExercise(ex), [ex]);
  const [draft, setDraft] = useState<ExerciseDraft>(EMPTY);
  const [verdict, setVerdict] = useState<ExerciseVerdict | null>(null);
  const [showWorking, setShowWorking] = useState(false);

  const check = () =>
    setVerdict(checkExercise({ sums: [parseAnswer(draft.sums[0]), parseAnswer(draft.sums[1])], pick: draft.pick }, solution));

  return (
    <>
      <section className="panel">
        <p>
          Your turn, with pencil or in your head. A row of weights W = {vecShort(ex.w)} sees the calibration inputs{' '}
          x1 = {vecShort(ex.inputs[0])} and x2 = {vecShort(ex.inputs[1])}. The quantized rows on the table are{' '}
          A = {vec(ex.candidates[0])} and B = {vec(ex.candidates[1])}. For each, work out its outputs on both inputs,
          how far they land from W’s own outputs, and the sum of those errors squared. Then say which one GPTQ would
          keep.
        </p>
        <ExerciseForm
          candidates={ex.candidates}
          draft={draft}
          verdict={verdict}
          onChange={(d) => {
            setDraft(d);
            setVerdict(null);
          }}
          onCheck={check}
        />
        {verdict && <ExerciseFeedback verdict={verdict} solution={solution} candidates={ex.candidates} draft={draft} />}
        {!verdict?.allRight && (
          <button type="button" className="link-button" aria-expanded={showWorking} onClick={() => setShowWorking((v) => !v)}>
            {showWorking ? 'Hide the working' : 'Show the working'}
          </button>
        )}
      </section>
      {(showWorking || verdict?.allRight) && <ExerciseWorking exercise={ex} solution={solution} />}
    </>
  );
}
