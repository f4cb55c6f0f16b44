import { newId } from "@portal/contracts";
import { createMiddleware } from "hono/factory";
import type { Services } from "../services/services.js";
import type { AppEnv } from "../types.js";

/** First middleware: request id, child logger, services; `X-Request-Id` and overhead headers. */
export function requestContext(services: Services) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const requestId = newId("req");
    const receivedAt = performance.now();
    c.set("requestId", requestId);
    c.set("receivedAt", receivedAt);
    c.set("services", services);
    c.set("logger", services.logger.child({ requestId }));
    await next();
    const elapsed = performance.now() - receivedAt;
    c.res.headers.set("X-Request-Id", requestId);
    c.res.headers.set("X-Portal-Overhead-Ms", (elapsed - (c.get("upstreamMs") ?? 0)).toFixed(2));
  });
}
