/** Readers of config.json keys with the checks and messages every family's parser shares. */
import { CheckpointError } from './checkpoint-error';

export type Raw = Record<string, unknown>;

const FILE = 'config.json';

/** Throws a CheckpointError "config.json: <what>". */
export function refuse(what: string): never {
  throw new CheckpointError(`${FILE}: ${what}`, { file: FILE });
}

export function positiveInt(raw: Raw, key: string, fallback?: number): number {
  const value = raw[key] ?? fallback;
  if (value === undefined) refuse(`"${key}" is missing`);
  if (!Number.isSafeInteger(value) || (value as number) <= 0) {
    refuse(`"${key}" must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value as number;
}

export function positiveNumber(raw: Raw, key: string, fallback: number): number {
  const value = raw[key] ?? fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    refuse(`"${key}" must be a positive number, got ${JSON.stringify(value)}`);
  }
  return value;
}

export function flag(raw: Raw, key: string, fallback: boolean): boolean {
  const value = raw[key] ?? fallback;
  if (typeof value !== 'boolean') refuse(`"${key}" must be true or false, got ${JSON.stringify(value)}`);
  return value;
}

export function tokenIds(value: unknown, key: string): number[] {
  if (value === undefined || value === null) return [];
  const ids = Array.isArray(value) ? value : [value];
  if (!ids.every((id) => Number.isSafeInteger(id) && id >= 0)) {
    refuse(`"${key}" must be a token id or a list of them, got ${JSON.stringify(value)}`);
  }
  return ids as number[];
}

/** The dtype and special tokens every family records the same way. */
export function commonTail(raw: Raw): { torchDtype: string | null; bosTokenId: number | null; eosTokenIds: number[] } {
  const dtype = raw.torch_dtype ?? raw.dtype ?? null;
  return {
    torchDtype: typeof dtype === 'string' ? dtype : null,
    bosTokenId: tokenIds(raw.bos_token_id, 'bos_token_id')[0] ?? null,
    eosTokenIds: tokenIds(raw.eos_token_id, 'eos_token_id'),
  };
}

/** An optional object-valued key (null and absent are both undefined). */
export function optionalObject(raw: Raw, key: string): Raw | undefined {
  const v = raw[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) refuse(`"${key}" must be an object, got ${JSON.stringify(v)}`);
  return v as Raw;
}

/**
 * `layer_types`: one of "full_attention" / "sliding_attention" per layer, as 'full' / 'sliding'.
 */
export function layerTypes(value: unknown, layers: number): ('full' | 'sliding')[] {
  if (!Array.isArray(value) || value.length !== layers) {
    refuse(`"layer_types" must list one attention type per layer (${layers}), got ${JSON.stringify(value)}`);
  }
  return value.map((t, i) => {
    if (t === 'full_attention') return 'full';
    if (t === 'sliding_attention') return 'sliding';
    return refuse(`layer_types[${i}] is ${JSON.stringify(t)}; supported layer types: full_attention, sliding_attention`);
  });
}
