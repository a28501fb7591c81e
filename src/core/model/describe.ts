/**
 * The facts that set a model's family apart, in words, for the studio's "Recognised" panel: RoPE
 * kind and bases, head_dim, sliding windows, norm kind and placement, q/k norms, MLP kind,
 * positions, embedding scale and projections, the head. Read from the family's description.
 */
import { counted } from '../plural';
import type { ModelConfig } from './config';
import type { ModelLayout, NormKind } from './architecture';
import { describeRope } from './rope';

export interface ArchitectureFact {
  /** A stable key (also the e2e test id suffix): rope, head-dim, attention, norms, mlp, positions, embeddings, head. */
  key: string;
  label: string;
  value: string;
}

const NORM_NAMES: Record<NormKind, string> = { rms: 'RMSNorm', rms_plus_one: 'RMSNorm (1 + w)', layer: 'LayerNorm' };
const ACTIVATION_NAMES = { silu: 'SiLU', gelu_tanh: 'GELU (tanh)', relu: 'ReLU' } as const;

export function architectureFacts(config: ModelConfig, layout: ModelLayout): ArchitectureFact[] {
  const facts: ArchitectureFact[] = [];
  const add = (key: string, label: string, value: string) => facts.push({ key, label, value });
  const layers = Array.from({ length: layout.numBlocks }, (_, b) => layout.layerAttention(b));

  // Positions: RoPE per distinct kind (full and sliding layers may differ), or learned.
  if (layout.embedPositions) {
    add('positions', 'Positions', `learned (${layout.embedPositions.split('.').at(-2)})${layout.positionOffset ? `, row = position + ${layout.positionOffset}` : ''}`);
  } else {
    const kinds = new Map<string, number>();
    for (const l of layers) {
      const d = l.rope ? describeRope(l.rope) : 'none (NoPE)';
      kinds.set(d, (kinds.get(d) ?? 0) + 1);
    }
    const rotated = layers.find((l) => l.rope)?.rope;
    const partial = rotated && rotated.dim !== config.headDim ? `, ${rotated.dim} of ${config.headDim} dims rotated` : '';
    add('rope', 'RoPE', kinds.size === 1 ? `${[...kinds.keys()][0]}${partial}`
      : [...kinds].map(([d, n]) => `${d} on ${counted(n, 'layer')}`).join('; '));
  }

  const defaultHeadDim = config.hiddenSize / config.numHeads;
  add('head-dim', 'Head dim', config.headDim === defaultHeadDim ? String(config.headDim)
    : `${config.headDim} (not hidden / heads = ${Number.isInteger(defaultHeadDim) ? defaultHeadDim : defaultHeadDim.toFixed(2)})`);

  const windowed = layers.filter((l) => l.window !== null);
  const scale = layout.block.attention.scale;
  const scaleNote = Math.abs(scale - 1 / Math.sqrt(config.headDim)) > 1e-12 ? `, scores × ${scale.toPrecision(4)}` : '';
  add('attention', 'Attention', windowed.length === 0 ? `full causal${scaleNote}`
    : windowed.length === layers.length ? `sliding window of ${windowed[0].window} on every layer${scaleNote}`
      : `sliding window of ${windowed[0].window} on ${windowed.length} of ${counted(layers.length, 'layer')}, full on the rest${scaleNote}`);

  const B = layout.block;
  const norms = [NORM_NAMES[B.attnNorm.kind], B.normPlacement === 'pre' ? 'pre-norm' : 'post-norm (after the residual add)'];
  if (B.attnOutNorm || B.mlpOutNorm) norms.push('norms on each sublayer output too (4 per block)');
  if (B.attention.qNorm) norms.push('q/k norms per head');
  if (!layout.finalNorm) norms.push('no final norm');
  add('norms', 'Norms', norms.join(', '));

  const M = B.mlp;
  const biases = layout.block.linears.some((l) => l.bias) ? ', with biases' : '';
  add('mlp', 'MLP', `${M.gate || M.fused ? 'gated' : 'plain'} ${ACTIVATION_NAMES[M.activation]} (${[M.gate, M.up, M.down].filter(Boolean).map((n) => n!.split('.').at(-1)).join(', ')})${biases}`);
  if (B.attention.qkv.length === 1 && config.arch !== 'gpt2') add('fused', 'Fused projections', `${B.attention.qkv[0].split('.').at(-1)}${M.fused ? `, ${M.up.split('.').at(-1)}` : ''} (quantized as stored)`);

  const embeddings: string[] = [];
  if (layout.embedScale !== 1) embeddings.push(`scaled by ${layout.embedScale}${config.embedScale !== undefined ? ` (√${config.hiddenSize} in the stored dtype)` : ''}`);
  if (layout.projectIn) embeddings.push(`width ${layout.embedDim}, project_in / project_out to ${config.hiddenSize}`);
  if (embeddings.length > 0) add('embeddings', 'Embeddings', embeddings.join('; '));

  add('head', 'LM head', `${layout.tiedLmHead ? 'tied to the embeddings' : 'separate'}${layout.logitSoftcap !== null ? `, logits softcapped at ${layout.logitSoftcap}` : ''}`);
  return facts;
}
