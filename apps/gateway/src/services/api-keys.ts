import { createHash, randomBytes } from "node:crypto";

const BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
export const API_KEY_PREFIX = "cx_live_";
const KEY_BODY_LENGTH = 40;
export const API_KEY_PATTERN = /^cx_live_[1-9A-HJ-NP-Za-km-z]{40}$/;

/** A new customer key: `cx_live_` + 40 base58 characters (~234 bits of entropy). */
export function generateApiKey(): string {
  let body = "";
  while (body.length < KEY_BODY_LENGTH) {
    for (const byte of randomBytes(KEY_BODY_LENGTH)) {
      // Rejection sampling keeps every character equally likely (58 × 4 = 232).
      if (byte < 232 && body.length < KEY_BODY_LENGTH) body += BASE58[byte % 58];
    }
  }
  return API_KEY_PREFIX + body;
}

/** Lowercase hex SHA-256: what we store and look up. A fast hash is right for 234-bit keys. */
export function hashApiKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

/** The parts of a key kept for the masked list. */
export function keyDisplayParts(key: string): { start: string; last4: string } {
  return { start: key.slice(0, 12), last4: key.slice(-4) };
}
