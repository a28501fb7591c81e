/** Counts in prose: "1 seed", "3 seeds". */

/**
 * `n` and its noun, plural unless n is 1 ("1 window", "0 windows", "4 windows"). `plural` for
 * nouns that do not take an s (counted(2, 'strategy', 'strategies')).
 */
export function counted(n: number, noun: string, plural = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : plural}`;
}
