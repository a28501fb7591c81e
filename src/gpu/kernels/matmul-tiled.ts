/** Dense C = A·B with workgroup-memory tiles (shaders/matmul_tiled.wgsl): a variant of the strided GEMM. */
import source from '../../../shaders/matmul_tiled.wgsl?raw';
import { defineKernel } from '../kernel';
import { ParamStruct } from '../params';
import type { Recorder } from '../recorder';

export const TILED_WG = { x: 16, y: 16 } as const;

const tiledKernel = defineKernel({
  name: 'matmul.tiled',
  source,
  entryPoint: 'main',
  params: new ParamStruct('TiledParams', { M: 'u32', N: 'u32', K: 'u32' }),
  storage: ['read', 'read', 'rw'],
});

export function encodeTiledMatmul(rec: Recorder, M: number, N: number, K: number, A: GPUBuffer, B: GPUBuffer, C: GPUBuffer): void {
  rec.dispatch(
    tiledKernel,
    { WG_X: TILED_WG.x, WG_Y: TILED_WG.y },
    { M, N, K },
    [{ buffer: A }, { buffer: B }, { buffer: C }],
    [Math.ceil(N / (4 * TILED_WG.x)), Math.ceil(M / (4 * TILED_WG.y))],
  );
}
