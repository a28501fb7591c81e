/**
 * A run's GGUF for llama.cpp, and its imatrix.gguf. Quantized linears are written in the plan's
 * block type from the run's own codes, scales and zeros (src/core/export/gguf/blocks.ts); the
 * linears the plan keeps as floats are copies of the run's weights (its Q when it quantized them,
 * else the original weights); norms and biases are F32; embeddings and the untied head F16 or F32
 * as asked. Llama-layout q/k rows (and biases) are reordered for llama.cpp's RoPE. The MLP width
 * is the padded one when the export plan padded it (the same function). Tensors are made one at a
 * time as the stream reaches them, one block of original weights read at a time.
 */
import type { Checkpoint } from '../core/model/checkpoint';
import { runEmbedScale } from '../core/model/architecture';
import { roundedToHalf } from '../core/export/f16';
import type { ExportFile } from '../core/export/safetensors-writer';
import { GGML_QUANTIZATION_VERSION, LLAMA_FTYPE } from '../core/export/gguf/constants';
import { GGUF_ARCHITECTURES, architectureKeys, qNormFactor } from '../core/export/gguf/architectures';
import { encodeBlocks, f16Rows, f32Rows, ropeRowOrder } from '../core/export/gguf/blocks';
import { ggufTensorNames } from '../core/export/gguf/tensor-map';
import { ggufTokenizer } from '../core/export/gguf/tokenizer';
import { imatrixFile, type ImatrixEntry } from '../core/export/gguf/imatrix';
import type { RunSettings } from '../core/run';
import type { GgufFloatType } from '../core/report';
import type { GgufPlan } from '../core/export/gguf/plan';
import { gguf, ggufFile, type GgufKv, type GgufTensor } from '../core/export/gguf/writer';
import { mlpLinears } from '../core/export/plan';
import { readGlobal, type GlobalMatrix, type HostBlock } from './model/model-forward';
import type { LoadedModel } from './model/load-model';
import { weightKey, type QuantizedWeights } from './quantize-model';

/** Bytes of f32 values read and converted at a time for a matrix outside the blocks. */
const GLOBAL_PIECE_BYTES = 16 << 20;

/** Float type of the embeddings, the untied head and the linears kept as floats. */
export type { GgufFloatType };

export interface GgufExportInputs {
  ckpt: Checkpoint;
  /** The model as the run quantized it (padded MLP width, if any). */
  model: LoadedModel;
  weights: QuantizedWeights;
  plan: GgufPlan;
  /** general.name and the file name's stem: a name, never a path. */
  modelName: string;
  /** Default F16. */
  floatType?: GgufFloatType;
  /** The run measured its GPTQ model as its float16 export holds it (ExportPlan.f16): the embedding scale is then the float16 one. */
  half: boolean;
}

/** `<model name>-<TYPE>.gguf`, the name a path or odd characters cannot leak into. */
export function ggufFileName(modelName: string, type: string): string {
  const stem = (modelName.split(/[\\/]/).map((s) => s.trim()).filter(Boolean).pop() ?? 'model').replace(/[^A-Za-z0-9._-]+/g, '_');
  return `${stem}-${type}.gguf`;
}

function refusedBy(plan: GgufPlan): never {
  throw new Error(plan.refusal ?? 'the GGUF plan has no type');
}

