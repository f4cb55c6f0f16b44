import type {
  AnthropicErrorResponse,
  AnthropicErrorType,
  ErrorCode,
  OpenAIErrorResponse,
} from "@portal/contracts";
import type { CatalogError, CompatErrorResponse } from "./common.js";

/*
 * Our error catalogue in each vendor's native shape. Both official SDKs choose the exception
 * class from the HTTP status alone (openai: 400 BadRequest, 401 Authentication, 403
 * PermissionDenied, 404 NotFound, 409 Conflict, 422 Unprocessable, 429 RateLimit, >=500
 * InternalServer, anything else the base APIError; @anthropic-ai/sdk adds 402 PaymentRequired,
 * 413 ContentTooLarge, 503 ServiceUnavailable, 504 GatewayTimeout, 529 Overloaded), so the status
 * is what matters; `type`/`code` let callers branch further. Both tables are `satisfies
 * Record<ErrorCode, …>`: a new catalogue code does not compile until it is mapped here.
 *
 * Both SDKs retry 408/409/429/5xx unless the response says `x-should-retry: false`. We say so
 * where a retry cannot succeed within the SDK's back-off (an empty balance, a weekly allowance, an
 * Idempotency-Key reused with another body), so callers fail fast instead of re-sending.
 */

interface OpenAIMapping {
  status: number;
  type: string;
  /** OpenAI's own code where one exists; else our catalogue code (machine-readable either way). */
  code: string;
}

const OPENAI_ERRORS = {
  invalid_request: { status: 400, type: "invalid_request_error", code: "invalid_request" },
  invalid_json: { status: 400, type: "invalid_request_error", code: "invalid_json" },
  // openai has no 413 class: the base APIError, which is still the honest status.
  payload_too_large: { status: 413, type: "invalid_request_error", code: "payload_too_large" },
  unauthorized: { status: 401, type: "authentication_error", code: "invalid_api_key" },
  key_revoked: { status: 401, type: "authentication_error", code: "invalid_api_key" },
  key_expired: { status: 401, type: "authentication_error", code: "invalid_api_key" },
  account_disabled: { status: 403, type: "permission_error", code: "account_disabled" },
  forbidden: { status: 403, type: "permission_error", code: "forbidden" },
  model_not_allowed: { status: 403, type: "permission_error", code: "model_not_allowed" },
  // OpenAI answers an unknown model with exactly this type and code.
  model_not_found: { status: 404, type: "invalid_request_error", code: "model_not_found" },
  not_found: { status: 404, type: "invalid_request_error", code: "not_found" },
  idempotency_conflict: {
    status: 409,
    type: "invalid_request_error",
    code: "idempotency_conflict",
  },
  conflict: { status: 409, type: "invalid_request_error", code: "conflict" },
  // An empty prepaid balance is 402 in our catalogue, but openai has no 402 class (it would raise
  // the bare APIError). OpenAI itself reports "out of credit" as 429 insufficient_quota, and that
  // is what OpenAI-compatible clients (LangChain, LiteLLM, agents) already recognize as
  // "stop, not transient": RateLimitError with code insufficient_quota, plus x-should-retry: false.
  insufficient_balance: { status: 429, type: "insufficient_quota", code: "insufficient_quota" },
  // The plan's weekly allowance: the same situation OpenAI calls insufficient_quota.
  quota_exceeded: { status: 429, type: "insufficient_quota", code: "insufficient_quota" },
  rate_limited: { status: 429, type: "rate_limit_error", code: "rate_limit_exceeded" },
  pool_unavailable: { status: 503, type: "server_error", code: "pool_unavailable" },
  upstream_error: { status: 502, type: "server_error", code: "upstream_error" },
  upstream_timeout: { status: 504, type: "server_error", code: "upstream_timeout" },
  internal_error: { status: 500, type: "server_error", code: "internal_error" },
} as const satisfies Record<ErrorCode, OpenAIMapping>;

interface AnthropicMapping {
  status: number;
  type: AnthropicErrorType;
}

