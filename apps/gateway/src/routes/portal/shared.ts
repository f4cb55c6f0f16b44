import { fastBodyLimit } from "@portal/router/body-limit";
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { ApiError, refuseEncodedBody } from "../../errors.js";
import { isStorableText, scrubText } from "../../lib/storable-text.js";
import { onError, renderError } from "../../middleware/error-handler.js";
import type { ActorContext, OrgContext } from "../../services/portal/context.js";
import {
  ConflictError,
  InvalidCredentialsError,
  LoginThrottledError,
  PermissionDeniedError,
  ResourceNotFoundError,
  RuleViolationError,
} from "../../services/portal/errors.js";
import type { AppEnv } from "../../types.js";

/** Error handler of the portal and admin APIs: their domain errors, then the gateway's. */
export function portalOnError(err: Error, c: Context<AppEnv>): Response {
  if (err instanceof ResourceNotFoundError) {
    return renderError(c, new ApiError("not_found", err.message, { resource: err.resource }));
  }
  if (err instanceof PermissionDeniedError) {
    return renderError(c, new ApiError("forbidden", err.message));
  }
  if (err instanceof ConflictError) return renderError(c, new ApiError("conflict", err.message));
  if (err instanceof RuleViolationError) {
    return renderError(c, new ApiError("invalid_request", err.message, err.details));
  }
  if (err instanceof InvalidCredentialsError) {
    return renderError(c, new ApiError("unauthorized", err.message));
  }
  if (err instanceof LoginThrottledError) {
    return renderError(
      c,
      new ApiError(
        "rate_limited",
        err.message,
        { scope: "login", retry_after: err.retryAfterSeconds },
        { "Retry-After": String(err.retryAfterSeconds) },
      ),
    );
  }
  return onError(err, c);
}

/** Portal/admin request bodies are small; 64 KiB is plenty (templates included). */
export const smallBody = fastBodyLimit({
  maxSize: 64 * 1024,
  onError: () => {
    throw new ApiError("payload_too_large", "The request body exceeds 64 KiB.");
  },
  onEncoded: refuseEncodedBody,
});

/** The signed-in actor (the auth middleware guarantees one). */
export function actor(c: Context<AppEnv>, kind: "user" | "operator" = "user"): ActorContext {
  const user = c.get("portalUser");
  if (!user) throw new ApiError("unauthorized", "Sign in to continue.");
  return { userId: user.id, kind, requestId: c.get("requestId") };
}

/** Our ids (`org_01J…`), plan ids and slugs: anything else cannot name a resource. */
const ID_PARAM = /^[A-Za-z0-9_-]{1,128}$/;

/** The actor inside the org named by the `:orgId` path parameter. */
export function orgActor(c: Context<AppEnv>): OrgContext {
  const orgId = c.req.param("orgId");
  if (!orgId || !ID_PARAM.test(orgId)) throw new ApiError("not_found", "No such organization.");
  return { ...actor(c), orgId };
}

/**
 * An id path parameter. One that no id could match is a 404 here, before it reaches a query
 * (a NUL byte in it would otherwise be a database error).
 */
export function param(c: Context<AppEnv>, name: string): string {
  const value = c.req.param(name);
  if (!value) throw new ApiError("not_found", `Missing ${name}.`);
  if (!ID_PARAM.test(value)) throw new ApiError("not_found", `No resource with that ${name}.`);
  return value;
}

/** Refuse query strings Postgres could not compare against (NUL, unpaired surrogates). */
export const storableQuery = createMiddleware<AppEnv>(async (c, next) => {
  for (const [name, values] of Object.entries(c.req.queries())) {
    for (const value of values) {
      if (!isStorableText(name) || !isStorableText(value)) {
        throw new ApiError(
          "invalid_request",
          `Query parameter '${scrubText(name)}' must not contain NUL characters or unpaired UTF-16 surrogates.`,
          { field: scrubText(name) },
        );
      }
    }
  }
  await next();
});
