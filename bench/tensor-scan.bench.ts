/**
 * The pre-run tensor scan (src/core/model/tensor-scan.ts): GiB/s of the NaN/Inf and largest-magnitude
 * test on stored bytes, per dtype, in the 16 MiB pieces the scan reads. Excludes reading the file.
 * Prints figures; asserts nothing. Run: node --import tsx bench/tensor-scan.bench.ts [MiB per dtype, default 512]
 */
import { SCAN_CHUNK_BYTES, scanBits } from '../src/core/model/tensor-scan';

const mib = Number(process.argv[2] ?? 512);
const bytes = new Uint8Array(mib << 20);
const words = new Uint32Array(bytes.buffer);
// Finite values of every magnitude: exponent bits never all ones in either 16-bit half or the word.
for (let i = 0; i < words.length; i++) words[i] = (Math.imul(i, 2654435761) >>> 0) & 0x3f7f3f7f;

for (const dtype of ['F32', 'F16', 'BF16'] as const) {
  const t0 = performance.now();
  let bad = 0;
  for (let off = 0; off < bytes.length; off += SCAN_CHUNK_BYTES) bad += scanBits(bytes.subarray(off, off + SCAN_CHUNK_BYTES), dtype).firstBad >= 0 ? 1 : 0;
  const s = (performance.now() - t0) / 1000;
  console.log(`${dtype.padEnd(4)} ${mib} MiB in ${s.toFixed(2)} s: ${(mib / 1024 / s).toFixed(2)} GiB/s (${bad} pieces with NaN/Inf)`);
}
