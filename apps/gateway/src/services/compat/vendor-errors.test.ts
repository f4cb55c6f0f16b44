import {
  AnthropicErrorResponse,
  ERROR_HTTP_STATUS,
  ErrorCode,
  OpenAIErrorResponse,
} from "@portal/contracts";
import { describe, expect, it } from "vitest";
import { ApiError } from "../../errors.js";
import { renderAnthropicError, renderOpenAIError } from "./vendor-errors.js";

describe("vendor error bodies", () => {
  it("are valid for every catalogue code and keep our message", () => {
    for (const code of ErrorCode.options) {
      const o = renderOpenAIError({ code, message: `m:${code}` });
      expect(OpenAIErrorResponse.parse(o.body).error.message).toBe(`m:${code}`);
      const a = renderAnthropicError({ code, message: `m:${code}` });
      expect(AnthropicErrorResponse.parse(a.body).error.message).toBe(`m:${code}`);
    }
  });

  it("keep the catalogue status except where a vendor SDK needs another", () => {
    const openAIDifferent = ErrorCode.options.filter(
      (code) => renderOpenAIError({ code, message: "" }).status !== ERROR_HTTP_STATUS[code],
    );
    // 402 has no class in the openai SDK; OpenAI reports "out of credit" as 429 insufficient_quota.
    expect(openAIDifferent).toEqual(["insufficient_balance"]);
    const anthropicDifferent = ErrorCode.options.filter(
      (code) => renderAnthropicError({ code, message: "" }).status !== ERROR_HTTP_STATUS[code],
    );
    expect(anthropicDifferent).toEqual([]);
  });

  it("use OpenAI's own codes for keys, unknown models and quota", () => {
    const code = (c: ErrorCode) => renderOpenAIError({ code: c, message: "" }).body.error;
    expect(code("unauthorized")).toMatchObject({
      type: "authentication_error",
      code: "invalid_api_key",
    });
    expect(code("key_revoked").code).toBe("invalid_api_key");
    expect(code("model_not_found")).toMatchObject({
      type: "invalid_request_error",
      code: "model_not_found",
    });
    expect(code("insufficient_balance")).toMatchObject({
      type: "insufficient_quota",
      code: "insufficient_quota",
    });
    expect(code("quota_exceeded").code).toBe("insufficient_quota");
    expect(code("rate_limited")).toMatchObject({
      type: "rate_limit_error",
      code: "rate_limit_exceeded",
    });
  });

  it("pass an ApiError's headers through and add the retry hint", () => {
    const err = new ApiError(
      "rate_limited",
      "Rate limit exceeded.",
      { scope: "key_rpm", limit: 60, retry_after: 3 },
      { "Retry-After": "3", "X-RateLimit-Limit": "60" },
    );
    expect(renderOpenAIError(err).headers).toEqual({
      "Retry-After": "3",
      "X-RateLimit-Limit": "60",
    });
    expect(renderAnthropicError(new ApiError("quota_exceeded", "used up")).headers).toEqual({
      "x-should-retry": "false",
    });
    const mismatch = {
      code: "idempotency_conflict" as const,
      message: "",
      details: { reason: "body_mismatch" },
    };
    const inProgress = {
      ...mismatch,
      details: { reason: "in_progress" },
      headers: { "Retry-After": "1" },
    };
    expect(renderOpenAIError(mismatch).headers).toEqual({ "x-should-retry": "false" });
    expect(renderOpenAIError(inProgress).headers).toEqual({ "Retry-After": "1" });
  });

  it("fill OpenAI's param from details.field or the first issue path", () => {
    expect(
      renderOpenAIError({ code: "invalid_request", message: "", details: { field: "max_tokens" } })
        .body.error.param,
    ).toBe("max_tokens");
    expect(
      renderOpenAIError({
        code: "invalid_request",
        message: "",
        details: { issues: [{ path: "messages.0.content", code: "custom", message: "" }] },
      }).body.error.param,
    ).toBe("messages.0.content");
    expect(renderOpenAIError({ code: "internal_error", message: "" }).body.error.param).toBeNull();
  });

  it("add the request id to Anthropic bodies and headers when given", () => {
    const r = renderAnthropicError({ code: "unauthorized", message: "no" }, { requestId: "req_1" });
    expect(r).toEqual({
      status: 401,
      body: {
        type: "error",
        error: { type: "authentication_error", message: "no" },
        request_id: "req_1",
      },
      headers: { "request-id": "req_1" },
    });
  });
});
