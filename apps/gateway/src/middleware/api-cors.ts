import type { MiddlewareHandler } from "hono";

/** Our response headers a browser page may read. */
const EXPOSE = [
  "X-Request-Id",
  "request-id",
  "X-Portal-Overhead-Ms",
  "X-RateLimit-Limit",
  "X-RateLimit-Remaining",
  "X-RateLimit-Reset",
  "Retry-After",
  "Idempotent-Replayed",
  "x-should-retry",
].join(",");

/**
 * CORS for the customer API: a page on any origin may call it (the vendors' SDKs allow browser
 * use), without credentials (API keys travel in headers, never cookies). Preflights are answered
 * here, before the key check, reflecting the headers the SDK asks for.
 *
 * Hand-written rather than hono/cors: that middleware sets its headers on `c.res` before the
 * handler runs, which makes @hono/node-server build a full web Response for every request and
 * then copy its headers into the real one (~20 KB and ~100 µs per request in bench:cost). Here
 * the headers are prepared with `c.header()` (applied when the response is built), and only for
 * requests that carry an `Origin` (browsers always send it cross-origin; server-to-server calls
 * never do, so the hot path pays one header lookup).
 */
export const apiCors: MiddlewareHandler = async (c, next) => {
  if (c.req.method === "OPTIONS") {
    return c.body(null, 204, {
      "Access-Control-Allow-Origin": "*",
      "Access-Control-Allow-Methods": "GET,POST,OPTIONS",
      "Access-Control-Allow-Headers": c.req.header("access-control-request-headers") ?? "",
      "Access-Control-Max-Age": "600",
    });
  }
  if (c.req.header("origin") !== undefined) {
    c.header("Access-Control-Allow-Origin", "*");
    c.header("Access-Control-Expose-Headers", EXPOSE);
  }
  await next();
};
