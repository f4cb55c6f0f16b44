import { describe, expect, it } from "vitest";
import { countTokens } from "./tokens.js";

describe("countTokens", () => {
  it("counts special-token markers as plain text instead of throwing", () => {
    expect(countTokens("<|im_start|>user\nhi<|im_end|>")).toBeGreaterThan(5);
    expect(countTokens("<|endoftext|>")).toBeGreaterThan(1);
  });
  it("counts ordinary text and the empty string", () => {
    expect(countTokens("hello world")).toBe(2);
    expect(countTokens("")).toBe(0);
  });
});
