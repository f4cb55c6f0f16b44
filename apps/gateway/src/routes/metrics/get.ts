import { timingSafeEqual } from "node:crypto";
import { getConnInfo } from "@hono/node-server/conninfo";
import { Hono } from "hono";
import { ApiError } from "../../errors.js";
import type { AppEnv } from "../../types.js";

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function isLoopback(address: string | undefined): boolean {
  return address === "127.0.0.1" || address === "::1" || address === "::ffff:127.0.0.1";
}

/**
 * GET /metrics (Prometheus text). With METRICS_TOKEN set: `Authorization: Bearer <token>`.
 * Without it: open to loopback clients only, and not served at all in production (a reverse
 * proxy on the same host would otherwise make it public).
 */
export const metricsRoute = new Hono<AppEnv>().get("/", async (c) => {
  const services = c.get("services");
  const token = services.config.metricsToken;
  if (token) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header("authorization") ?? "");
    if (!match?.[1] || !sameToken(match[1], token)) {
      throw new ApiError(
        "unauthorized",
        "GET /metrics needs 'Authorization: Bearer <METRICS_TOKEN>'.",
      );
    }
  } else {
    if (services.config.production) throw new ApiError("not_found", "No route GET /metrics.");
    let remote: string | undefined;
    try {
      remote = getConnInfo(c).remote.address;
    } catch {
      remote = undefined;
    }
    if (!isLoopback(remote)) {
      throw new ApiError("unauthorized", "GET /metrics is served to loopback clients only.");
    }
  }
  const registry = services.metrics.registry;
  return c.body(await registry.metrics(), 200, { "Content-Type": registry.contentType });
});
