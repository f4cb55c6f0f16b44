import {
  ROUTER_ERROR_HTTP_STATUS,
  type RouterErrorBody,
  type RouterErrorCode,
} from "@portal/contracts";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ZodError } from "zod";
import {
  FeatureDisabledError,
  ForbiddenError,
  InvalidSignatureError,
  InvalidTaskInputError,
  MissingSessionError,
  MissingV3SessionPoolError,
  NoMinersAvailableError,
  RealtimeEvidenceUnavailableError,
  ReplayError,
  RouterDomainError,
  SessionConflictError,
  SessionNotFoundError,
  TaskConflictError,
  TaskFailedError,
  TaskNotFoundError,
  TaskTimeoutError,
  TrialQuotaExceededError,
  WebFetchFailedError,
} from "../core/errors.js";
import { CLIENT_CLOSED_STATUS, isClientAbort } from "./client-abort.js";
import type { RouterEnv } from "./env.js";

/** The one API error class of the router app. */
export class RouterApiError extends Error {
  constructor(
    readonly code: RouterErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "RouterApiError";
  }
}

const DOMAIN_CODES: Array<[new (...args: never[]) => RouterDomainError, RouterErrorCode]> = [
  [MissingV3SessionPoolError, "missing_v3_session_pool"],
  [FeatureDisabledError, "not_found"],
  [InvalidSignatureError, "invalid_signature"],
  [ForbiddenError, "forbidden"],
  [ReplayError, "invalid_signature"],
  [TrialQuotaExceededError, "trial_quota_exceeded"],
  [RealtimeEvidenceUnavailableError, "realtime_evidence_unavailable"],
  [TaskConflictError, "conflict"],
  [WebFetchFailedError, "web_fetch_failed"],
];

/** Map a domain error to its router error code. */
export function apiErrorFromDomain(err: RouterDomainError): RouterApiError {
  for (const [cls, code] of DOMAIN_CODES) {
    if (err instanceof cls) return new RouterApiError(code, err.message, err.details);
  }
  const code: RouterErrorCode =
    err instanceof MissingSessionError
      ? "missing_session"
      : err instanceof SessionNotFoundError
        ? "session_not_found"
        : err instanceof TaskNotFoundError
          ? "task_not_found"
          : err instanceof NoMinersAvailableError
            ? "no_miners_available"
            : err instanceof TaskTimeoutError
              ? "task_timeout"
              : err instanceof TaskFailedError
                ? "task_failed"
                : err instanceof InvalidTaskInputError || err instanceof SessionConflictError
                  ? "invalid_request"
                  : "internal_error";
  return new RouterApiError(code, err.message, err.details);
}

/** `{ error: { code, message, details? } }` for a router error. */
export function errorBody(err: RouterApiError): RouterErrorBody {
  return {
    error: {
      code: err.code,
      message: err.message,
      ...(err.details !== undefined && { details: err.details }),
    },
  };
}

/** invalid_request with the zod issues (path + message) in details.issues. */
export function invalidRequest(error: ZodError, what = "request"): RouterApiError {
  return new RouterApiError("invalid_request", `invalid ${what}`, {
    issues: error.issues.map((i) => ({
      path: i.path.map(String).join("."),
      code: i.code,
      message: i.message,
    })),
  });
}

/** Answer an error as JSON with its mapped status. */
export function respondError(c: Context<RouterEnv>, err: RouterApiError): Response {
  const headers: Record<string, string> =
    err.code === "unauthorized" ? { "WWW-Authenticate": 'Bearer realm="router"' } : {};
  const retryAfter = err.details?.retry_after_s;
  if (err.code === "trial_quota_exceeded" && typeof retryAfter === "number") {
    headers["Retry-After"] = String(retryAfter);
  }
  return c.json(errorBody(err), ROUTER_ERROR_HTTP_STATUS[err.code], headers);
}

/** The app's onError: our error, a domain error, a framework exception, anything else. */
export function handleError(err: Error, c: Context<RouterEnv>): Response {
  if (isClientAbort(err, c)) {
    // The client hung up mid-body: nobody to answer, and not a router failure.
    c.get("core").logger.debug({ path: c.req.path }, "client closed the connection mid-request");
    return c.body(null, CLIENT_CLOSED_STATUS as 200);
  }
  if (err instanceof RouterApiError) return respondError(c, err);
  if (err instanceof RouterDomainError) return respondError(c, apiErrorFromDomain(err));
  if (err instanceof HTTPException && err.status < 500) {
    return respondError(c, new RouterApiError("invalid_request", err.message));
  }
  c.get("core").logger.error({ err, path: c.req.path }, "unhandled router error");
  return respondError(c, new RouterApiError("internal_error", "internal error"));
}

/** A request node-server could not read (see createFetchServer), in the router's error body. */
export function malformedRequestResponse(malformed: boolean): Response {
  const err = malformed
    ? new RouterApiError(
        "invalid_request",
        "malformed request: its target or Host header cannot be read",
      )
    : new RouterApiError("internal_error", "internal error");
  return new Response(JSON.stringify(errorBody(err)), {
    status: ROUTER_ERROR_HTTP_STATUS[err.code],
    headers: { "content-type": "application/json" },
  });
}
