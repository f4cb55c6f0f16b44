import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { createMiddleware } from "hono/factory";
import { ApiError } from "../errors.js";
import type { AppEnv } from "../types.js";

export const SESSION_COOKIE = "portal_session";
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

/**
 * Cookies are `Secure` unless the request is plain HTTP to a loopback host (local development):
 * a non-loopback HTTP deployment then simply cannot keep a session, which is the safe failure.
 */
export function cookieIsSecure(c: Context): boolean {
  const url = new URL(c.req.url);
  const proto =
    c.req.header("x-forwarded-proto")?.split(",")[0]?.trim() ?? url.protocol.replace(":", "");
  if (proto === "https") return true;
  return !LOOPBACK.has(url.hostname);
}

/** Set the session cookie: httpOnly (scripts never see it), SameSite=Lax, Secure per above. */
export function setSessionCookie(c: Context, token: string, maxAgeSeconds: number): void {
  setCookie(c, SESSION_COOKIE, token, {
    path: "/",
    httpOnly: true,
    sameSite: "Lax",
    secure: cookieIsSecure(c),
    maxAge: maxAgeSeconds,
  });
}

export function clearSessionCookie(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, { path: "/", secure: cookieIsSecure(c) });
}

/**
 * Authenticate a portal user: the session cookie (a signed JWT naming a live session row) or,
 * when an identity provider is configured, `Authorization: Bearer <IdP JWT>`.
 *
 * CSRF: cookie-authenticated POST/PUT/PATCH/DELETE must carry `X-CSRF-Token`, an HMAC of the
 * session id handed to the web app in JSON responses. A cross-site page can make the browser
 * send the cookie but can neither read that token nor set a custom header without a CORS
 * preflight we never grant; SameSite=Lax is a second, independent barrier. Bearer requests
 * need no token because browsers never attach bearer headers on their own.
 */
export const portalAuth = createMiddleware<AppEnv>(async (c, next) => {
  const auth = c.get("services").auth;
  const header = c.req.header("authorization");
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match?.[1] || !auth.oidc) {
      throw new ApiError("unauthorized", "Bearer tokens are not accepted here; sign in instead.");
    }
    const user = await auth.fromOidcToken(match[1], c.get("requestId"));
    if (!user) throw new ApiError("unauthorized", "The identity token is invalid or expired.");
    c.set("portalUser", user);
    return next();
  }
  const token = getCookie(c, SESSION_COOKIE);
  const user = token ? await auth.fromSessionToken(token) : null;
  if (!user) throw new ApiError("unauthorized", "Sign in to continue.");
  if (!SAFE_METHODS.has(c.req.method) && user.sessionId) {
    if (!auth.tokens.checkCsrf(user.sessionId, c.req.header("x-csrf-token"))) {
      throw new ApiError("forbidden", "Missing or wrong X-CSRF-Token header.");
    }
  }
  c.set("portalUser", user);
  await next();
});

/**
 * Sign-in and sign-up run before there is a session, so they cannot use the session token. They
 * require a JSON content type (HTML forms cannot send one cross-site without a preflight) and,
 * when the browser sends Origin, the same origin as the request — so no other site can sign a
 * visitor into an account of the attacker's choosing.
 */
export const preSessionGuard = createMiddleware<AppEnv>(async (c, next) => {
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/json\b/i.test(type)) {
    throw new ApiError("invalid_request", "Send the body as application/json.");
  }
  const origin = c.req.header("origin");
  if (origin && origin !== "null") {
    const host = c.req.header("x-forwarded-host") ?? c.req.header("host");
    let originHost: string | null = null;
    try {
      originHost = new URL(origin).host;
    } catch {
      originHost = null;
    }
    if (!host || originHost !== host) {
      throw new ApiError("forbidden", "Cross-origin sign-in is not allowed.");
    }
  } else if (origin === "null") {
    throw new ApiError("forbidden", "Cross-origin sign-in is not allowed.");
  }
  await next();
});

/** Operators only; everyone else is told the route does not exist. */
export const operatorOnly = createMiddleware<AppEnv>(async (c, next) => {
  const user = c.get("portalUser");
  if (!user?.isOperator) throw new ApiError("not_found", `No route ${c.req.method} ${c.req.path}.`);
  await next();
});
