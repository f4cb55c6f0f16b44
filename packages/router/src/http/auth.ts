import type { MiddlewareHandler } from "hono";
import type { RouterEnv } from "./env.js";
import { RouterApiError } from "./errors.js";

const PUBLIC_PATHS = new Set(["/api/v1/ping", "/api/v1/about", "/api/v3/offchain/result"]);
/**
 * Route families with their own access control instead of the router key: trial (quota per IP),
 * x402 (payment), A2A discovery (public), payload-key issuance (wallet signature).
 */
const PUBLIC_PREFIXES = [
  "/api/v1/trial/",
  "/api/v2/trial/",
  "/api/v1/x402/",
  "/api/v2/x402/",
  "/.well-known/",
  "/api/v1/a2a/",
  "/api/v1/auth/payload_enc_key/",
];

/** True for routes that do not take the router key (they authenticate otherwise, or are public). */
export function isPublicPath(path: string): boolean {
  return PUBLIC_PATHS.has(path) || PUBLIC_PREFIXES.some((p) => path.startsWith(p));
}

/** Extract the token of an `Authorization: Bearer <token>` header. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer[ ]+([^\s]+)\s*$/i.exec(header ?? "");
  return m?.[1];
}

/** Bearer auth on every route except ping and about. */
export const requireApiKey: MiddlewareHandler<RouterEnv> = async (c, next) => {
  if (isPublicPath(c.req.path)) return next();
  const header = c.req.header("authorization");
  const token = bearerToken(header);
  if (token === undefined) {
    throw new RouterApiError(
      "unauthorized",
      header === undefined
        ? "missing Authorization: Bearer header"
        : "malformed Authorization header",
    );
  }
  if (!c.get("core").verifyApiKey(token))
    throw new RouterApiError("unauthorized", "invalid API key");
  return next();
};
