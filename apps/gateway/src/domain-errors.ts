/**
 * Typed errors thrown by services. They know nothing of HTTP; `toApiError` in the route layer
 * maps them to the catalogue.
 */
export class DomainError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export class ModelNotFoundError extends DomainError {
  constructor(readonly alias: string) {
    super(`Model '${alias}' does not exist. GET /v1/models lists the models you can use.`);
  }
}

export class ModelNotAllowedError extends DomainError {
  constructor(readonly alias: string) {
    super(`Your plan does not include model '${alias}'.`);
  }
}

export class InvalidCompletionError extends DomainError {
  constructor(
    message: string,
    readonly details: Record<string, unknown>,
  ) {
    super(message);
  }
}

export class NoHealthyTargetError extends DomainError {
  constructor(readonly pool: string) {
    super(`No router is available for this model right now. Please retry shortly.`);
  }
}

/** The client closed the connection while its completion was running; the upstream was aborted. */
export class ClientGoneError extends DomainError {
  constructor() {
    super("The client closed the connection before the completion finished.");
  }
}

export class UpstreamFailedError extends DomainError {
  constructor(
    message: string,
    /** Internal detail for logs only; never sent to customers. */
    readonly internal: Record<string, unknown>,
  ) {
    super(message);
  }
}

export class UpstreamTimeoutError extends DomainError {
  /**
   * `timeoutMs`: the bound that ran out. `byRouter`: the router itself gave up (its task
   * deadline, the request's own `timeout`), rather than the gateway's upstream deadline.
   */
  constructor(
    readonly timeoutMs: number,
    byRouter = false,
  ) {
    super(
      byRouter
        ? `The model did not answer within the request's timeout of ${Math.round(timeoutMs / 1000)} s.`
        : `The model did not answer within ${Math.round(timeoutMs / 1000)} s.`,
    );
  }
}

/** Headers describing the limit that constrains a request (X-RateLimit-*). */
export interface RateLimitInfo {
  limit: number;
  remaining: number;
  /** Epoch seconds. */
  reset: number;
}

/** A per-key or per-org window (or the key's concurrency) is full. */
export class RateLimitedError extends DomainError {
  constructor(
    readonly scope: string,
    readonly limit: number,
    readonly retryAfterSeconds: number,
    readonly info: RateLimitInfo,
  ) {
    super(
      scope === "key_concurrency"
        ? `Too many concurrent requests for this key (limit ${limit}). Retry when one finishes.`
        : `Rate limit exceeded (${scope}: ${limit}). Retry in ${retryAfterSeconds} s.`,
    );
  }
}

/** The plan's weekly allowance is used up. */
export class QuotaExceededError extends DomainError {
  constructor(
    readonly limit: number,
    readonly resetAt: Date,
    readonly info: RateLimitInfo,
  ) {
    super(
      `Your plan's weekly allowance of ${limit} requests is used up; it resets at ${resetAt.toISOString()}.`,
    );
  }
}

/** The prepaid balance cannot cover the request's reservation. Amounts in micro-USD. */
export class InsufficientBalanceError extends DomainError {
  constructor(
    readonly requiredMicros: bigint,
    readonly availableMicros: bigint,
  ) {
    super("Your prepaid balance does not cover this request. Add credits in the Portal.");
  }
}

/** The Idempotency-Key was used with another body, or its first request is still running. */
export class IdempotencyConflictError extends DomainError {
  constructor(readonly reason: "body_mismatch" | "in_progress") {
    super(
      reason === "body_mismatch"
        ? "This Idempotency-Key was already used with a different request (another body, or another route)."
        : "A request with this Idempotency-Key is still in progress. Retry shortly.",
    );
  }
}
