import type { AdapterSummary } from '../gpu/device';

type LimitName = keyof AdapterSummary['limits'];

/** The limits that size the engine's work, in the order the adapter panel shows them. */
export const SHOWN_LIMITS: { name: LimitName; bytes: boolean; why: string }[] = [
  { name: 'maxBufferSize', bytes: true, why: 'largest single buffer' },
  { name: 'maxStorageBufferBindingSize', bytes: true, why: 'largest tensor one kernel binds; bigger ones are sliced' },
  { name: 'maxComputeWorkgroupStorageSize', bytes: true, why: 'shared memory per workgroup' },
  { name: 'maxComputeInvocationsPerWorkgroup', bytes: false, why: 'threads per workgroup' },
  { name: 'maxComputeWorkgroupSizeX', bytes: false, why: 'workgroup width' },
  { name: 'maxComputeWorkgroupSizeY', bytes: false, why: 'workgroup height' },
  { name: 'maxComputeWorkgroupsPerDimension', bytes: false, why: 'workgroups per dispatch dimension' },
  { name: 'maxStorageBuffersPerShaderStage', bytes: false, why: 'storage buffers one kernel may bind' },
];
