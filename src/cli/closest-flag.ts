/**
 * "Did you mean": the known flag closest to an unknown one, for the quantize command (args.ts)
 * and the benchmarks (bench/flags.ts).
 */

/**
 * Edit distance with adjacent transpositions (optimal string alignment, Damerau 1964): the fewest
 * insertions, deletions, substitutions and swaps of two neighbours that turn `a` into `b`.
 */
export function editDistance(a: string, b: string): number {
  // d[i][j]: distance between a's first i characters and b's first j, kept as three rows.
  let before = new Array<number>(b.length + 1).fill(0);
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j], before[j - 2] + 1);
    }
    before = prev;
    prev = row;
  }
  return prev[b.length];
}

/**
 * The flag of `known` the user most likely meant by `given`, or null when none is close. Names are
 * compared without their leading dashes (an en or em dash, as pasted from formatted text, counts
 * as one; "bits" means --bits), case and "_" for "-" aside: the nearest by editDistance within a
 * third of its name, at least 1 ("--evalwindows", "--target-bits", "--bist"; on a tie, the first in
 * `known`), else the one flag `given` begins ("--calib" for --calibration), else the longest flag
 * that begins `given` ("--seqlength" for --seqlen). A `given` without a leading dash (a
 * stray value, or a flag without its dashes) only matches a flag's name exactly: "bits" is --bits,
 * "eval.txt" nothing.
 */
export function closestFlag(given: string, known: readonly string[]): string | null {
  const core = (s: string) => s.replace(/^[-\u2013\u2014]+/, '').toLowerCase().replace(/_/g, '-');
  const g = core(given);
  if (g.length < 2) return null;
  if (!/^[-\u2013\u2014]/.test(given)) return known.find((k) => core(k) === g) ?? null;
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = editDistance(g, core(k));
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  if (best !== null && bestDistance <= Math.max(1, Math.floor(core(best).length / 3))) return best;
  const begun = known.filter((k) => core(k).startsWith(g));
  if (begun.length === 1) return begun[0];
  const beginning = known.filter((k) => g.startsWith(core(k))).sort((a, b) => b.length - a.length);
  return beginning[0] ?? null;
}
