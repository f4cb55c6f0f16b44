import { describe, expect, it } from "vitest";
import { countTokens, sha256Hex } from "./tokens.js";

describe("router token counting", () => {
  it("counts chat-template special-token markers as text (a prompt never crashes the router)", () => {
    expect(countTokens("<|im_start|>user\nSay hello.<|im_end|>")).toBeGreaterThan(5);
    expect(countTokens("")).toBe(0);
  });
  it("hashes results as hex sha256", () => {
    expect(sha256Hex("abc")).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
  });
});
