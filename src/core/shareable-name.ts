/** Names of models in the files meant to be shared (reports, model cards, exported configs). */

/**
 * A model's name fit for shared files: a Hub id ("owner/name") as it is, anything else that looks
 * like a path (absolute, relative, Windows or home-relative) cut to its last non-empty part.
 */
export function shareableModelName(name: string): string {
  const trimmed = name.trim();
  const hubId = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/.test(trimmed) && !/^\.{1,2}\//.test(trimmed);
  if (hubId) return trimmed;
  const parts = trimmed.split(/[\\/]+/).filter((p) => p !== '' && p !== '.' && p !== '..' && p !== '~' && !/^[A-Za-z]:$/.test(p));
  return parts.at(-1) ?? 'model';
}
