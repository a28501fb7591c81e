/**
 * Adapter and device choice.
 *
 * Policy (design.md "Decisions"): ask for a core adapter; if there is none, or the only core one
 * is a software fallback, also ask for a compatibility adapter and prefer whichever is not a
 * fallback. The device is requested with the adapter's own limits (defaults are far lower:
 * compatibility devices default to 128 invocations per workgroup and 128 MiB bindings).
 */

export type FeatureLevel = 'core' | 'compatibility';

/** What the studio shows about the adapter it got, and what the engine sizes work by. */
export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
  featureLevel: FeatureLevel;
  shaderF16: boolean;
  subgroups: boolean;
  timestampQuery: boolean;
  limits: {
    maxBufferSize: number;
    maxStorageBufferBindingSize: number;
    maxComputeWorkgroupStorageSize: number;
    maxComputeInvocationsPerWorkgroup: number;
    maxComputeWorkgroupSizeX: number;
    maxComputeWorkgroupSizeY: number;
    maxComputeWorkgroupsPerDimension: number;
    maxStorageBuffersPerShaderStage: number;
    minStorageBufferOffsetAlignment: number;
    minUniformBufferOffsetAlignment: number;
  };
}

/** The limits copied from the adapter into the device request. */
const LIMITS_REQUESTED = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
  'maxBindGroups',
  'maxDynamicUniformBuffersPerPipelineLayout',
  'maxUniformBufferBindingSize',
] as const;

export class NoWebGpuError extends Error {
  override name = 'NoWebGpuError';
}

/** How to get WebGPU, for the message shown when there is none. */
export const NO_WEBGPU_HELP =
  'Use a recent Chrome or Edge (version 113 or later) on a machine with a supported GPU. ' +
  'On Linux, or where the GPU is blocklisted, start Chrome with --enable-unsafe-webgpu ' +
  '(or enable chrome://flags/#enable-unsafe-webgpu). Firefox Nightly and Safari Technology ' +
  'Preview also have WebGPU behind their own settings.';

function isCompatibility(adapter: GPUAdapter): boolean {
  return !adapter.features.has('core-features-and-limits');
}

function isFallback(adapter: GPUAdapter): boolean {
  // `info.isFallbackAdapter` is the current spelling; older implementations put it on the adapter.
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  return Boolean(info?.isFallbackAdapter ?? (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter);
}

/** Picks an adapter by the policy above; null when the browser has none at all. */
export async function chooseAdapter(gpu: GPU): Promise<GPUAdapter | null> {
  const core = await gpu.requestAdapter({ powerPreference: 'high-performance' }).catch(() => null);
  if (core && !isFallback(core)) return core;
  const compat = await gpu
    .requestAdapter({ powerPreference: 'high-performance', featureLevel: 'compatibility' } as GPURequestAdapterOptions)
    .catch(() => null);
  if (compat && !isFallback(compat)) return compat;
  return core ?? compat;
}

export function summarizeAdapter(adapter: GPUAdapter): AdapterSummary {
  const info = adapter.info;
  const l = adapter.limits;
  return {
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    device: info?.device ?? '',
    description: info?.description ?? '',
    isFallbackAdapter: isFallback(adapter),
    featureLevel: isCompatibility(adapter) ? 'compatibility' : 'core',
    shaderF16: adapter.features.has('shader-f16'),
    subgroups: adapter.features.has('subgroups'),
    timestampQuery: adapter.features.has('timestamp-query'),
    limits: {
      maxBufferSize: l.maxBufferSize,
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
      maxComputeWorkgroupSizeY: l.maxComputeWorkgroupSizeY,
      maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
      maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
      minStorageBufferOffsetAlignment: l.minStorageBufferOffsetAlignment,
      minUniformBufferOffsetAlignment: l.minUniformBufferOffsetAlignment,
    },
  };
}

/** A one-line name for logs and reports, e.g. "google swiftshader (core, fallback)". */
export function describeAdapter(s: AdapterSummary): string {
  const name = [s.vendor, s.architecture, s.device].filter(Boolean).join(' ') || s.description || 'unnamed adapter';
  const tags = [s.featureLevel, s.isFallbackAdapter ? 'fallback' : ''].filter(Boolean).join(', ');
  return `${name} (${tags})`;
}

export interface AcquiredDevice {
  adapter: GPUAdapter;
  device: GPUDevice;
  summary: AdapterSummary;
}

/** Chooses an adapter and opens a device with the adapter's own limits. */
export async function acquireDevice(gpu: GPU | undefined, label = 'gptq-studio'): Promise<AcquiredDevice> {
  if (!gpu) throw new NoWebGpuError(`This browser has no WebGPU (navigator.gpu is missing). ${NO_WEBGPU_HELP}`);
  const adapter = await chooseAdapter(gpu);
  if (!adapter) throw new NoWebGpuError(`WebGPU is present but offered no adapter. ${NO_WEBGPU_HELP}`);
  const requiredLimits: Record<string, number> = {};
  for (const name of LIMITS_REQUESTED) {
    const v = (adapter.limits as unknown as Record<string, number | undefined>)[name];
    if (typeof v === 'number') requiredLimits[name] = v;
  }
  const device = await adapter.requestDevice({ label: `${label}.device`, requiredLimits });
  return { adapter, device, summary: summarizeAdapter(adapter) };
}
