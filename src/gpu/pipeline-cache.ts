/**
 * Compute pipelines keyed by kernel name and override constants, each compiled once.
 * Bind group layouts are explicit (binding 0 is a uniform with a dynamic offset, which
 * 'auto' layouts cannot express) and cached per kernel.
 */
import type { Kernel } from './kernel';
import type { FieldType } from './params';

import commonWgsl from '../../shaders/common.wgsl?raw';

export type Constants = Record<string, number>;

export interface CompiledKernel {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

export class PipelineCache {
  private readonly pipelines = new Map<string, CompiledKernel>();
  private readonly layouts = new Map<string, GPUBindGroupLayout>();
  compiled = 0;

  constructor(private readonly device: GPUDevice) {}

  get<F extends Record<string, FieldType>>(kernel: Kernel<F>, constants: Constants): CompiledKernel {
    const key = `${kernel.name}|${Object.keys(constants)
      .sort()
      .map((k) => `${k}=${constants[k]}`)
      .join(',')}`;
    let hit = this.pipelines.get(key);
    if (hit) return hit;
    const layout = this.layoutOf(kernel);
    const module = this.device.createShaderModule({
      label: `${kernel.name}.module`,
      code: shaderSource(kernel),
    });
    const pipeline = this.device.createComputePipeline({
      label: `${kernel.name}.pipeline`,
      layout: this.device.createPipelineLayout({ label: `${kernel.name}.pipelineLayout`, bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: kernel.entryPoint, constants },
    });
    hit = { pipeline, layout };
    this.pipelines.set(key, hit);
    this.compiled++;
    return hit;
  }

  private layoutOf(kernel: { name: string; storage: Kernel['storage'] }): GPUBindGroupLayout {
    let layout = this.layouts.get(kernel.name);
    if (layout) return layout;
    const entries: GPUBindGroupLayoutEntry[] = [
      { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true } },
      ...kernel.storage.map(
        (access, i): GPUBindGroupLayoutEntry => ({
          binding: i + 1,
          visibility: GPUShaderStage.COMPUTE,
          buffer: { type: access === 'rw' ? 'storage' : 'read-only-storage' },
        }),
      ),
    ];
    layout = this.device.createBindGroupLayout({ label: `${kernel.name}.bindGroupLayout`, entries });
    this.layouts.set(kernel.name, layout);
    return layout;
  }
}

/** The full WGSL of a kernel: shared helpers, its params struct bound at 0, then its body. */
export function shaderSource<F extends Record<string, FieldType>>(kernel: Kernel<F>): string {
  return [
    commonWgsl,
    kernel.params.wgsl,
    `@group(0) @binding(0) var<uniform> P: ${kernel.params.name};\n`,
    kernel.source,
  ].join('\n');
}
