/** A checkpoint and its export plan as the time model (src/core/time-model.ts) sees them. */
import type { Checkpoint } from '../core/model/checkpoint';
import { mlpLinears, type ExportPlan } from '../core/export/plan';
import { inputSets } from '../core/model/architecture';
import type { ModelShape } from '../core/time-model';

/**
 * The block's linears as the run quantizes them: the MLP padded to the plan's width, the linears
 * the plan leaves in full precision marked unquantized (they still run in every forward pass).
 */
export function modelShape(ckpt: Checkpoint, plan: Pick<ExportPlan, 'intermediate' | 'unquantized'> | null): ModelShape {
  const { layout, config } = ckpt;
  const mlp = mlpLinears(layout);
  const width = plan?.intermediate?.to ?? null;
  const skipped = new Set((plan?.unquantized ?? []).map((u) => u.name));
  const linears = layout.block.linears.map((l) => ({
    name: l.name,
    rows: width !== null && mlp.expand.includes(l.name) ? width : l.out,
    cols: width !== null && l.name === mlp.contract ? width : l.in,
    quantized: !skipped.has(l.name),
  }));
  return {
    blocks: config.numLayers,
    hidden: config.hiddenSize,
    heads: config.numHeads,
    headDim: config.headDim,
    vocab: config.vocabSize,
    linears,
    groups: layout.block.sequentialGroups.map((g) => g.filter((n) => !skipped.has(n))),
    inputs: inputSets(layout.block),
  };
}
