/**
 * The kernels this device runs where two compute the same thing (the GEMM, the full forward's
 * attention), each chosen by timing both once per device: what tuneKernels measures and
 * kernelChoicesOf reports (report.json `adapter.kernels`, the studio's adapter details).
 */
import type { KernelChoices } from '../../core/kernel-choice';
import type { GpuRuntime } from '../runtime';
import { attentionChoiceOf, tuneAttention } from './attention-choice';
import { gemmVariantOf, tuneGemm } from './gemm';

/** The kernels encodeGemm and encodeForwardAttention use now on `device` (the defaults until tuned). */
export function kernelChoicesOf(device: GPUDevice): KernelChoices {
  return { gemm: gemmVariantOf(device).name, attention: attentionChoiceOf(device) };
}

/** Times the GEMM and attention kernels on `rt`'s device (once per device) and returns the choices. Rejects only as tuneGemm does (a lost device). */
export async function tuneKernels(rt: GpuRuntime): Promise<KernelChoices> {
  await tuneGemm(rt);
  await tuneAttention(rt);
  return kernelChoicesOf(rt.device);
}
