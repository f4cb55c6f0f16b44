import { countTokens as bpeCount } from "gpt-tokenizer";

/** Special-token strings in customer text (`<|im_start|>`…) are counted as the text they are. */
const AS_TEXT = { disallowedSpecial: new Set<string>() };

/**
 * BPE tokens (o200k_base) of a text, for pricing estimates and context checks. Never throws on
 * customer input: chat templates put special-token markers in every prompt.
 */
export function countTokens(text: string): number {
  return text.length === 0 ? 0 : bpeCount(text, AS_TEXT);
}
