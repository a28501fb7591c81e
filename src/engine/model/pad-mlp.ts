/**
 * A model whose MLP width is padded with zeros (for the export, src/core/export/plan.ts): the
 * expanding linears get zero rows (and zero bias), the contracting one zero columns. Each padded
 * hidden unit computes act(0)·0 = 0 (gated), gelu(0) = 0 or relu(0) = 0 and adds nothing: the same
 * function. A fused gate_up_proj (Phi-3) is padded half by half, so that its halves stay gate and up.
 */
import type { HostLinear } from './model-forward';
import type { LoadedModel } from './load-model';

function padRows(l: HostLinear, rows: number): HostLinear {
  const W = new Float32Array(rows * l.in);
  W.set(l.W);
  let bias: Float32Array | undefined;
  if (l.bias) {
    bias = new Float32Array(rows);
    bias.set(l.bias);
  }
  return { W, out: rows, in: l.in, bias };
}

function padColumns(l: HostLinear, cols: number): HostLinear {
  const W = new Float32Array(l.out * cols);
  for (let r = 0; r < l.out; r++) W.set(l.W.subarray(r * l.in, (r + 1) * l.in), r * cols);
  return { W, out: l.out, in: cols, bias: l.bias };
}

/** [gate; up] rows of I each → [gate; 0; up; 0] of `width` each. */
function padHalves(l: HostLinear, width: number): HostLinear {
  const half = l.out / 2;
  const W = new Float32Array(2 * width * l.in);
  W.set(l.W.subarray(0, half * l.in));
  W.set(l.W.subarray(half * l.in), width * l.in);
  let bias: Float32Array | undefined;
  if (l.bias) {
    bias = new Float32Array(2 * width);
    bias.set(l.bias.subarray(0, half));
    bias.set(l.bias.subarray(half), width);
  }
  return { W, out: 2 * width, in: l.in, bias };
}

export function padMlpWidth(model: LoadedModel, mlp: { expand: string[]; contract: string; fused?: boolean }, width: number): LoadedModel {
  return {
    ...model,
    spec: { ...model.spec, intermediate: width },
    padding: { ...mlp, from: model.spec.intermediate, to: width },
    block: async (b) => {
      const host = await model.block(b);
      const linears = new Map(host.linears);
      for (const name of mlp.expand) linears.set(name, mlp.fused ? padHalves(host.linears.get(name)!, width) : padRows(host.linears.get(name)!, width));
      linears.set(mlp.contract, padColumns(host.linears.get(mlp.contract)!, width));
      return { ...host, linears };
    },
  };
}

/**
 * A linear's shape in the model as it was before any padding: the padded rows of an expanding
 * linear and the padded columns of the contracting one are not counted.
 */
export function unpaddedShape(model: Pick<LoadedModel, 'padding'>, name: string, rows: number, cols: number): { rows: number; cols: number } {
  const p = model.padding;
  if (!p) return { rows, cols };
  return {
    rows: p.expand.includes(name) ? p.from : rows,
    cols: p.contract === name ? p.from : cols,
  };
}
