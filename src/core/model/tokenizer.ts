/**
 * tokenizer.json (+ tokenizer_config.json) through @huggingface/tokenizers.
 * encode() adds special tokens as Hugging Face's tokenizer(text) does: for a Llama tokenizer whose
 * post-processor is a TemplateProcessing "<s> $A", BOS comes from the tokenizer itself, not the
 * caller. Calibration and evaluation text is encoded with { addSpecialTokens: false }.
 */
import { Tokenizer } from '@huggingface/tokenizers';
import { CheckpointError } from './checkpoint-error';

export interface TextTokenizer {
  /** Token ids of text; addSpecialTokens (default true) applies the post-processor (e.g. BOS). */
  encode(text: string, options?: { addSpecialTokens?: boolean }): number[];
  /** Text of ids; special tokens are kept unless skipSpecialTokens. */
  decode(ids: readonly number[], options?: { skipSpecialTokens?: boolean }): string;
  /** The token string of an id (as the vocabulary or the added tokens spell it), or undefined. */
  tokenOf(id: number): string | undefined;
  bosId?: number;
  eosId?: number;
}

function parseJson(text: string, file: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not a JSON object');
    return value as Record<string, unknown>;
  } catch (e) {
    throw new CheckpointError(`${file}: not valid JSON (${(e as Error).message}); download it again`, { file });
  }
}

/** A special token in tokenizer_config.json: a string or an AddedToken-like { content }. */
function tokenContent(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && typeof (value as { content?: unknown }).content === 'string') {
    return (value as { content: string }).content;
  }
  return undefined;
}

export function loadTokenizer(tokenizerJson: string, tokenizerConfigJson?: string | null): TextTokenizer {
  const json = parseJson(tokenizerJson, 'tokenizer.json');
  const config = tokenizerConfigJson ? parseJson(tokenizerConfigJson, 'tokenizer_config.json') : {};
  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(json, config);
  } catch (e) {
    throw new CheckpointError(`tokenizer.json: cannot be loaded (${(e as Error).message})`, { file: 'tokenizer.json' });
  }
  const idOf = (key: string): number | undefined => {
    const content = tokenContent(config[key]);
    return content === undefined ? undefined : tokenizer.token_to_id(content);
  };
  return {
    encode(text, options = {}) {
      const { addSpecialTokens = true } = options;
      return tokenizer.encode(text, { add_special_tokens: addSpecialTokens }).ids;
    },
    decode(ids, options = {}) {
      if (ids.length === 0) return ''; // the library refuses an empty list
      return tokenizer.decode([...ids], { skip_special_tokens: options.skipSpecialTokens ?? false });
    },
    tokenOf(id) {
      return tokenizer.id_to_token(id);
    },
    bosId: idOf('bos_token'),
    eosId: idOf('eos_token'),
  };
}
