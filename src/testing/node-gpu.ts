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
  const flags = [`backend=${backend}`];
  if (backend.startsWith('opengl')) {
    process.env.EGL_PLATFORM ??= 'surfaceless';
    // Dawn's OpenGL backend clears a buffer on its first partial write from a zeroed host copy of
    // the whole buffer: a 519 MiB embedding uploaded in pieces briefly took 519 MiB more of the
    // process (measured, maxRSS). Every buffer here is written before it is read (the pool hands out
    // used buffers as they are), so the clear is not needed.
    flags.push('disable-dawn-features=lazy_clear_resource_on_first_use');
  }
  gpu = create(flags) as GPU;
  return gpu;
}

export function nodeRuntime(opts: RuntimeOptions = {}): Promise<GpuRuntime> {
  return GpuRuntime.create(nodeGpu(), opts);
}
