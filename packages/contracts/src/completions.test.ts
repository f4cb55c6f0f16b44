import { describe, expect, it } from "vitest";
import { CompletionRequest } from "./completions.js";
import { ERROR_HTTP_STATUS, ErrorCode } from "./errors.js";

describe("CompletionRequest", () => {
  it("accepts the seed document's example", () => {
    const ok = CompletionRequest.safeParse({
      model: "default",
      prompt: "Explain.",
      max_tokens: 160,
      temperature: 0.7,
      top_p: 1,
      stream: false,
    });
    expect(ok.success).toBe(true);
  });

  it("refuses unknown fields and timeout ≤ precommit_timeout", () => {
    expect(CompletionRequest.safeParse({ model: "m", prompt: "p", foo: 1 }).success).toBe(false);
    const bad = CompletionRequest.safeParse({
      model: "m",
      prompt: "p",
      timeout: 10,
      precommit_timeout: 10,
    });
    expect(bad.error?.issues[0]?.path).toEqual(["timeout"]);
  });
});

describe("error catalogue", () => {
  it("maps every code to a status", () => {
    for (const code of ErrorCode.options)
      expect(ERROR_HTTP_STATUS[code]).toBeGreaterThanOrEqual(400);
    expect(ErrorCode.options).toHaveLength(20);
  });
});
