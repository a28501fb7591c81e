/** Errors the GPU runtime reports to its callers; each says what happened and what to do. */

export class DeviceLostError extends Error {
  override name = 'DeviceLostError';
  constructor(reason: string, detail: string) {
    super(
      `The GPU device was lost (${reason}${detail ? `: ${detail}` : ''}). ` +
        'Work in flight on it is gone; the next run starts a new device. ' +
        'If this repeats, close other GPU-heavy tabs or reduce the layer or calibration size.',
    );
  }
}

export class GpuOutOfMemoryError extends Error {
  override name = 'GpuOutOfMemoryError';
}

export class GpuValidationError extends Error {
  override name = 'GpuValidationError';
}
