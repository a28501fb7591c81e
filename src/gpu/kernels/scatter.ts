/**
 * Writes listed elements of a matrix (shaders/scatter.wgsl): dst[idx[i]] = values[i]. A few values
 * of a large matrix are swapped this way, e.g. the embedding's entries whose F16 rounding differs
 * from the stored value (src/engine/model/half-patch.ts).
 */
import source from '../../../shaders/scatter.wgsl?raw';
import { defineKernel } from '../kernel';
import { ParamStruct } from '../params';
import type { Recorder } from '../recorder';

const SCATTER_WG = 64;
/** Workgroups along x per dispatch row (maxComputeWorkgroupsPerDimension is 65535 everywhere). */
const MAX_X = 65535;

const scatterKernel = defineKernel({
  name: 'scatter',
  source,
  entryPoint: 'main',
  params: new ParamStruct('ScatterParams', { count: 'u32', perRow: 'u32' }),
  storage: ['read', 'read', 'rw'],
});

/**
 * dst[idx[i]] = values[i] for i < count, with idx relative to dst's binding. The three bindings
 * are the caller's (windows of larger buffers, each within the binding limit).
 */
export function encodeScatter(rec: Recorder, idx: GPUBufferBinding, values: GPUBufferBinding, dst: GPUBufferBinding, count: number): void {
  if (count === 0) return;
  const groups = Math.ceil(count / SCATTER_WG);
  const x = Math.min(groups, MAX_X);
  const y = Math.ceil(groups / x);
  if (y > MAX_X) throw new RangeError(`${count} entries are too many for one scatter`);
  rec.dispatch(scatterKernel, { WG_X: SCATTER_WG }, { count, perRow: x * SCATTER_WG }, [idx, values, dst], [x, y]);
}
