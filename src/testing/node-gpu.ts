/**
 * WebGPU in node through the `webgpu` package (Dawn). On stock Debian 12 Mesa the working
 * backend is OpenGL ES on llvmpipe (EGL surfaceless, compatibility feature level); set
 * WGPU_BACKEND=vulkan where a Vulkan driver works (Mesa ≥ 25 lavapipe, or a real GPU).
 */
import { create, globals } from 'webgpu';
import { GpuRuntime, type RuntimeOptions } from '../gpu/runtime';

let gpu: GPU | null = null;

export function nodeGpu(): GPU {
  if (gpu) return gpu;
  Object.assign(globalThis, globals);
  const backend = process.env.WGPU_BACKEND ?? 'opengles';
  if (backend.startsWith('opengl')) process.env.EGL_PLATFORM ??= 'surfaceless';
  gpu = create([`backend=${backend}`]) as GPU;
  return gpu;
}

export function nodeRuntime(opts: RuntimeOptions = {}): Promise<GpuRuntime> {
  return GpuRuntime.create(nodeGpu(), opts);
}
