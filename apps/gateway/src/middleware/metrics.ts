import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { routeLabel } from "../services/metrics/metrics.js";
import type { StreamEnd } from "../services/streaming/serve-stream.js";
import type { AppEnv } from "../types.js";

/**
 * Count every request and observe its latency and the gateway's own overhead. A stream is
 * observed when it is over (its whole duration, its router time excluded from the overhead), as
 * its request log row is.
 */
export const recordMetrics = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  const streamEnd = c.get("streamEnd");
  if (streamEnd) {
    void streamEnd.then((end) => observe(c, end));
    return;
  }
  observe(c, null);
});

function observe(c: Context<AppEnv>, end: StreamEnd | null): void {
  const metrics = c.get("services").metrics;
  const route = routeLabel(c.req.path);
  const seconds = (performance.now() - c.get("receivedAt")) / 1000;
  const upstreamMs = end?.upstreamMs ?? c.get("upstreamMs") ?? 0;
  metrics.requests.inc({ route, method: c.req.method, status: String(c.res.status) });
  metrics.latency.observe({ route }, seconds);
  metrics.overhead.observe({ route }, Math.max(0, seconds - upstreamMs / 1000));
}
