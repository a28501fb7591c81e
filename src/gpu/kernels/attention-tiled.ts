/**
 * Causal grouped-query attention tiled over queries and keys (shaders/attention_tiled.wgsl): one
 * workgroup per (QUERY_TILE queries, head) scores ATTENTION_TILE keys at a time, each key and value
 * row read once per tile, and splits the head's output dims among its invocations. The forward
 * pass attends within each sequence of its activations; a KV cache's queries attend to the
 * cache's rows (encodeCachedAttention).
 */
import source from '../../../shaders/attention_tiled.wgsl?raw';
import appendSource from '../../../shaders/kv_append.wgsl?raw';
import { defineKernel } from '../kernel';
import { ParamStruct } from '../params';
import type { Recorder } from '../recorder';
import { rowSpans, rowWindow, singleSpan, type GpuMatrix } from '../matrix';
import type { AttentionHeads, AttentionInputs } from './forward';

/** Keys per tile = invocations per workgroup (≤ 64: the shader's score tiles). */
export const ATTENTION_TILE = 64;
/** Queries per workgroup (BQ in the shader). */
export const QUERY_TILE = 8;
/** Output dims per invocation in the shader (DIMS): head_dim ≤ this · ATTENTION_TILE, and ≤ 256. */
const DIMS = 4;
export const MAX_HEAD_DIM = Math.min(256, DIMS * ATTENTION_TILE);
const MAX_GROUPS = 65535;
const APPEND_WG = 64;

const tiledAttentionKernel = defineKernel({
  name: 'forward.attentionTiled',
  source,
  entryPoint: 'main',
  params: new ParamStruct('AttentionTiledParams', {
    rows: 'u32',
    rowStart: 'u32',
    qRow0: 'u32',
    kvRow0: 'u32',
    groupsX: 'u32',
    seqlen: 'u32',
    posBase: 'u32',
    kvSeqRows: 'u32',
    heads: 'u32',
    kvHeads: 'u32',
    headDim: 'u32',
    qOff: 'u32',
    kOff: 'u32',
    vOff: 'u32',
    ldq: 'u32',
    ldk: 'u32',
    ldv: 'u32',
    ldo: 'u32',
    window: 'u32',
    scale: 'f32',
  }),
  storage: ['read', 'read', 'read', 'rw'],
});

const kvAppendKernel = defineKernel({
  name: 'forward.kvAppend',
  source: appendSource,
  entryPoint: 'main',
  params: new ParamStruct('KvAppendParams', { rows: 'u32', cols: 'u32', posBase: 'u32', srcOff: 'u32', lds: 'u32', ldc: 'u32' }),
  storage: ['read', 'rw'],
});

function checkHeads(a: AttentionHeads): void {
  if (a.headDim > MAX_HEAD_DIM) throw new RangeError(`head_dim ${a.headDim} is above the supported ${MAX_HEAD_DIM}`);
  if (a.heads % a.kvHeads !== 0) throw new RangeError(`${a.heads} query heads are not groups of ${a.kvHeads} kv heads`);
}

interface Dispatch {
  rows: number;
  rowStart: number;
  qRow0: number;
  kvRow0: number;
  seqlen: number;
  posBase: number;
  kvSeqRows: number;
  Q: GPUBufferBinding;
  K: GPUBufferBinding;
  V: GPUBufferBinding;
  O: GPUBufferBinding;
}

function dispatch(rec: Recorder, a: AttentionHeads & { qOff: number; kOff: number; vOff: number; ldq: number; ldk: number; ldv: number; ldo: number }, d: Dispatch): void {
  const groups = (d.rows / d.seqlen) * Math.ceil(d.seqlen / QUERY_TILE) * a.heads;
  const groupsX = Math.min(groups, MAX_GROUPS);
  rec.dispatch(
    tiledAttentionKernel,
    { WG: ATTENTION_TILE },
    {
      rows: d.rows,
      rowStart: d.rowStart,
      qRow0: d.qRow0,
      kvRow0: d.kvRow0,
      groupsX,
      seqlen: d.seqlen,
      posBase: d.posBase,
      kvSeqRows: d.kvSeqRows,
      heads: a.heads,
      kvHeads: a.kvHeads,
      headDim: a.headDim,
      qOff: a.qOff,
      kOff: a.kOff,
      vOff: a.vOff,
      ldq: a.ldq,
      ldk: a.ldk,
      ldv: a.ldv,
      ldo: a.ldo,
      window: a.window ?? 0,
      scale: a.scale ?? 1 / Math.sqrt(a.headDim),
    },
    [d.Q, d.K, d.V, d.O],
    [groupsX, Math.ceil(groups / groupsX)],
  );
}

