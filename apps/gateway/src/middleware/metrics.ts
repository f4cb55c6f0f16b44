import { createMiddleware } from "hono/factory";
import { routeLabel } from "../services/metrics/metrics.js";
import type { AppEnv } from "../types.js";
import { whenAnswered } from "./answered.js";

/**
 * Count every request and observe its latency and the gateway's own overhead. A stream is
 * observed when it is over (its whole duration, its router time excluded from the overhead), as
 * its request log row is.
 */
export const recordMetrics = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  whenAnswered(c, ({ latencyMs, upstreamMs }) => {
    const metrics = c.get("services").metrics;
    const route = routeLabel(c.req.path);
    const seconds = latencyMs / 1000;
    metrics.requests.inc({ route, method: c.req.method, status: String(c.res.status) });
    metrics.latency.observe({ route }, seconds);
    metrics.overhead.observe({ route }, Math.max(0, seconds - upstreamMs / 1000));
  });
});
