/** Loads the demo model in the page for lesson 4 (the f64 reference; no GPU) and captures layers. */
import { blobSource } from '../../../core/model/byte-source';
import { openCheckpoint, type Checkpoint } from '../../../core/model/checkpoint';
import { loadReferenceModel, type ReferenceModel } from '../../../core/model/forward-reference';
import { loadTokenizer } from '../../../core/model/tokenizer';
import { calibrationWindows, textToIds } from '../../../core/model/calibration';
import { captureLayer, type CapturedLayer } from '../../../core/lessons/real-layer';
import { fetchDemo, fetchDemoModel } from '../../studio/demo';

export interface DemoForLesson {
  ckpt: Checkpoint;
  model: ReferenceModel;
  /** Calibration windows (token ids) the layers' inputs are captured on. */
  windows: number[][];
}

/** Calibration windows for the lesson: few and short, so the f64 forward pass stays quick. */
export const LESSON_WINDOWS = { count: 4, length: 64, seed: 0 } as const;

export async function loadDemoForLesson(): Promise<DemoForLesson> {
  const [files, calibration] = await Promise.all([fetchDemoModel(), fetchDemo('calibration.txt').then((r) => r.text())]);
  const ckpt = await openCheckpoint(files.map((f) => blobSource(f)));
  const ids = textToIds(loadTokenizer(ckpt.tokenizerJson!, ckpt.tokenizerConfigJson), calibration);
  const { count, length, seed } = LESSON_WINDOWS;
  return { ckpt, model: await loadReferenceModel(ckpt), windows: calibrationWindows(ids, count, length, seed) };
}

export async function demoLayer(demo: DemoForLesson, block: number, linear: string): Promise<CapturedLayer> {
  const spec = demo.ckpt.layout.block.linears.find((l) => l.name === linear)!;
  const W = await demo.ckpt.readLinearWeight(block, linear);
  return captureLayer(demo.model, demo.windows, block, linear, W, spec.out, spec.in);
}
