import { randomBytes } from "node:crypto";
import type { Database } from "@portal/db";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { type LoginThrottle, MemoryLoginThrottle } from "./login-throttle.js";
import { type OidcConfig, OidcVerifier } from "./oidc.js";
import { PortalAuth } from "./portal-auth.js";
import { RedisLoginThrottle } from "./redis-login-throttle.js";
import { SessionTokens } from "./session-tokens.js";

export interface PortalAuthOptions {
  /** HMAC key for session JWTs (≥ 32 bytes). */
  sessionSecret: Uint8Array;
  sessionTtlSeconds: number;
  /** External identity provider whose bearer JWTs are accepted; null = password sign-in only. */
  oidc: OidcConfig | null;
  /** Failed sign-ins allowed per email + IP within the window. */
  loginMaxFailures: number;
  loginWindowMs: number;
}

/** Defaults for tests and tools that do not care: a random secret, no IdP. */
export function defaultPortalAuthOptions(): PortalAuthOptions {
  return {
    sessionSecret: randomBytes(32),
    sessionTtlSeconds: 7 * 86_400,
    oidc: null,
    loginMaxFailures: 5,
    loginWindowMs: 15 * 60_000,
  };
}

/**
 * Wire sign-in, sessions, throttling and the optional OIDC verifier. With Redis the login
 * throttle is shared by every gateway instance; without it, it counts in this process.
 */
export function buildPortalAuth(
  db: Database,
  opts: PortalAuthOptions,
  shared?: { redis: Redis; logger: Logger },
): PortalAuth {
  const limits = { maxFailures: opts.loginMaxFailures, windowMs: opts.loginWindowMs };
  const throttle: LoginThrottle = shared
    ? new RedisLoginThrottle(shared.redis, limits, shared.logger)
    : new MemoryLoginThrottle(limits);
  return new PortalAuth(
    db,
    new SessionTokens(opts.sessionSecret, opts.sessionTtlSeconds),
    throttle,
    opts.oidc ? new OidcVerifier(opts.oidc) : null,
  );
}
