/**
 * The damping rule every surface applies (the CLI's --damp, a strategy's +dampF, the studio's
 * field): a fraction of the mean of diag(H) added to H's diagonal, above 0 (GPTQ needs H positive
 * definite) and at most 1. Below MIN_DAMPING it would change nothing: H is f32 on the GPU, and a
 * diagonal entry near the mean keeps its value when so little is added (f32's relative step is
 * 2⁻²³ ≈ 1.2e-7).
 */

/** The smallest damping fraction accepted (0.0001 %): about eight f32 steps of a diagonal entry at the mean. */
export const MIN_DAMPING = 1e-6;

/**
 * Why `fraction` is refused as the damping, or null. `percent`: say the bounds in percent (the
 * studio's field) instead of as fractions.
 */
export function dampingRefusal(fraction: number, percent = false): string | null {
  const show = (f: number) => (percent ? `${f * 100} %` : String(f));
  if (!Number.isFinite(fraction)) return 'damping must be a number';
  if (fraction <= 0) return `damping must be more than ${show(0)} (H needs it to be invertible)`;
  if (fraction < MIN_DAMPING) {
    return `damping must be at least ${percent ? '0.0001 %' : '1e-6 (0.0001 %)'}: less is lost to f32 rounding when added to diag(H), so it would damp nothing`;
  }
  if (fraction > 1) return `damping must be at most ${percent ? '100 %' : '1 (100 %)'} of the mean of diag(H)`;
  return null;
}
