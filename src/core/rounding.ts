/**
 * Round half to even: torch.round and WGSL round() semantics. JS Math.round rounds halves up
 * (toward +∞), which differs on every tie whose lower neighbour is even (2.5 → 3, −1.5 → −1).
 */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  // r − x is exact for |x| < 2^52; above that every double is already an integer.
  if (r - x === 0.5 && r % 2 !== 0) return r - 1;
  return r;
}
