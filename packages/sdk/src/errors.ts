import type { ErrorBody, ErrorCode } from "./types.js";

/** Any failure answered by the gateway, typed by its catalogue code. */
export class PortalError extends Error {
  readonly code: ErrorCode | "connection_error";
  readonly status: number | null;
  readonly requestId: string | null;
  readonly details: Record<string, unknown> | undefined;
  /** Seconds the gateway asked us to wait (Retry-After), when it did. */
  readonly retryAfter: number | null;

  constructor(args: {
    code: ErrorCode | "connection_error";
    message: string;
    status: number | null;
    requestId: string | null;
    details?: Record<string, unknown> | undefined;
    retryAfter?: number | null;
  }) {
    super(args.message);
    this.name = new.target.name;
    this.code = args.code;
    this.status = args.status;
    this.requestId = args.requestId;
    this.details = args.details;
    this.retryAfter = args.retryAfter ?? null;
  }
}

/** Missing, malformed, unknown, revoked or expired key. */
export class AuthenticationError extends PortalError {}
/** Key or account disabled, or the model is not in the plan. */
export class PermissionDeniedError extends PortalError {}
export class NotFoundError extends PortalError {}
export class InvalidRequestError extends PortalError {}
export class ConflictError extends PortalError {}
export class InsufficientBalanceError extends PortalError {}
/** A per-key or per-org window is full (`rate_limited`) or the weekly allowance is used (`quota_exceeded`). */
export class RateLimitError extends PortalError {}
/** No router available, a router failure, or a router timeout. */
export class UpstreamError extends PortalError {}
export class InternalServerError extends PortalError {}
/** The gateway could not be reached at all. */
export class ConnectionError extends PortalError {}

const CLASS_BY_CODE: Record<
  ErrorCode,
  new (
    args: ConstructorParameters<typeof PortalError>[0],
  ) => PortalError
> = {
  invalid_request: InvalidRequestError,
  invalid_json: InvalidRequestError,
  payload_too_large: InvalidRequestError,
  unauthorized: AuthenticationError,
  key_revoked: AuthenticationError,
  key_expired: AuthenticationError,
  account_disabled: PermissionDeniedError,
  forbidden: PermissionDeniedError,
  model_not_allowed: PermissionDeniedError,
  model_not_found: NotFoundError,
  not_found: NotFoundError,
  idempotency_conflict: ConflictError,
  conflict: ConflictError,
  insufficient_balance: InsufficientBalanceError,
  rate_limited: RateLimitError,
  quota_exceeded: RateLimitError,
  pool_unavailable: UpstreamError,
  upstream_error: UpstreamError,
  upstream_timeout: UpstreamError,
  internal_error: InternalServerError,
};

/** True for a code of the gateway's error catalogue. */
export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(CLASS_BY_CODE, code);
}

/** Build the typed error for a failed envelope. */
export function errorFromEnvelope(
  body: ErrorBody,
  status: number,
  requestId: string | null,
  retryAfter: number | null,
): PortalError {
  const Ctor = CLASS_BY_CODE[body.code] ?? PortalError;
  return new Ctor({
    code: body.code,
    message: body.message,
    status,
    requestId,
    details: body.details,
    retryAfter,
  });
}
