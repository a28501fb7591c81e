/** The key of a quantized linear in a run's results: `${block}.${linear}`, e.g. "3.mlp.down_proj". */
export const weightKey = (block: number, linear: string) => `${block}.${linear}`;
