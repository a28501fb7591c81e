/** Which dropped or picked files belong to a checkpoint, and what to call the model. */
import { baseName } from '../../core/model/byte-source';

const WANTED = /^(config\.json|generation_config\.json|tokenizer(_config)?\.json|special_tokens_map\.json|model\.safetensors\.index\.json|.*\.safetensors)$/;

/** The files a checkpoint reader needs, by base name (a folder's other files are ignored). */
export function modelFilesOf(files: File[]): File[] {
  return files.filter((f) => WANTED.test(baseName(f.webkitRelativePath || f.name)));
}

/** The picked folder's name, or null for loose files (the config's `_name_or_path` or the user names those). */
export function modelNameOf(files: File[]): string | null {
  const path = files.find((f) => f.webkitRelativePath)?.webkitRelativePath ?? '';
  const folder = path.split('/').filter(Boolean);
  return folder.length > 1 ? folder[folder.length - 2] : null;
}
