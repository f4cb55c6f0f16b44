import { describe, expect, it } from "vitest";
import { API_KEY_PATTERN, generateApiKey, hashApiKey, keyDisplayParts } from "./api-keys.js";

describe("API keys", () => {
  it("generates cx_live_ + 40 base58 characters, all distinct", () => {
    const keys = new Set(Array.from({ length: 500 }, generateApiKey));
    expect(keys.size).toBe(500);
    for (const k of keys) {
      expect(k).toMatch(API_KEY_PATTERN);
      expect(k.slice(8)).not.toMatch(/[0OIl]/);
    }
  });

  it("uses the whole base58 alphabet roughly uniformly", () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 2000; i++)
      for (const ch of generateApiKey().slice(8)) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    expect(counts.size).toBe(58);
    const expected = (2000 * 40) / 58;
    for (const n of counts.values()) expect(Math.abs(n - expected) / expected).toBeLessThan(0.15);
  });

  it("hashes to lowercase hex sha256 and masks to start + last4", () => {
    expect(hashApiKey("abc")).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
    const key = generateApiKey();
    expect(keyDisplayParts(key)).toEqual({ start: key.slice(0, 12), last4: key.slice(-4) });
  });
});