const ANTHROPIC_ERRORS = {
  invalid_request: { status: 400, type: "invalid_request_error" },
  invalid_json: { status: 400, type: "invalid_request_error" },
  payload_too_large: { status: 413, type: "request_too_large" },
  unauthorized: { status: 401, type: "authentication_error" },
  key_revoked: { status: 401, type: "authentication_error" },
  key_expired: { status: 401, type: "authentication_error" },
  account_disabled: { status: 403, type: "permission_error" },
  forbidden: { status: 403, type: "permission_error" },
  model_not_allowed: { status: 403, type: "permission_error" },
  model_not_found: { status: 404, type: "not_found_error" },
  not_found: { status: 404, type: "not_found_error" },
  idempotency_conflict: { status: 409, type: "conflict_error" },
  conflict: { status: 409, type: "conflict_error" },
  // The SDK has PaymentRequiredError for 402 / billing_error: keep our catalogue status.
  insufficient_balance: { status: 402, type: "billing_error" },
  rate_limited: { status: 429, type: "rate_limit_error" },
  quota_exceeded: { status: 429, type: "rate_limit_error" },
  // 503 (ServiceUnavailableError, a subclass of InternalServerError) rather than Anthropic's 529:
  // it keeps one status per catalogue code across all routes, proxies and metrics, while the
  // `overloaded_error` type still tells Anthropic-aware callers it is a capacity problem.
  pool_unavailable: { status: 503, type: "overloaded_error" },
  upstream_error: { status: 502, type: "api_error" },
  // The SDK's GatewayTimeoutError (504) carries type `timeout_error` in Anthropic's own API.
  upstream_timeout: { status: 504, type: "timeout_error" },
  internal_error: { status: 500, type: "api_error" },
} as const satisfies Record<ErrorCode, AnthropicMapping>;

/** Extra headers for a failure: its own (Retry-After, X-RateLimit-*) and the retry hint. */
function errorHeaders(err: CatalogError): Record<string, string> {
  const headers = { ...err.headers };
  if (!isRetryable(err)) headers["x-should-retry"] = "false";
  return headers;
}

function isRetryable(err: CatalogError): boolean {
  switch (err.code) {
    case "insufficient_balance":
    case "quota_exceeded":
    case "conflict":
      return false;
    case "idempotency_conflict":
      // Only "still in progress" (Retry-After: 1) can succeed on a retry.
      return err.details?.reason !== "body_mismatch";
    default:
      return true;
  }
}

/** OpenAI `param`: the field a 400 is about, from `details.field` or the first zod issue. */
function paramOf(err: CatalogError): string | null {
  const field = err.details?.field;
  if (typeof field === "string") return field;
  const issues = err.details?.issues;
  if (Array.isArray(issues)) {
    const path = (issues[0] as { path?: unknown } | undefined)?.path;
    if (typeof path === "string" && path !== "") return path;
  }
  return null;
}

/** Render a catalogue error as OpenAI's `{error:{message,type,param,code}}`. */
export function renderOpenAIError(err: CatalogError): CompatErrorResponse<OpenAIErrorResponse> {
  const m = OPENAI_ERRORS[err.code];
  return {
    status: m.status,
    body: { error: { message: err.message, type: m.type, param: paramOf(err), code: m.code } },
    headers: errorHeaders(err),
  };
}

/** Render a catalogue error as Anthropic's `{type:"error", error:{type,message}}`. */
export function renderAnthropicError(
  err: CatalogError,
  opts: { requestId?: string } = {},
): CompatErrorResponse<AnthropicErrorResponse> {
  const m = ANTHROPIC_ERRORS[err.code];
  const body: AnthropicErrorResponse = {
    type: "error",
    error: { type: m.type, message: err.message },
  };
  const headers = errorHeaders(err);
  if (opts.requestId) {
    body.request_id = opts.requestId;
    // The Anthropic SDK reads `request-id` (not X-Request-Id) into `err.requestID`.
    headers["request-id"] = opts.requestId;
  }
  return { status: m.status, body, headers };
}
