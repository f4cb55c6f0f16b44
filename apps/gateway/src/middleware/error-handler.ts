import { type ErrorBody, failedEnvelope, formatMicrosUsd } from "@portal/contracts";
import { CLIENT_CLOSED_STATUS, isClientAbort } from "@portal/router/client-abort";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import {
  ClientGoneError,
  DomainError,
  IdempotencyConflictError,
  InsufficientBalanceError,
  InvalidCompletionError,
  ModelNotAllowedError,
  ModelNotFoundError,
  NoHealthyTargetError,
  QuotaExceededError,
  RateLimitedError,
  UpstreamFailedError,
  UpstreamTimeoutError,
} from "../domain-errors.js";
import { ApiError } from "../errors.js";
import { rateLimitHeaders } from "../lib/rate-limit-headers.js";
import { renderAnthropicError, renderOpenAIError } from "../services/compat/index.js";
import type { AppEnv } from "../types.js";

/** Map a domain error to the catalogue; unknown domain errors become internal errors. */
export function toApiError(err: DomainError): ApiError {
  if (err instanceof ModelNotFoundError)
    return new ApiError("model_not_found", err.message, { model: err.alias });
  if (err instanceof ModelNotAllowedError)
    return new ApiError("model_not_allowed", err.message, { model: err.alias });
  if (err instanceof InvalidCompletionError)
    return new ApiError("invalid_request", err.message, err.details);
  if (err instanceof NoHealthyTargetError)
    return new ApiError("pool_unavailable", err.message, undefined, { "Retry-After": "5" });
  if (err instanceof UpstreamTimeoutError) return new ApiError("upstream_timeout", err.message);
  if (err instanceof UpstreamFailedError) return new ApiError("upstream_error", err.message);
  if (err instanceof RateLimitedError) {
    return new ApiError(
      "rate_limited",
      err.message,
      { scope: err.scope, limit: err.limit, retry_after: err.retryAfterSeconds },
      { ...rateLimitHeaders(err.info), "Retry-After": String(err.retryAfterSeconds) },
    );
  }
  if (err instanceof QuotaExceededError) {
    const retryAfter = Math.max(1, Math.ceil((err.resetAt.getTime() - Date.now()) / 1000));
    return new ApiError(
      "quota_exceeded",
      err.message,
      { scope: "org_weekly_allowance", limit: err.limit, reset_at: err.resetAt.toISOString() },
      { ...rateLimitHeaders(err.info), "Retry-After": String(retryAfter) },
    );
  }
  if (err instanceof InsufficientBalanceError) {
    // Amounts as decimal USD strings, like `usage.cost.amount` in the success envelope.
    return new ApiError("insufficient_balance", err.message, {
      required: formatMicrosUsd(err.requiredMicros),
      available: formatMicrosUsd(err.availableMicros),
      currency: "USD",
    });
  }
  if (err instanceof IdempotencyConflictError) {
    return new ApiError(
      "idempotency_conflict",
      err.message,
      { reason: err.reason },
      err.reason === "in_progress" ? { "Retry-After": "1" } : undefined,
    );
  }
  return new ApiError("internal_error", "Internal error.");
}

/** The one error handler: our error, a framework HTTPException, or anything else. */
export function onError(err: Error, c: Context<AppEnv>): Response {
  if (err instanceof ClientGoneError || isClientAbort(err, c)) {
    // Recorded as 499 with no error code: the client's doing, not an internal error.
    (c.get("logger") ?? console).info("client closed the connection before it was answered");
    return c.body(null, CLIENT_CLOSED_STATUS as 200);
  }
  let apiError: ApiError;
  if (err instanceof ApiError) apiError = err;
  else if (err instanceof DomainError) apiError = toApiError(err);
  else if (err instanceof HTTPException) apiError = fromHttpException(err);
  else {
    apiError = new ApiError(
      "internal_error",
      "Internal error. Quote the request id when contacting support.",
    );
  }
  if (apiError.code === "internal_error") {
    (c.get("logger") ?? console).error({ err }, "unhandled error");
  }
  return renderError(c, apiError);
}

/**
 * Render an ApiError in the wire format of the route: OpenAI's error object on the OpenAI chat
 * route, Anthropic's on the Messages route (so their SDKs raise the right class), else a failed
 * Portal envelope, with its status and headers.
 */
export function renderError(c: Context<AppEnv>, apiError: ApiError): Response {
  c.set("errorCode", apiError.code);
  const vendor = vendorOf(c);
  if (vendor) {
    const rendered =
      vendor === "openai"
        ? renderOpenAIError(apiError)
        : renderAnthropicError(apiError, { requestId: c.get("requestId") });
    return c.json(rendered.body, rendered.status as 400, rendered.headers);
  }
  const body: ErrorBody = { code: apiError.code, message: apiError.message };
  if (apiError.details) body.details = apiError.details;
  const envelope = failedEnvelope(
    {
      requestId: c.get("requestId"),
      model: c.get("modelAlias") ?? null,
      routerPool: c.get("routerPool") ?? null,
    },
    body,
  );
  return c.json(envelope, apiError.status as 400, apiError.headers);
}

function vendorOf(c: Context<AppEnv>): "openai" | "anthropic" | null {
  const path = c.req.path;
  if (path === "/v1/chat/completions" || path === "/v1/chat/completions/") return "openai";
  if (path === "/v1/messages" || path.startsWith("/v1/messages/")) return "anthropic";
  // The models routes serve both SDKs; Anthropic's always sends `anthropic-version`.
  if (
    (path === "/v1/models" || path.startsWith("/v1/models/")) &&
    c.req.header("anthropic-version")
  )
    return "anthropic";
  return null;
}

function fromHttpException(err: HTTPException): ApiError {
  if (err.status === 413)
    return new ApiError("payload_too_large", err.message || "Request body too large.");
  if (err.status === 404) return new ApiError("not_found", "Not found.");
  if (err.status === 401) return new ApiError("unauthorized", err.message || "Unauthorized.");
  if (err.status >= 400 && err.status < 500)
    return new ApiError("invalid_request", err.message || "Bad request.");
  return new ApiError("internal_error", "Internal error.");
}
