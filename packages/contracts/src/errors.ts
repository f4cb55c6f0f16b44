import { z } from "zod";

/** The closed list of error codes the gateway answers with (DESIGN §2). */
export const ErrorCode = z.enum([
  "invalid_request",
  "invalid_json",
  "payload_too_large",
  "unauthorized",
  "key_revoked",
  "key_expired",
  "account_disabled",
  "forbidden",
  "model_not_allowed",
  "model_not_found",
  "not_found",
  "idempotency_conflict",
  "conflict",
  "insufficient_balance",
  "rate_limited",
  "quota_exceeded",
  "pool_unavailable",
  "upstream_error",
  "upstream_timeout",
  "internal_error",
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

/** One mapping from error code to HTTP status; nothing else decides a failure's status. */
export const ERROR_HTTP_STATUS = {
  invalid_request: 400,
  invalid_json: 400,
  payload_too_large: 413,
  unauthorized: 401,
  key_revoked: 401,
  key_expired: 401,
  account_disabled: 403,
  /** Portal/admin API: signed in but the role does not allow it, or the CSRF token is missing. */
  forbidden: 403,
  model_not_allowed: 403,
  model_not_found: 404,
  not_found: 404,
  idempotency_conflict: 409,
  /** Portal/admin API: the resource already exists (email taken, alias in use). */
  conflict: 409,
  insufficient_balance: 402,
  rate_limited: 429,
  quota_exceeded: 429,
  pool_unavailable: 503,
  upstream_error: 502,
  upstream_timeout: 504,
  internal_error: 500,
} as const satisfies Record<ErrorCode, number>;

export type ErrorHttpStatus = (typeof ERROR_HTTP_STATUS)[ErrorCode];

/** The `error` member of a failed envelope. */
export const ErrorBody = z
  .object({
    code: ErrorCode,
    message: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
  })
  .meta({
    id: "ErrorBody",
    example: {
      code: "unauthorized",
      message: "Missing API key. Send 'Authorization: Bearer cx_live_…'.",
    },
  });
export type ErrorBody = z.infer<typeof ErrorBody>;
