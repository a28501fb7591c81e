/**
 * The f64 reference side of the layer check, run on the main thread (the layer is tiny):
 * H = 2/N·XᵀX from the same X the worker saw, the reference GPTQ, and its output MSE.
 */
import { gptqReference } from '../../core/gptq-reference';
import { HessianAccumulator } from '../../core/hessian';
import { outputMse } from '../../core/metrics';
import type { LayerCheckSpec, ReferenceSide } from './compare';
import type { RandomLayer } from './layer';

export function runReference(spec: LayerCheckSpec, layer: RandomLayer): ReferenceSide {
  const t0 = performance.now();
  const { rows, cols, tokens } = spec;
  const acc = new HessianAccumulator(cols);
  acc.addBatch(layer.X, tokens);
  const gptq = gptqReference(layer.W, acc.H, rows, cols, spec.options);
  const mse = outputMse(layer.W, gptq.Q, layer.X, rows, cols, tokens);
  return { gptq, mse, seconds: (performance.now() - t0) / 1000 };
}
