import { describe, expect, it } from "vitest";
import { CompletionRequest, completionTimeouts } from "./completions.js";
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

  it("fits the default precommit_timeout under a short timeout given alone, as the router does", () => {
    expect(completionTimeouts({})).toEqual({ timeout: 180, precommit: 120 });
    expect(completionTimeouts({ timeout: 300 })).toEqual({ timeout: 300, precommit: 120 });
    // Seed 000's example sends timeout 60 alone: the defaults' 2/3 ratio gives 40.
    expect(completionTimeouts({ timeout: 60 })).toEqual({ timeout: 60, precommit: 40 });
    expect(completionTimeouts({ timeout: 2 })).toEqual({ timeout: 2, precommit: 1 });
    expect(completionTimeouts({ timeout: 30, precommit_timeout: 5 })).toEqual({
      timeout: 30,
      precommit: 5,
    });
    expect(completionTimeouts({ precommit_timeout: 90 })).toEqual({ timeout: 180, precommit: 90 });
    for (const timeout of [2, 3, 59, 60, 120, 179, 180, 181, 3600]) {
      const ok = CompletionRequest.safeParse({ model: "m", prompt: "p", timeout });
      expect(ok.success, `timeout ${timeout}`).toBe(true);
    }
    const tooShort = CompletionRequest.safeParse({ model: "m", prompt: "p", timeout: 1 });
    expect(tooShort.error?.issues[0]).toMatchObject({ path: ["timeout"] });
    expect(tooShort.error?.issues[0]?.message).toContain("at least 2 seconds");
    // A precommit_timeout given alone must still fit below the default timeout.
    const late = CompletionRequest.safeParse({ model: "m", prompt: "p", precommit_timeout: 180 });
    expect(late.error?.issues[0]?.path).toEqual(["precommit_timeout"]);
  });
});

describe("error catalogue", () => {
  it("maps every code to a status", () => {
    for (const code of ErrorCode.options)
      expect(ERROR_HTTP_STATUS[code]).toBeGreaterThanOrEqual(400);
    expect(ErrorCode.options).toHaveLength(20);
  });
});