/** The model GGUF (streamed). Throws when the plan refused a GGUF for this run. */
export function exportGguf({ ckpt, model, weights, plan, modelName, floatType = 'F16', half }: GgufExportInputs): ExportFile {
  const type = plan.type ?? refusedBy(plan);
  const { config, layout } = ckpt;
  const arch = GGUF_ARCHITECTURES[config.arch] ?? refusedBy({ ...plan, refusal: `no GGUF description for ${config.arch}` });
  const name = modelName.split(/[\\/]/).map((s) => s.trim()).filter(Boolean).pop() ?? 'model';
  const kvs: GgufKv[] = [
    { key: 'general.architecture', value: gguf.string(arch.name) },
    { key: 'general.name', value: gguf.string(name) },
    { key: 'general.file_type', value: gguf.u32(LLAMA_FTYPE[type]) },
    { key: 'general.quantization_version', value: gguf.u32(GGML_QUANTIZATION_VERSION) },
    ...architectureKeys(arch, config, layout, model.spec.intermediate),
    ...ggufTokenizer({
      tokenizerJson: ckpt.tokenizerJson ?? refusedBy({ ...plan, refusal: 'the checkpoint has no tokenizer.json' }),
      tokenizerConfigJson: ckpt.tokenizerConfigJson,
      vocabSize: config.vocabSize,
      bosTokenId: config.bosTokenId,
      eosTokenIds: config.eosTokenIds,
    }),
  ];

  const floats = new Set(plan.floatLinears.map((f) => f.name));
  const floatRows = (values: Float32Array, rows: number, cols: number, order: Int32Array | null = null) =>
    floatType === 'F16' ? f16Rows(values, rows, cols, order) : f32Rows(values, rows, cols, order);
  const rowOrder = (module: string): Int32Array | null => {
    const heads = arch.rope === 'norm' ? arch.ropeRows[module] : undefined;
    return heads ? ropeRowOrder(heads === 'heads' ? config.numHeads : config.numKvHeads, config.headDim) : null;
  };
  // A matrix outside the blocks [rows, cols] read, converted and written a piece of rows at a time
  // (no whole copy of it in any dtype): its values as the run held them (`stored`), times `ratio`.
  async function* globalFloatPieces(m: GlobalMatrix, rows: number, cols: number, ratio: number): AsyncGenerator<Uint8Array> {
    const perPiece = Math.max(1, Math.floor(GLOBAL_PIECE_BYTES / (cols * 4)));
    for (let r0 = 0; r0 < rows; r0 += perPiece) {
      const n = Math.min(perPiece, rows - r0);
      let piece: Uint8Array;
      try {
        const values = stored(await globals.readRows(m, r0, n));
        piece = floatRows(ratio === 1 ? values : values.map((v) => v * ratio), n, cols);
      } catch (e) {
        throw new RangeError(`${m}, rows ${r0}..${r0 + n - 1}: ${(e as Error).message}`);
      }
      yield piece;
    }
  }
  // The blocks' original weights, one block at a time (tensors are written block by block).
  let cached: { b: number; host: Promise<HostBlock> } | null = null;
  const hostBlock = (b: number) => {
    if (cached?.b !== b) cached = { b, host: model.block(b) };
    return cached.host;
  };
  const { spec, globals } = model;
  // With `half` the run measured every value outside its quantized weights rounded to F16 (the
  // export's dtype; evaluate.ts storedBlocks, GpuGlobals' half): the file holds those values.
  const stored = (v: Float32Array) => (half ? roundedToHalf(v) : v);
  // [out, in] of a linear as the run quantized it: the MLP width is the padded one, if padded.
  // Phi-3's fused gate_up_proj holds both halves, each of the (padded) MLP width.
  const mlp = mlpLinears(layout);
  const linearShape = (module: string) => {
    const l = layout.block.linears.find((x) => x.name === module)!;
    const expandRows = mlp.fused ? 2 * spec.intermediate : spec.intermediate;
    return { out: mlp.expand.includes(module) ? expandRows : l.out, in: module === mlp.contract ? spec.intermediate : l.in };
  };
  // The q norm carries the ratio of the model's score scale to llama.cpp's (gemma3's query_pre_attn_scalar).
  const qNorm = layout.block.attention.qNorm?.name ?? null;
  const qFactor = qNormFactor(arch, config, layout);
  // llama.cpp scales the embeddings by √n_embd in f32 (gemma3.cpp); the run scaled them by √hidden in
  // its dtype (runEmbedScale). The embeddings carry the ratio, and the final norm its inverse when the
  // head is the same tensor (the logits are linear in the final norm's weights).
  const embedRatio = arch.embedScale ? runEmbedScale(layout, half) / Math.fround(Math.sqrt(config.hiddenSize)) : 1;
  const finalNormFactor = layout.tiedLmHead ? 1 / embedRatio : 1;

  const tensors: GgufTensor[] = ggufTensorNames(layout, config, arch).map(({ name: tensor, source, role }): GgufTensor => {
    switch (role.kind) {
      case 'embedTokens':
        return { name: tensor, type: floatType, ne: [spec.hidden, spec.vocab], bytes: () => globalFloatPieces('embed', spec.vocab, spec.hidden, embedRatio) };
      case 'lmHead':
        return { name: tensor, type: floatType, ne: [spec.hidden, spec.vocab], bytes: () => globalFloatPieces('lmHead', spec.vocab, spec.hidden, 1) };
      case 'embedPositions':
        return { name: tensor, type: 'F32', ne: [spec.hidden, spec.maxPositions], bytes: async () => f32Rows(stored(await readGlobal(spec, globals, 'positions')), spec.maxPositions, spec.hidden) };
      case 'rope':
        return { name: tensor, type: 'F32', ne: [role.values.length], bytes: () => f32Rows(role.values, 1, role.values.length) };
      case 'norm': {
        const size = ckpt.tensors.get(source)!.shape.reduce((a, b) => a * b, 1);
        const factor = role.part !== 'weight' ? 1 : role.module === null ? finalNormFactor : role.module === qNorm ? qFactor : 1;
        return {
          name: tensor,
          type: 'F32',
          ne: [size],
          bytes: async () => {
            const v = stored(await ckpt.readTensor(source));
            if (role.part === 'weight') for (let i = 0; i < v.length; i++) v[i] = (v[i] + arch.normOffset) * factor;
            return f32Rows(v, 1, size);
          },
        };
      }
      case 'linear': {
        const order = rowOrder(role.module);
        const result = weights.gptq.get(weightKey(role.block, role.module));
        const { out, in: inF } = linearShape(role.module);
        if (role.part === 'bias') {
          return {
            name: tensor,
            type: 'F32',
            ne: [out],
            bytes: async () => f32Rows(stored((await hostBlock(role.block)).linears.get(role.module)!.bias!), out, 1, order),
          };
        }
        if (result && !floats.has(role.module)) {
          return { name: tensor, type, ne: [inF, out], bytes: () => encodeBlocks(type, result, order) };
        }
        return {
          name: tensor,
          type: floatType,
          ne: [inF, out],
          bytes: async () => floatRows(result ? result.Q : stored((await hostBlock(role.block)).linears.get(role.module)!.W), out, inF, order),
        };
      }
    }
  });
  return ggufFile(ggufFileName(name, type), kvs, tensors);
}


/**
 * imatrix.gguf from the diag(H) the run kept for each quantized linear, named as in the model
 * GGUF; the Hessians average over settings.nsamples windows of settings.seqlen tokens.
 */
export function exportImatrix({ ckpt, weights, settings, calibrationName }: { ckpt: Checkpoint; weights: QuantizedWeights; settings: RunSettings; calibrationName: string }): ExportFile {
  const { layout, config } = ckpt;
  const arch = GGUF_ARCHITECTURES[config.arch];
  if (!arch) throw new Error(`the GGUF export does not describe ${config.arch} models yet`);
  const entries: ImatrixEntry[] = [];
  for (let b = 0; b < layout.numBlocks; b++) {
    for (const l of layout.block.linears) {
      const diagH = weights.hessianDiag.get(weightKey(b, l.name));
      if (diagH) entries.push({ name: `blk.${b}.${arch.blockTensors[l.name]}.weight`, diagH });
    }
  }
  return imatrixFile({ entries, windows: settings.nsamples, seqlen: settings.seqlen, dataset: calibrationName });
}
