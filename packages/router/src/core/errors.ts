/** Base class of the router core's domain errors; the route layer maps them to error codes. */
export class RouterDomainError extends Error {
  constructor(
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The request names no session and the router has no default session. */
export class MissingSessionError extends RouterDomainError {}
/** The named session does not exist. */
export class SessionNotFoundError extends RouterDomainError {}
/** A session with that id already exists. */
export class SessionConflictError extends RouterDomainError {}
/** The named task does not exist (or was evicted by retention). */
export class TaskNotFoundError extends RouterDomainError {}
/** The input is well-formed but unacceptable (timeouts, context length, …). */
export class InvalidTaskInputError extends RouterDomainError {}
/** No connected miner can take the task right now. */
export class NoMinersAvailableError extends RouterDomainError {}
/**
 * The node is draining (shutting down): it takes no new tasks. A subclass of
 * NoMinersAvailableError so it answers 503 `no_miners_available`, which callers (the gateway)
 * treat as "not accepted, try another router".
 */
export class RouterDrainingError extends NoMinersAvailableError {}
/** The task did not finish within its timeout. */
export class TaskTimeoutError extends RouterDomainError {}
/** Every miner that tried the task failed. */
export class TaskFailedError extends RouterDomainError {}
/** A v3 replica tier was asked for that has no configured session pool. */
export class MissingV3SessionPoolError extends RouterDomainError {}
/** A feature the request needs is switched off or not configured (route answers 404). */
export class FeatureDisabledError extends RouterDomainError {}
/** A signature is missing, malformed or does not verify. */
export class InvalidSignatureError extends RouterDomainError {}
/** The signer is known but not allowed to do this. */
export class ForbiddenError extends RouterDomainError {}
/** The same signed request was presented twice. */
export class ReplayError extends RouterDomainError {}
/** The client IP spent its trial quota. */
export class TrialQuotaExceededError extends RouterDomainError {
  constructor(
    message: string,
    readonly retryAfterS: number,
    details?: Record<string, unknown>,
  ) {
    super(message, details);
  }
}
/** Realtime factcheck was asked for but no evidence provider is configured. */
export class RealtimeEvidenceUnavailableError extends RouterDomainError {}
/** The request conflicts with the task's state (e.g. a result for a task that is not waiting). */
export class TaskConflictError extends RouterDomainError {}
/**
 * Web fetch refused a URL before fetching it (scheme, credentials, host not on the allowlist,
 * private address, too many URLs): the caller's input, so 400 `invalid_request`.
 */
export class WebFetchRefusedError extends InvalidTaskInputError {}
/**
 * Web fetch tried an allowed URL and the upstream failed it (connect error, timeout, non-2xx,
 * too large, unsupported content type, too many redirects): 502 `web_fetch_failed`.
 */
export class WebFetchFailedError extends RouterDomainError {}
