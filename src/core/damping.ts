/**
 * The damping rule every surface applies (the CLI's --damp, a strategy's +dampF, the studio's
 * field): a fraction of the mean of diag(H) added to H's diagonal, above 0 (GPTQ needs H positive
 * definite) and at most 1.
 */

/**
 * Why `fraction` is refused as the damping, or null. `percent`: say the bounds in percent (the
 * studio's field) instead of as fractions.
 */
export function dampingRefusal(fraction: number, percent = false): string | null {
  const show = (f: number) => (percent ? `${f * 100} %` : String(f));
  if (!Number.isFinite(fraction)) return 'damping must be a number';
  if (fraction <= 0) return `damping must be more than ${show(0)} (H needs it to be invertible)`;
  if (fraction > 1) return `damping must be at most ${percent ? '100 %' : '1 (100 %)'} of the mean of diag(H)`;
  return null;
}
