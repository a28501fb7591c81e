/**
 * A compute kernel: one WGSL entry point, its uniform parameter struct (binding 0, dynamic
 * offset) and its storage bindings (1..n). Kernels are plain descriptions; the pipeline cache
 * turns them into pipelines once per set of override constants.
 */
import type { ParamStruct, FieldType } from './params';

export type StorageAccess = 'read' | 'rw';

export interface Kernel<F extends Record<string, FieldType> = Record<string, FieldType>> {
  /** Unique name, used in labels and as the cache key, e.g. "cholesky.panel". */
  name: string;
  /** WGSL source of the kernel (common helpers and the params struct are prepended). */
  source: string;
  entryPoint: string;
  params: ParamStruct<F>;
  /** Storage bindings 1..n in order. */
  storage: StorageAccess[];
}

export function defineKernel<F extends Record<string, FieldType>>(k: Kernel<F>): Kernel<F> {
  return k;
}
