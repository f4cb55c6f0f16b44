import { createHash } from "node:crypto";
import { countTokens as bpeCount } from "gpt-tokenizer";

/** Special-token strings in customer text (`<|im_start|>`…) are counted as the text they are. */
const AS_TEXT = { disallowedSpecial: new Set<string>() };

/** Number of BPE tokens (o200k_base) in a text; used when an engine reports no usage. */
export function countTokens(text: string): number {
  return text.length === 0 ? 0 : bpeCount(text, AS_TEXT);
}

/** Hex sha256 of a UTF-8 string: the precommit of a result. */
export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}