/**
 * O [tokens, heads·headDim] = causal attention of each sequence of seqlen tokens of Q, K, V
 * ([tokens, …] each, at column offsets qOff/kOff/vOff), bound in windows of whole sequences.
 * Throws RangeError for head_dim > MAX_HEAD_DIM or heads not a multiple of kvHeads.
 */
export function encodeAttention(rec: Recorder, a: AttentionInputs, O: GpuMatrix, bindingLimit: number): void {
  checkHeads(a);
  const lds = { qOff: a.qOff, kOff: a.kOff, vOff: a.vOff, ldq: a.Q.ld, ldk: a.K.ld, ldv: a.V.ld, ldo: O.ld };
  for (const s of rowSpans(0, O.rows, [a.Q, a.K, a.V, O], bindingLimit, a.seqlen)) {
    dispatch(rec, { ...a, ...lds }, {
      rows: s.rows,
      rowStart: s.rowStart,
      qRow0: s.r0,
      kvRow0: s.r0,
      seqlen: a.seqlen,
      posBase: 0,
      kvSeqRows: a.seqlen,
      Q: rowWindow(a.Q, s.r0, s.n),
      K: rowWindow(a.K, s.r0, s.n),
      V: rowWindow(a.V, s.r0, s.n),
      O: rowWindow(O, s.r0, s.n),
    });
  }
}

/** One layer's KV cache: keys and values [capacity, kvHeads·headDim], rows = positions. */
export interface LayerCache {
  K: GpuMatrix;
  V: GpuMatrix;
}

/** New tokens' queries, keys and values [tokens, …] at column offsets (one sequence). */
export interface CachedAttentionInputs extends Omit<AttentionInputs, 'seqlen'> {
  /** Positions already in the cache: the new tokens are at positions cached, cached + 1, … */
  cached: number;
}

/**
 * Appends the new tokens' K and V (rows [0, tokens) of a.K / a.V) to `cache` at rows
 * [cached, cached + tokens), then O [tokens, heads·headDim] = their causal attention over the
 * cache's rows [0, cached + tokens) (with the sliding window, if any). Every matrix must fit one
 * binding; throws RangeError when the cache would overflow its capacity.
 */
export function encodeCachedAttention(rec: Recorder, a: CachedAttentionInputs, cache: LayerCache, O: GpuMatrix, bindingLimit: number): void {
  checkHeads(a);
  const T = O.rows;
  const width = a.kvHeads * a.headDim;
  if (a.cached + T > cache.K.rows) throw new RangeError(`the KV cache holds ${cache.K.rows} positions; ${a.cached + T} were asked`);
  const q = singleSpan(0, T, a.Q, bindingLimit, 'attention queries');
  const k = singleSpan(0, T, a.K, bindingLimit, 'attention keys');
  const v = singleSpan(0, T, a.V, bindingLimit, 'attention values');
  const o = singleSpan(0, T, O, bindingLimit, 'attention output');
  const kc = singleSpan(0, cache.K.rows, cache.K, bindingLimit, 'the KV cache');
  singleSpan(0, cache.V.rows, cache.V, bindingLimit, 'the KV cache');
  const append = (src: GpuMatrix, off: number, dst: GpuMatrix, span: typeof k) =>
    rec.dispatch(
      kvAppendKernel,
      { WG_X: APPEND_WG },
      { rows: T, cols: width, posBase: a.cached, srcOff: off, lds: src.ld, ldc: dst.ld },
      [rowWindow(src, span.r0, span.n), rowWindow(dst, 0, dst.rows)],
      [Math.ceil(width / APPEND_WG), T],
    );
  append(a.K, a.kOff, cache.K, k);
  append(a.V, a.vOff, cache.V, v);
  dispatch(
    rec,
    { ...a, qOff: a.qOff, kOff: 0, vOff: 0, ldq: a.Q.ld, ldk: cache.K.ld, ldv: cache.V.ld, ldo: O.ld },
    {
      rows: T,
      rowStart: 0,
      qRow0: q.r0,
      kvRow0: kc.r0,
      seqlen: T,
      posBase: a.cached,
      kvSeqRows: 0,
      Q: rowWindow(a.Q, q.r0, q.n),
      K: rowWindow(cache.K, 0, cache.K.rows),
      V: rowWindow(cache.V, 0, cache.V.rows),
      O: rowWindow(O, o.r0, o.n),
    },
  );
}
